package dev.bourne.agent.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bourne.agent.node.AgentStateStore;
import dev.bourne.agent.node.AgentSvid;
import dev.bourne.agent.node.NodeTpm;
import dev.bourne.appliance.admin.AdminServices;
import dev.bourne.appliance.agentapi.AgentAttestation;
import dev.bourne.appliance.cli.ServerCli;
import dev.bourne.appliance.datastore.AttestedNode;
import dev.bourne.appliance.datastore.RegistrationEntry;
import dev.bourne.appliance.health.ServerMetrics;
import dev.bourne.appliance.server.BourneServer;
import dev.bourne.core.config.AgentSettings;
import dev.bourne.core.selector.Selector;
import dev.bourne.core.spiffeid.SpiffeId;
import dev.bourne.core.spiffeid.TrustDomain;
import dev.bourne.testing.tpm.Swtpm;
import dev.bourne.testing.tpm.WithSwtpm;
import dev.bourne.tpm.agent.AkType;
import dev.bourne.tpm.agent.TpmAgentSettings;
import dev.bourne.tpm.common.TpmHashAlg;
import dev.bourne.tpm.common.TpmPublic;
import dev.bourne.tpm.server.PcrPolicies;
import dev.bourne.tpm.server.TpmServerAttestor;
import io.spiffe.svid.x509svid.X509Svid;
import io.spiffe.svid.x509svid.X509SvidValidator;
import io.spiffe.workloadapi.DefaultWorkloadApiClient;
import io.spiffe.workloadapi.WorkloadApiClient;
import io.spiffe.workloadapi.X509Context;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tss.tpm.TPMT_HA;
import tss.tpm.TPM_ALG_ID;
import tss.tpm.TPM_HANDLE;

/**
 * TPM node attestation end to end (issue 5): the real Bourne server (SQLite, disk key manager, agent API on TLS 1.3,
 * admin API on its Unix socket, audit log on) with {@code NodeAttestor "tpm"} (enrolment trust, PCR policy {@code lab}
 * on PCR 16, {@code evict_on_drift = true}), the security team's {@code bourne-server tpm enroll -ekCert} through the
 * admin API, and the real agent runtime with {@code NodeAttestor "tpm"} on swtpm over TCP, its key sealed to PCR 23.
 * A workload entry under a node alias selecting {@code tpm:pcr_policy:lab} gives java-spiffe, over the Workload API
 * socket, its X.509-SVID; renewals carry fresh quotes; a restart resumes from the sealed key without attesting; a
 * changed sealed PCR makes it attest again; PCR drift evicts; a revoked enrolment makes the next renewal fail.
 *
 * <p>Beside {@link TpmAttestationEndToEndTest} (a fresh server per test, enrolment written to the datastore, the
 * enrolment pinning the policy), this class goes through the operator's interfaces: enrolment with the CLI over the
 * admin socket, the workload through the Workload API socket with java-spiffe, the audit log's evidence, the AK
 * binding deleted with an evicted node;. One server and one TPM (one EK, so
 * one agent ID) serve the whole class: the revocation, which is final for an EK, runs last.
 */
