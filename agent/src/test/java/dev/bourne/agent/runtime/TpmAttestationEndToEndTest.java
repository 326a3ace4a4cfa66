package dev.bourne.agent.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bourne.agent.workloadapi.WorkloadIdentity;
import dev.bourne.agent.workloadapi.WorkloadX509Svid;
import dev.bourne.appliance.datastore.RegistrationEntry;
import dev.bourne.appliance.health.ServerMetrics;
import dev.bourne.appliance.server.BourneServer;
import dev.bourne.core.config.AgentSettings;
import dev.bourne.core.selector.Selector;
import dev.bourne.core.spiffeid.SpiffeId;
import dev.bourne.testing.tpm.Swtpm;
import dev.bourne.testing.tpm.WithSwtpm;
import dev.bourne.tpm.common.EkHash;
import dev.bourne.tpm.server.PcrPolicies;
import dev.bourne.tpm.server.TpmEnrollment;
import dev.bourne.tpm.server.TpmServerAttestor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tss.tpm.TPMT_HA;
import tss.tpm.TPM_ALG_ID;
import tss.tpm.TPM_HANDLE;

/**
 * TPM attestation end to end, the cases {@link TpmEndToEndTest} (one server, operator interfaces) does not cover: an
 * enrolment that pins its PCR policy ({@code golden}, PCR 23) and a node that drifts out of it, is evicted, refused
 * while outside, and attests again once back; and a TPM nobody enrolled. Real server, real agent on swtpm over TCP,
 * {@code KeyManager "disk"} (its key sealed to PCR 16). Each test gets a fresh server; PCRs 16 and 23 are reset before
 * each.
 */
@WithSwtpm
class TpmAttestationEndToEndTest {
    private static final Duration SYNC = Duration.ofMillis(250);
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final String ZERO = "00".repeat(32);
    private static final SpiffeId NODE_ALIAS = SpiffeId.parse("spiffe://example.org/node/golden");
    private static final SpiffeId WORKLOAD = SpiffeId.parse("spiffe://example.org/db");

    @TempDir
    Path dir;
    private Swtpm swtpm;
    private BourneServer server;
    private AgentRuntime agent;
    private ShiftedClock agentClock;
    private String ekHash;
    private Selector uid;

