package dev.bourne.tpm.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.bourne.api.tpm.v1.TpmAttestationPayload;
import dev.bourne.api.tpm.v1.TpmChallenge;
import dev.bourne.api.tpm.v1.TpmChallengeResponse;
import dev.bourne.api.tpm.v1.TpmQuote;
import dev.bourne.core.config.PluginConfig;
import dev.bourne.testing.time.MutableClock;
import dev.bourne.testing.tpm.RealTpmData;
import dev.bourne.testing.tpm.Swtpm;
import dev.bourne.testing.tpm.WithSwtpm;
import dev.bourne.tpm.agent.AgentTpm;
import dev.bourne.tpm.agent.AgentTpmException;
import dev.bourne.tpm.agent.AkType;
import dev.bourne.tpm.agent.Quote;
import dev.bourne.tpm.agent.TpmAgentAttestor;
import dev.bourne.tpm.agent.TpmAgentSettings;
import dev.bourne.tpm.common.AttestationKeyCheck;
import dev.bourne.tpm.common.MakeCredential;
import dev.bourne.tpm.common.QuoteVerifier;
import dev.bourne.tpm.common.TpmPublic;
import dev.bourne.tpm.server.TpmAttestationException.Kind;
import dev.bourne.tpm.server.TpmEnrollments.EnrollmentLookupException;
import dev.bourne.tpm.server.TpmServerAttestor.Attested;
import dev.bourne.tpm.server.TpmServerAttestor.Pending;
import dev.bourne.tpm.server.TpmServerAttestor.RenewalPending;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tss.tpm.TPMT_HA;
import tss.tpm.TPM_ALG_ID;
import tss.tpm.TPM_HANDLE;

/**
 * The server engine end to end against swtpm as the agent's TPM (driven by the agent half, TpmAgentAttestor, and raw
 * TSS.Java where an attacker would deviate from it): every EK trust mode, RSA and ECC P-384 EKs, PCR policy,
 * continuous attestation, and one test per attack of issue 5, each refused with its exact message.
 */
@WithSwtpm
class TpmServerAttestorTest {

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final int SECOND_AK_HANDLE = 0x81010B0F;
    private static final String ZERO = "00".repeat(32);

    private final Swtpm swtpm;
    private final MutableClock clock = new MutableClock(Instant.now());
    private final Map<String, TpmEnrollment> enrolled = new HashMap<>();
    private final TpmEnrollments enrollments = hash -> Optional.ofNullable(enrolled.get(hash));
    private String ekHash;

    TpmServerAttestorTest(Swtpm swtpm) {
        this.swtpm = swtpm;
    }

    @BeforeEach
    void readEkHash() throws Exception {
        ekHash = withAgent(tpm -> tpm.endorsementKey().ekHash());
    }

    // -------------------------------------------------------------------------------------------------------------
    // Fixtures

    interface AgentCall<T> {
        T run(AgentTpm tpm) throws Exception;
    }

    private <T> T withAgent(AgentCall<T> call) throws Exception {
        return withAgent(TpmAgentSettings.defaults("tcp://127.0.0.1:" + swtpm.dataPort()), call);
    }

    private <T> T withAgent(TpmAgentSettings settings, AgentCall<T> call) throws Exception {
        swtpm.disconnect();
        try (AgentTpm tpm = AgentTpm.open(settings)) {
            return call.run(tpm);
        }
    }

