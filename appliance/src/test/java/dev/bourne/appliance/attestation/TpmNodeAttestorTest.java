package dev.bourne.appliance.attestation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bourne.appliance.datastore.AttestedNode;
import dev.bourne.appliance.datastore.NodeCertificate;
import dev.bourne.appliance.datastore.SqlDataStore;
import dev.bourne.appliance.datastore.TpmAkBinding;
import dev.bourne.appliance.server.DataStoreTpmAkBindings;
import dev.bourne.appliance.server.DataStoreTpmEnrollments;
import dev.bourne.core.config.PluginConfig;
import dev.bourne.core.spiffeid.SpiffeId;
import dev.bourne.core.spiffeid.TrustDomain;
import dev.bourne.testing.tpm.Swtpm;
import dev.bourne.testing.tpm.WithSwtpm;
import dev.bourne.tpm.agent.AgentTpm;
import dev.bourne.tpm.agent.AgentTpmException;
import dev.bourne.tpm.agent.TpmAgentAttestor;
import dev.bourne.tpm.agent.TpmAgentSettings;
import dev.bourne.tpm.common.AttestationKeyCheck;
import dev.bourne.tpm.common.TpmHashAlg;
import dev.bourne.tpm.common.TpmPublic;
import dev.bourne.tpm.server.PcrPolicies;
import dev.bourne.tpm.server.TpmEnrollment;
import dev.bourne.tpm.server.TpmServerAttestor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tss.tpm.TPMT_HA;
import tss.tpm.TPM_ALG_ID;
import tss.tpm.TPM_HANDLE;

/**
 * The server's {@code tpm} node attestor over the engine, with swtpm as the node's TPM (driven by the agent half,
 * {@link TpmAgentAttestor}) and a real SQLite datastore holding enrolments and AK bindings: attestation binds the AK
 * and names the agent; renewals verify a fresh quote by that AK; a revoked enrolment, a missing binding and an
 * unreadable store refuse the renewal before any quote; PCR drift is DRIFT, evicting as {@code evict_on_drift} says.
 */
@WithSwtpm
class TpmNodeAttestorTest {
    private static final TrustDomain TD = TrustDomain.parse("example.org");
    private static final String ZERO = "00".repeat(32);
    /** PCR 16 after one extend with 32 zero bytes from its reset value (all zeros). */
    private static final String PCR16_EXTENDED = HexFormat.of().formatHex(TpmHashAlg.SHA256.digest(new byte[64]));

    private final Swtpm swtpm;
    @TempDir
    Path dir;
    private SqlDataStore store;
    private String ekHash;
    private byte[] agentAk;

    TpmNodeAttestorTest(Swtpm swtpm) {
        this.swtpm = swtpm;
    }

    @BeforeEach
    void open() throws Exception {
        swtpm.tpm().PCR_Reset(TPM_HANDLE.pcr(16));
        store = SqlDataStore.openSqlite(dir.resolve(SqlDataStore.SQLITE_FILE_NAME), Clock.systemUTC(),
                new SecureRandom());
        ekHash = withAgent(tpm -> tpm.endorsementKey().ekHash());
        agentAk = withAgent(AgentTpm::akPublic);
    }

    @AfterEach
    void close() {
        store.close();
        swtpm.tpm().PCR_Reset(TPM_HANDLE.pcr(16));
        swtpm.disconnect();
    }

    interface AgentCall<T> {
        T run(AgentTpm tpm) throws Exception;
    }

    private <T> T withAgent(AgentCall<T> call) throws Exception {
        swtpm.disconnect();
        try (AgentTpm tpm = AgentTpm.open(TpmAgentSettings.defaults("tcp://127.0.0.1:" + swtpm.dataPort()))) {
            return call.run(tpm);
        }
    }