    @BeforeEach
    void start(Swtpm swtpm) throws Exception {
        this.swtpm = swtpm;
        ekHash = EkHash.of(swtpm.ekCertificate().getPublicKey());
        swtpm.tpm().PCR_Reset(TPM_HANDLE.pcr(16));
        swtpm.tpm().PCR_Reset(TPM_HANDLE.pcr(23));
        // swtpm serves one client at a time: the agent's connection comes next.
        swtpm.disconnect();
        uid = new Selector("unix", "uid:" + Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
        server = startServer("server");
        // The security team's enrolment: labels and the PCR policy this node must satisfy.
        server.dataStore().createTpmEnrollment(new TpmEnrollment(ekHash, new TreeMap<>(java.util.Map.of("role", "db")),
                Optional.of("golden"), Optional.empty(), Instant.now(), Optional.empty()));
        server.dataStore().createEntry(RegistrationEntry.builder().spiffeId(NODE_ALIAS)
                .parentId(SpiffeId.parse("spiffe://example.org/spire/server"))
                .selectors(List.of(new Selector("tpm", "pcr_policy:golden"))).build());
        server.dataStore().createEntry(RegistrationEntry.builder().spiffeId(WORKLOAD).parentId(NODE_ALIAS)
                .selectors(List.of(uid)).build());
        agentClock = new ShiftedClock();
    }

    @AfterEach
    void stop() {
        if (agent != null) {
            agent.close();
        }
        if (server != null) {
            server.close();
        }
    }

    private BourneServer startServer(String name) throws Exception {
        return BourneServer.start(RuntimeTestSupport.serverSettings(dir.resolve(name), Duration.ofMinutes(10), true, """
                NodeAttestor "tpm" {
                    plugin_data {
                        ek_trust = "enrolled"
                        quote_pcrs = [0, 7]
                        pcr_policies = { "golden" = { "23" = ["%s"] } }
                        evict_on_drift = true
                    }
                }
                """.formatted(ZERO), 0), Clock.systemUTC());
    }

    private AgentRuntime startAgent() throws Exception {
        AgentSettings settings = RuntimeTestSupport.agentSettings(server, server.agentApiPort().orElseThrow(), dir,
                dir.resolve("agent-data"), """
                NodeAttestor "tpm" {
                    plugin_data {
                        tpm_device = "tcp://127.0.0.1:%d"
                        seal_pcrs = [16]
                        event_log_path = "%s"
                    }
                }
                KeyManager "disk" { plugin_data {} }
                WorkloadAttestor "unix" { plugin_data {} }
                """.formatted(swtpm.dataPort(), dir.resolve("no-event-log")));
        return AgentRuntime.start(settings, Optional.empty(), agentClock,
                new SecureRandom(), SYNC);
    }

    private SpiffeId agentId() {
        return SpiffeId.parse("spiffe://example.org/spire/agent/tpm/" + ekHash);
    }

    private void extend(int pcr) {
        swtpm.tpm().PCR_Extend(TPM_HANDLE.pcr(pcr), new TPMT_HA[] {new TPMT_HA(TPM_ALG_ID.SHA256, new byte[32])});
        swtpm.disconnect();
    }

    private void reset(int pcr) {
        swtpm.tpm().PCR_Reset(TPM_HANDLE.pcr(pcr));
        swtpm.disconnect();
    }

    private WorkloadIdentity awaitWorkload(Predicate<WorkloadIdentity> condition) throws Exception {
        CompletableFuture<WorkloadIdentity> reached = new CompletableFuture<>();
        try (var watch = agent.cache().watch(List.of(uid), identity -> identity.filter(condition)
                .ifPresent(reached::complete))) {
            return reached.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        }
    }

    private static Predicate<WorkloadIdentity> holds(SpiffeId id) {
        return identity -> identity.svids().stream().map(WorkloadX509Svid::spiffeId).anyMatch(id::equals);
    }

    private static void await(String what, Callable<Boolean> condition) throws Exception {
        RuntimeTestSupport.await(what, WAIT, condition);
    }

    private void pastRenewal() {
        agentClock.pastRenewalOf(agent);
    }

    private long counter(String name, String... labels) {
        return RuntimeTestSupport.counter(server, name, labels);
    }

    private long attestations(String result) {
        return counter(ServerMetrics.ATTESTATIONS, "attestor=\"tpm\"", "result=\"" + result + "\"");
    }

    private long renewals(String result) {
        return counter(ServerMetrics.RENEWAL_ATTESTATIONS, "attestor=\"tpm\"", "result=\"" + result + "\"");
    }

    @Test
    void pcrDrift_refusesTheRenewal_evictsTheAgent_andItAttestsAgainOnceBackInPolicy() throws Exception {
        agent = startAgent();
        awaitWorkload(holds(WORKLOAD));
        extend(23);
        pastRenewal();
        await("drift refused", () -> renewals("drift") >= 1);
        await("evicted", () -> server.dataStore().getNode(agentId()).isEmpty()
                || attestations("rejected") >= 1);
        // Re-attestation is refused while PCR 23 is outside the enrolment's policy; the reason names the PCR.
        await("attestation refused", () -> agent.status().reason().contains(PcrPolicies.ENROLLED_POLICY_MISMATCH));
        assertTrue(agent.status().reason().contains("23"), agent.status().reason());
        assertEquals(1, attestations("success"));
        reset(23);
        await("attested again", () -> attestations("success") == 2);
        awaitWorkload(holds(WORKLOAD));
        assertTrue(server.dataStore().getNode(agentId()).isPresent());
    }

    @Test
    void unenrolledTpm_refused_noNode() throws Exception {
        server.close();
        server = startServer("unenrolled"); // another datastore: nothing enrolled
        agent = startAgent();
        await("refused", () -> agent.status().reason().contains(TpmServerAttestor.EK_NOT_ENROLLED));
        assertFalse(agent.status().attested());
        assertTrue(server.dataStore().getNode(agentId()).isEmpty());
        assertEquals(0, attestations("success"));
        assertTrue(attestations("rejected") >= 1);
    }
}