    static TpmServerSettings settings(Object... keyValues) throws Exception {
        Map<String, Object> data = new LinkedHashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            data.put((String) keyValues[i], keyValues[i + 1]);
        }
        return TpmServerSettings.validate(new PluginConfig("server.conf", "NodeAttestor", "tpm", true, data))
                .orElseThrow();
    }

    private EkCaStore swtpmAndVendorCas() {
        List<X509Certificate> certificates = new ArrayList<>(vendorCas().certificates());
        certificates.add(swtpm.localCaCertificates().root());
        certificates.add(swtpm.localCaCertificates().issuer());
        return EkCaStore.of(certificates, clock);
    }

    private EkCaStore vendorCas() {
        return EkCaStore.load(List.of(RealTpmData.vendorEkCa()), clock);
    }

    private TpmServerAttestor server(TpmServerSettings settings, EkCaStore cas) {
        return new TpmServerAttestor(settings, cas, enrollments, clock, RANDOM);
    }

    private TpmServerAttestor enrolledServer() throws Exception {
        return server(settings(), EkCaStore.of(List.of(), clock));
    }

    private void enrol(String hash, Map<String, String> labels, Optional<String> policy, boolean revoked) {
        enrolled.put(hash, new TpmEnrollment(hash, new TreeMap<>(labels), policy, Optional.empty(), clock.instant(),
                revoked ? Optional.of(clock.instant()) : Optional.empty()));
    }

    private Attested attest(TpmServerAttestor server) throws Exception {
        return withAgent(tpm -> {
            TpmAgentAttestor agent = new TpmAgentAttestor(tpm);
            Pending pending = server.begin(agent.payload());
            return server.finish(pending, agent.answer(pending.challenge()));
        });
    }

    private static TpmAttestationException refused(Kind kind, String message, Executable call) {
        TpmAttestationException e = assertThrows(TpmAttestationException.class, call::run);
        assertEquals(message, e.getMessage());
        assertEquals(kind, e.kind());
        return e;
    }

    interface Executable {
        void run() throws Exception;
    }

    /** The agent's honest answer to a challenge, for attacks that alter one part of it. */
    private TpmChallengeResponse honestAnswer(Pending pending) throws Exception {
        byte[] answer = withAgent(tpm -> new TpmAgentAttestor(tpm).answer(pending.challenge()));
        return TpmChallengeResponse.parseFrom(answer);
    }

    private byte[] payload() throws Exception {
        return withAgent(tpm -> new TpmAgentAttestor(tpm).payload());
    }

    // -------------------------------------------------------------------------------------------------------------
    // Happy paths

    @Test
    void attest_enrolledRsaEkEccAk_selectorsEvidenceAndBoundAk() throws Exception {
        enrol(ekHash, Map.of("rack", "r1", "role", "db"), Optional.empty(), false);
        Attested attested = attest(enrolledServer());
        assertEquals(ekHash, attested.ekHash());
        assertEquals(List.of("pub_hash:" + ekHash, "label:rack:r1", "label:role:db"), attested.selectorValues());
        assertArrayEquals(withAgent(AgentTpm::akPublic), attested.akPublic());
        assertTrue(attested.evidence().startsWith("ek_hash=" + ekHash + " trust=enrolled ak_name=000b"),
                attested.evidence());
        assertTrue(attested.evidence().contains(" pcr_digest=" + attested.pcrDigest()), attested.evidence());
    }

    @Test
    void attest_caTrust_swtpmCertificateChainsToItsLocalCa() throws Exception {
        Attested attested = attest(server(settings("ek_trust", "ca", "ek_ca_paths", List.of("unused")),
                swtpmAndVendorCas()));
        assertEquals(List.of("pub_hash:" + ekHash), attested.selectorValues());
        assertTrue(attested.evidence().contains(" trust=ca "), attested.evidence());
    }

    @Test
    void attest_eitherTrust_certificateOrEnrolmentSuffices() throws Exception {
        TpmServerAttestor server = server(settings("ek_trust", "either", "ek_ca_paths", List.of("unused")),
                swtpmAndVendorCas());
        assertTrue(attest(server).evidence().contains(" trust=ca "));

        // Without a certificate, only an enrolment can vouch for the EK.
        byte[] noCertificate = TpmAttestationPayload.parseFrom(payload()).toBuilder().clearEkCertificate().build()
                .toByteArray();
        refused(Kind.REJECTED, TpmServerAttestor.EK_NOT_TRUSTED, () -> server.begin(noCertificate));
        enrol(ekHash, Map.of(), Optional.empty(), false);
        Pending pending = server.begin(noCertificate);
        Attested attested = server.finish(pending, honestAnswer(pending).toByteArray());
        assertTrue(attested.evidence().contains(" trust=enrolled "));
    }

    @Test
    void attest_bothTrust_needsEnrolmentAndCertificate() throws Exception {
        TpmServerAttestor server = server(settings("ek_trust", "both", "ek_ca_paths", List.of("unused")),
                swtpmAndVendorCas());
        refused(Kind.REJECTED, TpmServerAttestor.EK_NOT_ENROLLED, () -> attest(server));
        enrol(ekHash, Map.of("site", "par"), Optional.empty(), false);
        Attested attested = attest(server);
        assertTrue(attested.evidence().contains(" trust=enrolled+ca "));
        assertEquals(List.of("pub_hash:" + ekHash, "label:site:par"), attested.selectorValues());

        TpmServerAttestor vendorsOnly = server(settings("ek_trust", "both", "ek_ca_paths", List.of("unused")),
                vendorCas());
        refused(Kind.REJECTED, EkCaStore.EK_CERTIFICATE_UNTRUSTED, () -> attest(vendorsOnly));
    }

    /** swtpm's ECC NIST P-384 EK (0x81010016): MakeCredential's ECDH path, activated by the TPM. */
    @Test
    void attest_eccP384Ek_credentialActivatedByTheTpm() throws Exception {
        byte[] akPublic = withAgent(AgentTpm::akPublic);
        byte[] eccEk = TssDriver.publicArea(swtpm.tpm(), TssDriver.SWTPM_ECC_EK);
        String eccHash = dev.bourne.tpm.common.EkHash.of(TpmPublic.parse(eccEk).publicKey());
        enrol(eccHash, Map.of(), Optional.empty(), false);
        TpmServerAttestor server = enrolledServer();
        Pending pending = server.begin(TpmAttestationPayload.newBuilder().setEkPublic(ByteString.copyFrom(eccEk))
                .setAkPublic(ByteString.copyFrom(akPublic)).build().toByteArray());
        TpmChallenge challenge = TpmChallenge.parseFrom(pending.challenge());
        byte[] secret = TssDriver.activate(swtpm.tpm(), new TPM_HANDLE(TpmAgentSettings.DEFAULT_AK_HANDLE),
                TssDriver.SWTPM_ECC_EK, challenge.getCredentialBlob().toByteArray(),
                challenge.getEncryptedSecret().toByteArray());
        Quote quote = withAgent(tpm -> tpm.quote(challenge.getNonce().toByteArray(), 0x000B,
                challenge.getPcrSelection().getPcrsList().stream().mapToInt(Integer::intValue).toArray()));
        Attested attested = server.finish(pending, response(secret, quote).toByteArray());
        assertEquals(eccHash, attested.ekHash());
    }

    private static TpmChallengeResponse response(byte[] secret, Quote quote) {
        TpmQuote.Builder q = TpmQuote.newBuilder().setAttest(ByteString.copyFrom(quote.attest()))
                .setSignature(ByteString.copyFrom(quote.signature()));
        quote.pcrValues().forEach((i, v) -> q.putPcrValues(i, ByteString.copyFrom(v)));
        return TpmChallengeResponse.newBuilder().setSecret(ByteString.copyFrom(secret)).setQuote(q).build();
    }

    // -------------------------------------------------------------------------------------------------------------
    // PCR policy

    @Test
    void attest_pcrPolicyMatched_selectorNamesIt() throws Exception {
        enrol(ekHash, Map.of(), Optional.empty(), false);
        TpmServerAttestor server = server(settings("pcr_policies", Map.of(
                "zeros", Map.of("7", List.of(ZERO), "16", List.of(ZERO)),
                "golden", Map.of("7", List.of("aa".repeat(32))))), EkCaStore.of(List.of(), clock));
        Attested attested = attest(server);
        assertEquals(List.of("pub_hash:" + ekHash, "pcr_policy:zeros"), attested.selectorValues());
        assertTrue(attested.evidence().endsWith(" pcr_policies=zeros"), attested.evidence());
        assertTrue(attested.evidence().contains(" pcrs=0,1,2,3,4,5,6,7,16 "), attested.evidence());
    }

    @Test
    void attack_pcrsOutsidePolicy_refusalNamesThem() throws Exception {
        enrol(ekHash, Map.of(), Optional.empty(), false);
        TpmServerAttestor server = server(settings("pcr_policies", Map.of(
                "golden", Map.of("0", List.of(ZERO), "7", List.of("aa".repeat(32))))), EkCaStore.of(List.of(), clock));
        refused(Kind.REJECTED, PcrPolicies.NO_POLICY_MATCHED + ": golden: PCR 7 = " + ZERO, () -> attest(server));
    }

    @Test
    void attest_enrolmentPolicy_mustMatchThatPolicy() throws Exception {
        enrol(ekHash, Map.of(), Optional.of("golden"), false);
        TpmServerAttestor server = server(settings("pcr_policies", Map.of(
                "zeros", Map.of("7", List.of(ZERO)),
                "golden", Map.of("7", List.of("aa".repeat(32))))), EkCaStore.of(List.of(), clock));
        refused(Kind.REJECTED, PcrPolicies.ENROLLED_POLICY_MISMATCH + ": golden: PCR 7 = " + ZERO,
                () -> attest(server));
    }

    // -------------------------------------------------------------------------------------------------------------
    // Continuous attestation

    @Test
    void renewal_boundAk_freshQuoteVerifies() throws Exception {
        enrol(ekHash, Map.of("rack", "r1"), Optional.empty(), false);
        TpmServerAttestor server = enrolledServer();
        Attested first = attest(server);
        RenewalPending renewal = server.renewalChallenge(ekHash, first.akPublic());
        Attested renewed = server.verifyRenewal(renewal,
                withAgent(tpm -> new TpmAgentAttestor(tpm).renewalEvidence(renewal.challenge())));
        assertEquals(first.selectorValues(), renewed.selectorValues());
        refused(Kind.REJECTED, TpmServerAttestor.CHALLENGE_USED, () -> server.verifyRenewal(renewal, new byte[0]));
    }

    /** The appliance keeps only the challenge bytes between the two renewal calls. */
    @Test
    void renewal_fromIssuedChallengeBytes_verifiesAndRefusesStaleSelection() throws Exception {
        enrol(ekHash, Map.of(), Optional.empty(), false);
        TpmServerAttestor server = enrolledServer();
        Attested first = attest(server);
        byte[] challenge = server.renewalChallenge(ekHash, first.akPublic()).challenge();
        byte[] evidence = withAgent(tpm -> new TpmAgentAttestor(tpm).renewalEvidence(challenge));
        assertEquals(first.selectorValues(), server.verifyRenewal(ekHash, first.akPublic(), challenge, evidence)
                .selectorValues());
        TpmServerAttestor reconfigured = server(settings("quote_pcrs", List.of(0.0, 7.0)),
                EkCaStore.of(List.of(), clock));
        refused(Kind.REJECTED, TpmServerAttestor.RENEWAL_CHALLENGE_STALE,
                () -> reconfigured.verifyRenewal(ekHash, first.akPublic(), challenge, evidence));
    }

    @Test
    void renewal_pcrDrift_refusedAsDrift() throws Exception {
        enrol(ekHash, Map.of(), Optional.empty(), false);
        TpmServerAttestor server = server(settings("pcr_policies", Map.of("zeros", Map.of("16", List.of(ZERO))),
                "evict_on_drift", true), EkCaStore.of(List.of(), clock));
        Attested first = attest(server);
        assertEquals(List.of("pub_hash:" + ekHash, "pcr_policy:zeros"), first.selectorValues());
        try {
            swtpm.tpm().PCR_Extend(new TPM_HANDLE(16), new TPMT_HA[] {new TPMT_HA(TPM_ALG_ID.SHA256,
                    new byte[32])});
            RenewalPending renewal = server.renewalChallenge(ekHash, first.akPublic());
            byte[] evidence = withAgent(tpm -> new TpmAgentAttestor(tpm).renewalEvidence(renewal.challenge()));
            String extended = HexFormat.of().formatHex(dev.bourne.tpm.common.TpmHashAlg.SHA256.digest(new byte[64]));
            TpmAttestationException e = refused(Kind.DRIFT, PcrPolicies.NO_POLICY_MATCHED + ": zeros: PCR 16 = "
                    + extended, () -> server.verifyRenewal(renewal, evidence));
            assertTrue(e.isDrift());
        } finally {
            swtpm.tpm().PCR_Reset(new TPM_HANDLE(16));
        }
    }

    @Test
    void attack_revokedEnrolment_refusedAtAttestationAndRenewal() throws Exception {
        enrol(ekHash, Map.of(), Optional.empty(), false);
        TpmServerAttestor server = enrolledServer();
        Attested first = attest(server);
        enrol(ekHash, Map.of(), Optional.empty(), true);
        refused(Kind.REJECTED, TpmServerAttestor.ENROLLMENT_REVOKED, () -> attest(server));
        RenewalPending renewal = server.renewalChallenge(ekHash, first.akPublic());
        byte[] evidence = withAgent(tpm -> new TpmAgentAttestor(tpm).renewalEvidence(renewal.challenge()));
        refused(Kind.REJECTED, TpmServerAttestor.ENROLLMENT_REVOKED, () -> server.verifyRenewal(renewal, evidence));
    }

    @Test
    void renewal_enrolmentGone_refusedWhenTrustRequiresIt() throws Exception {
        enrol(ekHash, Map.of(), Optional.empty(), false);
        TpmServerAttestor server = enrolledServer();
        Attested first = attest(server);
        enrolled.clear();
        RenewalPending renewal = server.renewalChallenge(ekHash, first.akPublic());
        byte[] evidence = withAgent(tpm -> new TpmAgentAttestor(tpm).renewalEvidence(renewal.challenge()));
        refused(Kind.REJECTED, TpmServerAttestor.EK_NOT_ENROLLED, () -> server.verifyRenewal(renewal, evidence));
    }

    // -------------------------------------------------------------------------------------------------------------
    // Attacks on EK trust

    @Test
    void attack_ekNotEnrolled_refused() throws Exception {
        refused(Kind.REJECTED, TpmServerAttestor.EK_NOT_ENROLLED, () -> enrolledServer().begin(payload()));
    }

    @Test
    void attack_ekCertificateNotChainingToConfiguredCa_refused() throws Exception {
        TpmServerAttestor server = server(settings("ek_trust", "ca", "ek_ca_paths", List.of("unused")), vendorCas());
        refused(Kind.REJECTED, EkCaStore.EK_CERTIFICATE_UNTRUSTED, () -> server.begin(payload()));
    }

    /** The genuine RSA EK certificate, presented with another EK (the same TPM's ECC EK). */
    @Test
    void attack_certificateKeyDifferentFromEkPresented_refused() throws Exception {
        byte[] eccEk = TssDriver.publicArea(swtpm.tpm(), TssDriver.SWTPM_ECC_EK);
        byte[] swapped = TpmAttestationPayload.parseFrom(payload()).toBuilder().setEkPublic(ByteString.copyFrom(eccEk))
                .build().toByteArray();
        TpmServerAttestor server = server(settings("ek_trust", "ca", "ek_ca_paths", List.of("unused")),
                swtpmAndVendorCas());
        refused(Kind.REJECTED, EkCaStore.EK_CERTIFICATE_KEY_MISMATCH, () -> server.begin(swapped));
    }

    @Test
    void attack_enrolmentStoreUnreadable_failsClosed() throws Exception {
        TpmEnrollments broken = hash -> {
            throw new EnrollmentLookupException("database unreachable", new SQLException("connection refused"));
        };
        byte[] payload = payload();
        for (TpmServerSettings settings : List.of(settings(),
                settings("ek_trust", "ca", "ek_ca_paths", List.of("unused")))) {
            TpmServerAttestor server = new TpmServerAttestor(settings, swtpmAndVendorCas(), broken, clock, RANDOM);
            TpmAttestationException e = refused(Kind.UNAVAILABLE, TpmServerAttestor.ENROLLMENT_UNAVAILABLE,
                    () -> server.begin(payload));
            assertTrue(e.getCause() instanceof EnrollmentLookupException);
        }
    }

    /**
     * A second TPM claims an enrolled EK: it sends the first TPM's EK public area and certificate with its own AK. The
     * credential is encrypted to the first TPM's EK, so the second cannot activate it, and any secret it guesses is
     * refused.
     */
    @Test
    void attack_secondTpmClaimingEnrolledEk_cannotActivate() throws Exception {
        enrol(ekHash, Map.of(), Optional.empty(), false);
        TpmServerAttestor server = enrolledServer();
        TpmAttestationPayload genuine = TpmAttestationPayload.parseFrom(payload());
        try (Swtpm second = Swtpm.start()) {
            TssDriver.changeEndorsementSeed(second.tpm());
            TpmAgentSettings secondSettings = TpmAgentSettings.defaults("tcp://127.0.0.1:" + second.dataPort());
            second.disconnect();
            try (AgentTpm impostor = AgentTpm.open(secondSettings)) {
                assertTrue(!impostor.endorsementKey().ekHash().equals(ekHash), "the second TPM has its own EK");
                Pending pending = server.begin(genuine.toBuilder().setAkPublic(ByteString.copyFrom(
                        impostor.akPublic())).build().toByteArray());
                TpmChallenge challenge = TpmChallenge.parseFrom(pending.challenge());
                assertThrows(AgentTpmException.class, () -> impostor.activateCredential(
                        challenge.getCredentialBlob().toByteArray(), challenge.getEncryptedSecret().toByteArray()));
                byte[] guess = new byte[32];
                RANDOM.nextBytes(guess);
                Quote quote = impostor.quote(challenge.getNonce().toByteArray(), 0x000B,
                        challenge.getPcrSelection().getPcrsList().stream().mapToInt(Integer::intValue).toArray());
                refused(Kind.REJECTED, TpmServerAttestor.CREDENTIAL_NOT_ACTIVATED,
                        () -> server.finish(pending, response(guess, quote).toByteArray()));
            }
        }
    }

    // -------------------------------------------------------------------------------------------------------------
    // Attacks on the AK and the credential

    /**
     * A non-restricted signing key in the same TPM activates the credential made for it (shown below with the TPM),
     * and could sign a forged TPMS_ATTEST: only the server's attribute check stops it.
     */
    @Test
    void attack_akNotRestricted_refusedThoughTheTpmWouldActivate() throws Exception {
        enrol(ekHash, Map.of(), Optional.empty(), false);
        TpmAttestationPayload genuine = TpmAttestationPayload.parseFrom(payload());
        TssDriver.Key key = TssDriver.unrestrictedSigningKey(swtpm.tpm());
        try {
            byte[] forged = genuine.toBuilder().setAkPublic(ByteString.copyFrom(key.publicArea())).build()
                    .toByteArray();
            refused(Kind.REJECTED, AttestationKeyCheck.NOT_RESTRICTED, () -> enrolledServer().begin(forged));

            byte[] secret = new byte[32];
            RANDOM.nextBytes(secret);
            MakeCredential.Credential credential = MakeCredential.make(TpmPublic.parse(
                    genuine.getEkPublic().toByteArray()), TpmPublic.parse(key.publicArea()).name(), secret, RANDOM);
            assertArrayEquals(secret, TssDriver.activate(swtpm.tpm(), key.handle(), TssDriver.SWTPM_RSA_EK,
                    credential.credentialBlob(), credential.encryptedSecret()),
                    "the TPM activates a credential for any key it holds");
        } finally {
            swtpm.tpm().FlushContext(key.handle());
        }
    }

    /** The payload names another AK (also in this TPM); the agent activates under its own: the TPM refuses. */
    @Test
    void attack_wrongAkName_activationFailsAndSecretRefused() throws Exception {
        enrol(ekHash, Map.of(), Optional.empty(), false);
        TpmServerAttestor server = enrolledServer();
        byte[] otherAk = withAgent(TpmAgentSettings.defaults("tcp://127.0.0.1:" + swtpm.dataPort())
                .withAk(SECOND_AK_HANDLE, AkType.ECC_P256), AgentTpm::akPublic);
        Pending pending = server.begin(TpmAttestationPayload.parseFrom(payload()).toBuilder()
                .setAkPublic(ByteString.copyFrom(otherAk)).build().toByteArray());
        TpmChallenge challenge = TpmChallenge.parseFrom(pending.challenge());
        Quote quote = withAgent(tpm -> {
            assertThrows(AgentTpmException.class, () -> tpm.activateCredential(
                    challenge.getCredentialBlob().toByteArray(), challenge.getEncryptedSecret().toByteArray()));
            return tpm.quote(challenge.getNonce().toByteArray(), 0x000B,
                    challenge.getPcrSelection().getPcrsList().stream().mapToInt(Integer::intValue).toArray());
        });
        refused(Kind.REJECTED, TpmServerAttestor.CREDENTIAL_NOT_ACTIVATED,
                () -> server.finish(pending, response(new byte[32], quote).toByteArray()));
    }

    // -------------------------------------------------------------------------------------------------------------
    // Attacks on the quote

    private Pending enrolledPending(TpmServerAttestor server) throws Exception {
        enrol(ekHash, Map.of(), Optional.empty(), false);
        return server.begin(payload());
    }

    @Test
    void attack_tamperedQuote_refused() throws Exception {
        TpmServerAttestor server = enrolledServer();
        Pending pending = enrolledPending(server);
        TpmChallengeResponse honest = honestAnswer(pending);
        byte[] attest = honest.getQuote().getAttest().toByteArray();
        attest[attest.length - 1] ^= 1;
        TpmChallengeResponse tampered = honest.toBuilder().setQuote(honest.getQuote().toBuilder()
                .setAttest(ByteString.copyFrom(attest))).build();
        refused(Kind.REJECTED, QuoteVerifier.BAD_SIGNATURE, () -> server.finish(pending, tampered.toByteArray()));
    }

    /** A genuine quote from an earlier session, answered with this session's (genuinely activated) secret. */
    @Test
    void attack_replayedQuoteFromEarlierSession_refused() throws Exception {
        TpmServerAttestor server = enrolledServer();
        TpmChallengeResponse earlier = honestAnswer(enrolledPending(server));
        Pending pending = server.begin(payload());
        TpmChallenge challenge = TpmChallenge.parseFrom(pending.challenge());
        byte[] secret = withAgent(tpm -> tpm.activateCredential(challenge.getCredentialBlob().toByteArray(),
                challenge.getEncryptedSecret().toByteArray()));
        TpmChallengeResponse replayed = earlier.toBuilder().setSecret(ByteString.copyFrom(secret)).build();
        refused(Kind.REJECTED, QuoteVerifier.NONCE_MISMATCH, () -> server.finish(pending, replayed.toByteArray()));
    }

    @Test
    void attack_quoteOverForeignNonce_refused() throws Exception {
        TpmServerAttestor server = enrolledServer();
        Pending pending = enrolledPending(server);
        TpmChallenge challenge = TpmChallenge.parseFrom(pending.challenge());
        byte[] foreign = new byte[32];
        RANDOM.nextBytes(foreign);
        TpmChallengeResponse response = withAgent(tpm -> response(
                tpm.activateCredential(challenge.getCredentialBlob().toByteArray(),
                        challenge.getEncryptedSecret().toByteArray()),
                tpm.quote(foreign, 0x000B, new int[] {0, 1, 2, 3, 4, 5, 6, 7})));
        refused(Kind.REJECTED, QuoteVerifier.NONCE_MISMATCH, () -> server.finish(pending, response.toByteArray()));
    }

    @Test
    void attack_garbageEcdsaSignature_refused() throws Exception {
        TpmServerAttestor server = enrolledServer();
        Pending pending = enrolledPending(server);
        TpmChallengeResponse honest = honestAnswer(pending);
        byte[] r = new byte[32];
        byte[] s = new byte[32];
        RANDOM.nextBytes(r);
        RANDOM.nextBytes(s);
        // TPMT_SIGNATURE: sigAlg ECDSA (0x0018), hash SHA-256 (0x000B), TPM2B r, TPM2B s.
        byte[] garbage = ByteBuffer.allocate(2 + 2 + 2 + 32 + 2 + 32).putShort((short) 0x0018)
                .putShort((short) 0x000B).putShort((short) 32).put(r).putShort((short) 32).put(s).array();
        TpmChallengeResponse forged = honest.toBuilder().setQuote(honest.getQuote().toBuilder()
                .setSignature(ByteString.copyFrom(garbage))).build();
        refused(Kind.REJECTED, QuoteVerifier.BAD_SIGNATURE, () -> server.finish(pending, forged.toByteArray()));
    }

    @Test
    void attack_pcrSelectionOtherThanRequested_refused() throws Exception {
        TpmServerAttestor server = enrolledServer();
        Pending pending = enrolledPending(server);
        TpmChallenge challenge = TpmChallenge.parseFrom(pending.challenge());
        TpmChallengeResponse response = withAgent(tpm -> response(
                tpm.activateCredential(challenge.getCredentialBlob().toByteArray(),
                        challenge.getEncryptedSecret().toByteArray()),
                tpm.quote(challenge.getNonce().toByteArray(), 0x000B, new int[] {0, 1, 2, 3, 4, 5, 6})));
        refused(Kind.REJECTED, QuoteVerifier.SELECTION_MISMATCH, () -> server.finish(pending, response.toByteArray()));
    }

    @Test
    void attack_pcrValuesNotMatchingDigest_refused() throws Exception {
        TpmServerAttestor server = enrolledServer();
        Pending pending = enrolledPending(server);
        TpmChallengeResponse honest = honestAnswer(pending);
        byte[] lie = new byte[32];
        Arrays.fill(lie, (byte) 0x5a);
        TpmChallengeResponse lying = honest.toBuilder().setQuote(honest.getQuote().toBuilder()
                .putPcrValues(7, ByteString.copyFrom(lie))).build();
        refused(Kind.REJECTED, QuoteVerifier.PCR_DIGEST_MISMATCH, () -> server.finish(pending, lying.toByteArray()));
    }

    // -------------------------------------------------------------------------------------------------------------
    // Single use and expiry

    @Test
    void attack_pendingFinishedTwice_refused() throws Exception {
        TpmServerAttestor server = enrolledServer();
        Pending pending = enrolledPending(server);
        byte[] answer = honestAnswer(pending).toByteArray();
        server.finish(pending, answer);
        refused(Kind.REJECTED, TpmServerAttestor.CHALLENGE_USED, () -> server.finish(pending, answer));
    }

    @Test
    void attack_expiredPending_refused() throws Exception {
        TpmServerAttestor server = enrolledServer();
        Pending pending = enrolledPending(server);
        byte[] answer = honestAnswer(pending).toByteArray();
        clock.advance(TpmServerSettings.DEFAULT_CHALLENGE_TIMEOUT.plus(Duration.ofMillis(1)));
        refused(Kind.REJECTED, TpmServerAttestor.CHALLENGE_EXPIRED, () -> server.finish(pending, answer));
        refused(Kind.REJECTED, TpmServerAttestor.CHALLENGE_USED, () -> server.finish(pending, answer));
    }

    @Test
    void configure_fromPluginConfig_loadsCasOrReportsThem() throws Exception {
        PluginConfig good = new PluginConfig("server.conf", "NodeAttestor", "tpm", true, Map.of("ek_trust", "ca",
                "ek_ca_paths", List.of(RealTpmData.vendorEkCa().toString())));
        TpmServerAttestor server = TpmServerAttestor.configure(good, enrollments, clock, RANDOM).orElseThrow();
        refused(Kind.REJECTED, EkCaStore.EK_CERTIFICATE_UNTRUSTED, () -> server.begin(payload()));
        PluginConfig missing = new PluginConfig("server.conf", "NodeAttestor", "tpm", true, Map.of("ek_trust", "ca",
                "ek_ca_paths", List.of("/nonexistent.pem")));
        assertEquals(List.of(new dev.bourne.core.config.ConfigError("server.conf",
                "plugins.NodeAttestor.tpm.plugin_data.ek_ca_paths", "/nonexistent.pem: no such file")),
                TpmServerAttestor.configure(missing, enrollments, clock, RANDOM).errors());
    }

    // -------------------------------------------------------------------------------------------------------------
    // Malformed input

    @Test
    void begin_malformedPayloads_invalidRequest() throws Exception {
        TpmServerAttestor server = enrolledServer();
        refused(Kind.INVALID_REQUEST, TpmServerProtos.PAYLOAD_MALFORMED, () -> server.begin(new byte[] {(byte) 0xff}));
        refused(Kind.INVALID_REQUEST, TpmServerProtos.PAYLOAD_TOO_LARGE,
                () -> server.begin(new byte[TpmServerProtos.MAX_PAYLOAD_BYTES + 1]));
        refused(Kind.INVALID_REQUEST, TpmServerProtos.EK_PUBLIC_MISSING, () -> server.begin(new byte[0]));
        TpmAttestationPayload genuine = TpmAttestationPayload.parseFrom(payload());
        refused(Kind.INVALID_REQUEST, TpmServerProtos.AK_PUBLIC_MISSING,
                () -> server.begin(genuine.toBuilder().clearAkPublic().build().toByteArray()));
        TpmAttestationException e = assertThrows(TpmAttestationException.class, () -> server.begin(genuine.toBuilder()
                .setEkPublic(genuine.getEkPublic().substring(0, 10)).build().toByteArray()));
        assertTrue(e.getMessage().startsWith(TpmServerAttestor.EK_PUBLIC_MALFORMED + ": "), e.getMessage());
        assertEquals(Kind.INVALID_REQUEST, e.kind());
        refused(Kind.INVALID_REQUEST, EkCaStore.EK_CERTIFICATE_MALFORMED, () -> server.begin(genuine.toBuilder()
                .setEkCertificate(ByteString.copyFrom(new byte[] {0x30, 0x01, 0x00})).build().toByteArray()));
    }

    @Test
    void finish_malformedResponse_invalidRequestAndConsumed() throws Exception {
        TpmServerAttestor server = enrolledServer();
        Pending pending = enrolledPending(server);
        refused(Kind.INVALID_REQUEST, TpmServerProtos.RESPONSE_MALFORMED,
                () -> server.finish(pending, new byte[] {(byte) 0xff}));
        refused(Kind.REJECTED, TpmServerAttestor.CHALLENGE_USED, () -> server.finish(pending, new byte[0]));
        Pending second = server.begin(payload());
        TpmChallengeResponse honest = honestAnswer(second);
        refused(Kind.INVALID_REQUEST, TpmServerProtos.PCR_VALUE_INDEX, () -> server.finish(second, honest.toBuilder()
                .setQuote(honest.getQuote().toBuilder().putPcrValues(24, ByteString.copyFrom(new byte[32])))
                .build().toByteArray()));
    }
}