@WithSwtpm
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TpmEndToEndTest {
    private static final Logger LOG = LoggerFactory.getLogger(TpmEndToEndTest.class);
    private static final TrustDomain TD = TrustDomain.parse("example.org");
    private static final Duration SYNC = Duration.ofMillis(250);
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final Duration AGENT_TTL = Duration.ofMinutes(10);
    private static final String ZERO = "00".repeat(32);
    private static final int POLICY_PCR = 16;
    private static final int SEAL_PCR = 23;
    private static final SpiffeId SERVER_ID = SpiffeId.parse("spiffe://example.org/spire/server");
    private static final SpiffeId ALIAS = SpiffeId.parse("spiffe://example.org/node/lab");
    private static final SpiffeId WORKLOAD = SpiffeId.parse("spiffe://example.org/workload/tpm");
    /** Attestations timed over the agent API for the report (each a full AttestAgent with swtpm). */

    @TempDir
    static Path serverDir;
    private static BourneServer server;
    private static int port;
    private static Swtpm swtpm;
    private static String ekHash;
    private static SpiffeId agentId;
    private static RuntimeTestSupport.StderrTee stderr;

    @TempDir
    Path dir;
    private final List<AutoCloseable> closeables = new ArrayList<>();
    private AgentRuntime agent;
    private Selector uid;

    @BeforeAll
    static void startServerAndEnrol(Swtpm tpm) throws Exception {
        swtpm = tpm;
        resetPcrs();
        stderr = RuntimeTestSupport.StderrTee.start();
        server = BourneServer.start(RuntimeTestSupport.serverSettings(serverDir, AGENT_TTL, true, """
                NodeAttestor "tpm" {
                    plugin_data {
                        ek_trust = "enrolled"
                        quote_pcrs = [0, 7]
                        pcr_policies = {
                            "lab" = { "%d" = ["%s"] }
                        }
                        evict_on_drift = true
                    }
                }
                """.formatted(POLICY_PCR, ZERO), 0), Clock.systemUTC(), new SecureRandom(), AdminServices::create);
        port = server.agentApiPort().orElseThrow();

        // The security team enrols the TPM from its EK certificate (what `bourne-agent tpm ek` prints).
        X509Certificate ekCertificate = swtpm.ekCertificate();
        swtpm.disconnect();
        ekHash = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                .digest(ekCertificate.getPublicKey().getEncoded()));
        agentId = SpiffeId.parse("spiffe://example.org/spire/agent/tpm/" + ekHash);
        Path ekPem = serverDir.resolve("ek.pem");
        Files.writeString(ekPem, "-----BEGIN CERTIFICATE-----\n" + Base64.getMimeEncoder(64, new byte[] {'\n'})
                .encodeToString(ekCertificate.getEncoded()) + "\n-----END CERTIFICATE-----\n");
        assertEquals(ServerCli.OK, cli("tpm", "enroll", "-ekCert", ekPem.toString(), "-label", "rack=r12"));
        // An enrolment may name only a configured policy.
        assertEquals(ServerCli.FAILED, cli("tpm", "enroll", "-ekHash", "ab".repeat(32), "-pcrPolicy", "golden"));

        // The node alias for every node in policy "lab", and a workload under it.
        server.dataStore().createEntry(RegistrationEntry.builder().spiffeId(ALIAS).parentId(SERVER_ID)
                .selectors(List.of(new Selector("tpm", "pcr_policy:lab"))).build());
        Selector uid = new Selector("unix", "uid:" + Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
        server.dataStore().createEntry(RegistrationEntry.builder().spiffeId(WORKLOAD).parentId(ALIAS)
                .selectors(List.of(uid)).build());
    }

    @AfterAll
    static void stopServer() {
        if (server != null) {
            server.close();
        }
        stderr.close();
        resetPcrs();
    }

    @BeforeEach
    void uid() throws Exception {
        uid = new Selector("unix", "uid:" + Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
    }

    @AfterEach
    void stopAgent() throws Exception {
        if (agent != null) {
            agent.close();
        }
        for (AutoCloseable c : closeables) {
            c.close();
        }
        resetPcrs();
    }

    private static void resetPcrs() {
        swtpm.tpm().PCR_Reset(TPM_HANDLE.pcr(POLICY_PCR));
        swtpm.tpm().PCR_Reset(TPM_HANDLE.pcr(SEAL_PCR));
        swtpm.disconnect();
    }

    private static void extend(int pcr) {
        swtpm.tpm().PCR_Extend(TPM_HANDLE.pcr(pcr), new TPMT_HA[] {new TPMT_HA(TPM_ALG_ID.SHA256, new byte[32])});
        swtpm.disconnect();
    }

    private static int cli(String... args) {
        return RuntimeTestSupport.serverCli(serverDir, args);
    }

    /** The server's audit log lines so far (slf4j-simple writes them to stderr, which the class tees). */
    private static String auditLog() {
        return stderr.auditLog();
    }

    private String device() {
        return "tcp://127.0.0.1:" + swtpm.dataPort();
    }

    private AgentSettings agentSettings() throws Exception {
        return RuntimeTestSupport.agentSettings(server, port, dir, dir.resolve("data"), """
                NodeAttestor "tpm" {
                    plugin_data {
                        tpm_device = "%s"
                        seal_pcrs = [%d]
                        event_log_path = "%s"
                    }
                }
                KeyManager "disk" { plugin_data {} }
                WorkloadAttestor "unix" { plugin_data {} }
                """.formatted(device(), SEAL_PCR, dir.resolve("no-event-log")));
    }

    private AgentRuntime startAgent(Clock clock) throws Exception {
        agent = AgentRuntime.start(agentSettings(), Optional.empty(), clock, new SecureRandom(), SYNC);
        return agent;
    }

    private void stopTheAgent() {
        agent.close();
        agent = null;
    }

    private static AgentStatus awaitStatus(AgentRuntime runtime, Predicate<AgentStatus> condition) throws Exception {
        CompletableFuture<AgentStatus> reached = new CompletableFuture<>();
        runtime.onStatus(s -> {
            if (condition.test(s)) {
                reached.complete(s);
            }
        });
        AgentStatus now = runtime.status();
        return condition.test(now) ? now : reached.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    }

    private static void await(String what, Callable<Boolean> condition) throws Exception {
        RuntimeTestSupport.await(what, WAIT, condition);
    }

    private void awaitWorkloadIdentity() throws Exception {
        CompletableFuture<Boolean> reached = new CompletableFuture<>();
        try (var watch = agent.cache().watch(List.of(uid), identity -> identity.filter(i -> i.svids().stream()
                .anyMatch(svid -> svid.spiffeId().equals(WORKLOAD))).ifPresent(i -> reached.complete(true)))) {
            reached.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        }
    }

    private void pastRenewal(ShiftedClock clock) {
        clock.pastRenewalOf(agent);
    }

    private static long counter(String name, String... labels) {
        return RuntimeTestSupport.counter(server, name, labels);
    }

    private static long attestations(String result) {
        return counter(ServerMetrics.ATTESTATIONS, "attestor=\"tpm\"", "result=\"" + result + "\"");
    }

    private static long renewals(String result) {
        return counter(ServerMetrics.RENEWAL_ATTESTATIONS, "attestor=\"tpm\"", "result=\"" + result + "\"");
    }

    private static Optional<AttestedNode> node() throws Exception {
        return server.dataStore().getNode(agentId);
    }

    @Test
    @Order(1)
    void enrolledTpm_attests_selectorsFromEnrolmentAndPolicy_workloadGetsItsSvidOverTheSocket() throws Exception {
        long attested = attestations("success");
        startAgent(Clock.systemUTC());
        awaitStatus(agent, s -> s.ready() && s.reason().isEmpty());
        assertEquals(agentId, agent.agentId().orElseThrow());
        assertEquals(attested + 1, attestations("success"));

        AttestedNode stored = node().orElseThrow();
        assertEquals("tpm", stored.attestationDataType());
        assertEquals(Set.of(new Selector("tpm", "pub_hash:" + ekHash), new Selector("tpm", "label:rack:r12"),
                new Selector("tpm", "pcr_policy:lab")), Set.copyOf(stored.selectors()));
        // The AK bound for continuous attestation is the one in the node's TPM.
        byte[] akPublic;
        try (NodeTpm tpm = new NodeTpm(tpmSettings())) {
            akPublic = tpm.use(t -> t.akPublic());
        }
        assertArrayEquals(akPublic, server.dataStore().getTpmAkBinding(ekHash).orElseThrow().akPublic());
        String akName = HexFormat.of().formatHex(TpmPublic.parse(akPublic).name());

        // A workload, through the Workload API socket with java-spiffe, gets the SVID its entry (under the alias) names.
        try (WorkloadApiClient client = DefaultWorkloadApiClient.newClient(DefaultWorkloadApiClient.ClientOptions
                .builder().spiffeSocketPath("unix:" + agent.socketPath()).build())) {
            X509Context context = client.fetchX509Context();
            X509Svid svid = context.getDefaultSvid();
            assertEquals(WORKLOAD.toString(), svid.getSpiffeId().toString());
            X509SvidValidator.verifyChain(svid.getChain(), context.getX509BundleSet());
        }

        // The audit line carries the evidence: EK hash, AK name, PCR digest, the matched policy.
        String log = auditLog();
        assertTrue(log.contains("node attestation succeeded: attestor=tpm agent_id=" + agentId), log);
        assertTrue(log.contains("evidence=[ek_hash=" + ekHash + " trust=enrolled ak_name=" + akName
                + " pcr_bank=sha256 pcrs=0,7,16 pcr_digest="), log);
        assertTrue(log.contains(" pcr_policies=lab]"), log);
    }

    @Test
    @Order(2)
    void renewal_carriesAFreshQuote_renews() throws Exception {
        ShiftedClock clock = new ShiftedClock();
        startAgent(clock);
        awaitStatus(agent, s -> s.ready() && s.reason().isEmpty());
        AgentSvid first = agent.agentSvid().orElseThrow();
        long renewed = renewals("success");
        long attested = attestations("success");

        pastRenewal(clock);
        await("the renewal", () -> !agent.agentSvid().orElseThrow().leaf().getSerialNumber()
                .equals(first.leaf().getSerialNumber()));
        assertEquals(agentId, agent.agentSvid().orElseThrow().spiffeId());
        assertEquals(renewed + 1, renewals("success"));
        assertEquals(attested, attestations("success"), "renewed, not attested again");
        String log = auditLog();
        assertTrue(log.contains("agent SVID renewed with continuous attestation: attestor=tpm agent_id=" + agentId
                + " selectors=["), log);
        assertTrue(log.contains("selectors_changed=false evidence=[ek_hash=" + ekHash + " trust=renewal ak_name="),
                log);
        awaitWorkloadIdentity();
    }

    @Test
    @Order(3)
    void restart_resumesFromTheSealedKeyWithoutAttesting_thenASealedPcrChangeMakesItAttestAgain() throws Exception {
        startAgent(Clock.systemUTC());
        awaitStatus(agent, s -> s.ready() && s.reason().isEmpty());
        AgentSvid svid = agent.agentSvid().orElseThrow();
        stopTheAgent();
        Path data = dir.resolve("data");
        assertTrue(Files.exists(data.resolve(AgentStateStore.SEALED_KEY_FILE)));
        assertFalse(Files.exists(data.resolve(AgentStateStore.KEY_FILE)), "the key is on disk only sealed");

        long attested = counter(ServerMetrics.ATTESTATIONS);
        startAgent(Clock.systemUTC());
        awaitStatus(agent, s -> s.ready() && s.reason().isEmpty());
        assertEquals(svid.leaf().getSerialNumber(), agent.agentSvid().orElseThrow().leaf().getSerialNumber());
        awaitWorkloadIdentity();
        assertEquals(attested, counter(ServerMetrics.ATTESTATIONS), "resumed without AttestAgent");
        stopTheAgent();

        // Another boot state: the sealed PCR moved. The sealed key is lost; the agent attests again with the TPM.
        extend(SEAL_PCR);
        long succeeded = attestations("success");
        startAgent(Clock.systemUTC());
        awaitStatus(agent, s -> s.ready() && s.reason().isEmpty());
        assertEquals(succeeded + 1, attestations("success"));
        assertNotEquals(svid.leaf().getSerialNumber(), agent.agentSvid().orElseThrow().leaf().getSerialNumber());
        assertEquals(agentId, agent.agentId().orElseThrow());
        awaitWorkloadIdentity();
    }

    @Test
    @Order(4)
    void pcrDrift_evictOnDrift_evictsTheAgent_refusedUntilBackInPolicy() throws Exception {
        ShiftedClock clock = new ShiftedClock();
        startAgent(clock);
        awaitStatus(agent, s -> s.ready() && s.reason().isEmpty());
        AgentSvid first = agent.agentSvid().orElseThrow();
        long drifts = renewals("drift");

        extend(POLICY_PCR);
        pastRenewal(clock);
        String drifted = PcrPolicies.NO_POLICY_MATCHED + ": lab: PCR 16 = ";
        await("the eviction", () -> auditLog().contains("agent evicted by continuous attestation: attestor=tpm"
                + " agent_id=" + agentId + " reason=" + drifted));
        assertEquals(drifts + 1, renewals("drift"));
        // Evicted with its AK binding; attesting again is refused while PCR 16 is outside policy (nothing bound).
        awaitStatus(agent, s -> s.reason().contains(drifted));
        assertTrue(node().isEmpty());
        assertTrue(server.dataStore().getTpmAkBinding(ekHash).isEmpty());
        assertTrue(auditLog().contains("node attestation failed: attestor=tpm reason=" + drifted), auditLog());

        // Back in policy: the agent attests from scratch and serves its workload again.
        resetPcrs();
        awaitStatus(agent, s -> s.ready() && s.reason().isEmpty());
        await("the node attested again", () -> node().isPresent());
        assertNotEquals(first.leaf().getSerialNumber(), agent.agentSvid().orElseThrow().leaf().getSerialNumber());
        awaitWorkloadIdentity();
    }

    @Test
    @Order(6)
    void revokedEnrolment_theNextRenewalFails_andAttestingAgainIsRefused() throws Exception {
        ShiftedClock clock = new ShiftedClock();
        startAgent(clock);
        awaitStatus(agent, s -> s.ready() && s.reason().isEmpty());
        AgentSvid first = agent.agentSvid().orElseThrow();
        long rejected = renewals("rejected");

        assertEquals(ServerCli.OK, cli("tpm", "revoke", "-ekHash", ekHash));
        pastRenewal(clock);
        AgentStatus refused = awaitStatus(agent, s -> s.reason().contains(TpmServerAttestor.ENROLLMENT_REVOKED));
        assertTrue(refused.attested());
        assertEquals(rejected + 1, renewals("rejected"));
        assertEquals(first.leaf().getSerialNumber(), agent.agentSvid().orElseThrow().leaf().getSerialNumber());
        String log = auditLog();
        assertTrue(log.contains("agent SVID renewal refused: attestor=tpm agent_id=" + agentId + " reason="
                + TpmServerAttestor.ENROLLMENT_REVOKED), log);
        assertTrue(log.contains("node attestation failed: attestor=tpm reason=" + TpmServerAttestor.ENROLLMENT_REVOKED),
                log);
        // Refused, not evicted: the node stays, with its current certificate and nothing new issued.
        AttestedNode stored = node().orElseThrow();
        assertEquals(first.leaf().getSerialNumber().toString(), stored.certificate().orElseThrow().serialNumber());
        assertTrue(stored.newCertificate().isEmpty());
        assertFalse(log.contains(AgentAttestation.EVICTED), log);
    }

    private TpmAgentSettings tpmSettings() {
        return new TpmAgentSettings(device(), TpmAgentSettings.DEFAULT_AK_HANDLE, AkType.ECC_P256,
                dir.resolve("no-event-log"), List.of(SEAL_PCR), TpmHashAlg.SHA256);
    }
}