    private TpmNodeAttestor attestor(Object... keyValues) throws Exception {
        Map<String, Object> data = new LinkedHashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            data.put((String) keyValues[i], keyValues[i + 1]);
        }
        DataStoreTpmEnrollments enrollments = new DataStoreTpmEnrollments(store);
        TpmServerAttestor engine = TpmServerAttestor.configure(new PluginConfig("server.conf", "NodeAttestor", "tpm",
                true, data), enrollments, Clock.systemUTC(), new SecureRandom()).orElseThrow();
        return new TpmNodeAttestor(TD, engine, enrollments, new DataStoreTpmAkBindings(store));
    }

    /** The zeros policy on PCR 16 (its reset value), so extending PCR 16 takes the node out of policy. */
    private TpmNodeAttestor withPcr16Policy(boolean evictOnDrift) throws Exception {
        return attestor("pcr_policies", Map.of("zeros", Map.of("16", List.of(ZERO))), "evict_on_drift",
                evictOnDrift);
    }

    private void enrol(Map<String, String> labels) throws Exception {
        store.createTpmEnrollment(new TpmEnrollment(ekHash, new TreeMap<>(labels), Optional.empty(), Optional.empty(),
                Instant.EPOCH, Optional.empty()));
    }

    private NodeAttestation attest(TpmNodeAttestor attestor) throws Exception {
        return withAgent(tpm -> {
            TpmAgentAttestor agent = new TpmAgentAttestor(tpm);
            return attestor.attest(agent.payload(), challenge -> {
                try {
                    return agent.answer(challenge);
                } catch (AgentTpmException e) {
                    throw new IllegalStateException(e);
                }
            });
        });
    }

    private byte[] evidence(byte[] challenge) throws Exception {
        return withAgent(tpm -> new TpmAgentAttestor(tpm).renewalEvidence(challenge));
    }

    private NodeAttestation renew(TpmNodeAttestor attestor, SpiffeId agentId) throws Exception {
        byte[] challenge = attestor.renewalChallenge(agentId).orElseThrow();
        return attestor.verifyRenewal(agentId, challenge, evidence(challenge));
    }

    private void extendPcr16() {
        swtpm.tpm().PCR_Extend(TPM_HANDLE.pcr(16), new TPMT_HA[] {new TPMT_HA(TPM_ALG_ID.SHA256, new byte[32])});
        swtpm.disconnect();
    }

    private static AttestationException refused(AttestationException.Reason reason, String message,
            org.junit.jupiter.api.function.Executable call) {
        AttestationException e = assertThrows(AttestationException.class, call);
        assertEquals(reason, e.reason(), e.getMessage());
        assertEquals(message, e.getMessage());
        return e;
    }

    private SpiffeId agentId() {
        return SpiffeId.parse("spiffe://example.org/spire/agent/tpm/" + ekHash);
    }

    @Test
    void attest_namesTheAgent_withSelectorsAndEvidence_andBindsTheAk() throws Exception {
        enrol(Map.of("rack", "r12"));
        NodeAttestation attested = attest(withPcr16Policy(false));

        assertEquals(agentId(), attested.agentId());
        assertEquals(List.of("pub_hash:" + ekHash, "label:rack:r12", "pcr_policy:zeros"), attested.selectorValues());
        assertTrue(attested.canReattest());
        TpmAkBinding binding = store.getTpmAkBinding(ekHash).orElseThrow();
        assertArrayEquals(agentAk, binding.akPublic());
        byte[] akName = TpmPublic.parse(agentAk).name();
        assertArrayEquals(akName, binding.akName());
        String evidence = attested.evidence();
        assertTrue(evidence.startsWith("ek_hash=" + ekHash + " trust=enrolled ak_name="
                + HexFormat.of().formatHex(akName) + " pcr_bank=sha256 pcrs=0,1,2,3,4,5,6,7,16 pcr_digest="),
                evidence);
        assertTrue(evidence.endsWith(" pcr_policies=zeros"), evidence);
        AttestationKeyCheck.check(TpmPublic.parse(binding.akPublic()));
    }

    @Test
    void attest_notEnrolled_rejected_nothingBound() throws Exception {
        refused(AttestationException.Reason.REJECTED, TpmServerAttestor.EK_NOT_ENROLLED, () -> attest(attestor()));
        assertEquals(Optional.empty(), store.getTpmAkBinding(ekHash));
    }

    @Test
    void attest_malformedPayload_invalidRequest() {
        AttestationException e = assertThrows(AttestationException.class,
                () -> attestor().attest(new byte[] {(byte) 0xff, 1, 2}, ChallengeChannel.none()));
        assertEquals(AttestationException.Reason.INVALID_REQUEST, e.reason());
    }

    @Test
    void renewal_freshQuoteByTheBoundAk_verifies_sameAgentAndSelectors() throws Exception {
        enrol(Map.of("rack", "r12"));
        TpmNodeAttestor attestor = withPcr16Policy(false);
        NodeAttestation first = attest(attestor);

        byte[] c1 = attestor.renewalChallenge(agentId()).orElseThrow();
        byte[] c2 = attestor.renewalChallenge(agentId()).orElseThrow();
        assertFalse(java.util.Arrays.equals(c1, c2), "a fresh nonce per renewal");
        NodeAttestation renewed = attestor.verifyRenewal(agentId(), c2, evidence(c2));
        assertEquals(first.agentId(), renewed.agentId());
        assertEquals(first.selectorValues(), renewed.selectorValues());
        assertTrue(renewed.evidence().contains(" trust=renewal "), renewed.evidence());
        // Evidence for another challenge (c1) does not answer c2.
        byte[] stale = evidence(c1);
        AttestationException e = assertThrows(AttestationException.class,
                () -> attestor.verifyRenewal(agentId(), c2, stale));
        assertEquals(AttestationException.Reason.REJECTED, e.reason());
        assertFalse(e.evictAgent());
    }

    @Test
    void renewal_revokedEnrolment_refusedBeforeAnyQuote_andAtVerification() throws Exception {
        enrol(Map.of());
        TpmNodeAttestor attestor = attestor();
        attest(attestor);
        byte[] issuedBefore = attestor.renewalChallenge(agentId()).orElseThrow();

        store.revokeTpmEnrollment(ekHash);
        AttestationException e = refused(AttestationException.Reason.REJECTED, TpmServerAttestor.ENROLLMENT_REVOKED,
                () -> attestor.renewalChallenge(agentId()));
        assertFalse(e.evictAgent());
        // A challenge issued just before the revocation is answered in vain.
        byte[] evidence = evidence(issuedBefore);
        refused(AttestationException.Reason.REJECTED, TpmServerAttestor.ENROLLMENT_REVOKED,
                () -> attestor.verifyRenewal(agentId(), issuedBefore, evidence));
    }

    @Test
    void renewal_caTrust_noEnrolmentNeeded_butARevokedOneStillRefuses() throws Exception {
        TpmNodeAttestor attestor = attestor("ek_trust", "ca", "ek_ca_paths", List.of(caDir().toString()));
        NodeAttestation first = attest(attestor);
        assertTrue(first.evidence().contains(" trust=ca "), first.evidence());
        assertEquals(List.of("pub_hash:" + ekHash), renew(attestor, agentId()).selectorValues());

        enrol(Map.of());
        store.revokeTpmEnrollment(ekHash);
        refused(AttestationException.Reason.REJECTED, TpmServerAttestor.ENROLLMENT_REVOKED,
                () -> attestor.renewalChallenge(agentId()));
    }

    @Test
    void renewal_enrolledTrust_enrolmentGone_refused() throws Exception {
        // ek_trust "enrolled" with no enrolment: only reachable if the node attested under another mode before.
        attest(attestor("ek_trust", "either", "ek_ca_paths", List.of(caDir().toString())));
        refused(AttestationException.Reason.REJECTED, TpmServerAttestor.EK_NOT_ENROLLED,
                () -> attestor().renewalChallenge(agentId()));
    }

    private Path caDir() throws Exception {
        Path cas = Files.createDirectories(dir.resolve("ek-ca"));
        Files.write(cas.resolve("root.der"), swtpm.localCaCertificates().root().getEncoded());
        Files.write(cas.resolve("issuer.der"), swtpm.localCaCertificates().issuer().getEncoded());
        return cas;
    }

    @Test
    void renewal_pcrDrift_isDrift_withoutEviction_byDefault() throws Exception {
        enrol(Map.of());
        TpmNodeAttestor attestor = withPcr16Policy(false);
        attest(attestor);
        byte[] challenge = attestor.renewalChallenge(agentId()).orElseThrow();
        extendPcr16();
        byte[] evidence = evidence(challenge);
        AttestationException e = refused(AttestationException.Reason.DRIFT, PcrPolicies.NO_POLICY_MATCHED
                + ": zeros: PCR 16 = " + PCR16_EXTENDED, () -> attestor.verifyRenewal(agentId(), challenge, evidence));
        assertFalse(e.evictAgent());
    }

    @Test
    void renewal_pcrDrift_evictOnDrift_asksForEviction() throws Exception {
        enrol(Map.of());
        TpmNodeAttestor attestor = withPcr16Policy(true);
        attest(attestor);
        byte[] challenge = attestor.renewalChallenge(agentId()).orElseThrow();
        extendPcr16();
        byte[] evidence = evidence(challenge);
        AttestationException e = refused(AttestationException.Reason.DRIFT, PcrPolicies.NO_POLICY_MATCHED
                + ": zeros: PCR 16 = " + PCR16_EXTENDED, () -> attestor.verifyRenewal(agentId(), challenge, evidence));
        assertTrue(e.evictAgent());
    }

    @Test
    void renewal_noAkBound_refused_theAgentMustAttestAgain() throws Exception {
        enrol(Map.of());
        TpmNodeAttestor attestor = attestor();
        refused(AttestationException.Reason.REJECTED, TpmNodeAttestor.NOT_BOUND,
                () -> attestor.renewalChallenge(agentId()));

        // Bound by attestation; eviction (deleting the node) deletes the binding with it.
        NodeAttestation attested = attest(attestor);
        store.createNode(AttestedNode.attested(attested.agentId(), TpmNodeAttestor.NAME, new NodeCertificate("1",
                Instant.now().plusSeconds(600)), true, List.of()));
        store.deleteNode(attested.agentId());
        refused(AttestationException.Reason.REJECTED, TpmNodeAttestor.NOT_BOUND,
                () -> attestor.renewalChallenge(agentId()));
        // A binding removed between challenge and evidence refuses the evidence too.
        attest(attestor);
        byte[] challenge = attestor.renewalChallenge(agentId()).orElseThrow();
        store.deleteTpmAkBinding(ekHash);
        byte[] evidence = evidence(challenge);
        refused(AttestationException.Reason.REJECTED, TpmNodeAttestor.NOT_BOUND,
                () -> attestor.verifyRenewal(agentId(), challenge, evidence));
    }

    @Test
    void renewal_notATpmAgentId_refused() throws Exception {
        TpmNodeAttestor attestor = attestor();
        for (String id : List.of("spiffe://example.org/spire/agent/join_token/abc",
                "spiffe://example.org/spire/agent/tpm/not-a-hash",
                "spiffe://example.org/spire/agent/tpm/" + "a".repeat(64) + "/extra")) {
            refused(AttestationException.Reason.REJECTED, TpmNodeAttestor.AGENT_ID_NOT_TPM,
                    () -> attestor.renewalChallenge(SpiffeId.parse(id)));
        }
    }

    @Test
    void storeUnreadable_failsClosed_unavailable_neverEvicts() throws Exception {
        enrol(Map.of());
        TpmNodeAttestor attestor = attestor();
        attest(attestor);
        byte[] payload = withAgent(tpm -> new TpmAgentAttestor(tpm).payload());
        store.close();
        AttestationException e = refused(AttestationException.Reason.UNAVAILABLE,
                TpmNodeAttestor.BINDING_UNAVAILABLE, () -> attestor.renewalChallenge(agentId()));
        assertFalse(e.evictAgent());
        refused(AttestationException.Reason.UNAVAILABLE, TpmServerAttestor.ENROLLMENT_UNAVAILABLE,
                () -> attestor.attest(payload, ChallengeChannel.none()));
    }
}
