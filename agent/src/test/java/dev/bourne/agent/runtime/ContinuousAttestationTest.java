package dev.bourne.agent.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.bourne.agent.cache.WorkloadKeyGenerator;
import dev.bourne.agent.node.AgentApiClient;
import dev.bourne.agent.node.AgentKeys;
import dev.bourne.agent.node.AgentSvid;
import dev.bourne.agent.node.Csrs;
import dev.bourne.agent.node.JoinTokenAttestor;
import dev.bourne.agent.node.ServerCallException;
import dev.bourne.agent.node.ServerConnection;
import dev.bourne.agent.node.ServerTrust;
import dev.bourne.agent.workloadapi.WorkloadIdentity;
import dev.bourne.agent.workloadapi.WorkloadX509Svid;
import dev.bourne.api.v1.AgentGrpc;
import dev.bourne.api.v1.AgentX509SVIDParams;
import dev.bourne.api.v1.NewRenewalChallengeRequest;
import dev.bourne.api.v1.RenewAgentRequest;
import dev.bourne.api.v1.RenewAgentResponse;
import dev.bourne.appliance.agentapi.AgentAttestation;
import dev.bourne.appliance.agentapi.AgentAuthenticator;
import dev.bourne.appliance.datastore.AttestedNode;
import dev.bourne.appliance.datastore.RegistrationEntry;
import dev.bourne.appliance.health.ServerMetrics;
import dev.bourne.appliance.server.AdminServicesFactory;
import dev.bourne.appliance.server.BourneServer;
import dev.bourne.core.config.AgentSettings;
import dev.bourne.core.config.ConfigSecret;
import dev.bourne.core.config.ServerSettings;
import dev.bourne.core.selector.Selector;
import dev.bourne.core.spiffeid.SpiffeId;
import dev.bourne.core.spiffeid.TrustDomain;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Continuous attestation end to end: the real Bourne server (SQLite, disk key manager, agent API on TLS 1.3, audit log
 * on) with a test attestor pair plugged into its catalog ({@link HmacAttestors}), and the real agent runtime or a raw
 * mTLS client holding a real agent SVID. Renewal with valid evidence renews and moves the node's selectors (entries
 * follow); missing, stale, replayed and wrong evidence is refused; drift is refused and audited, and evicts when the
 * attestor says so; join-token agents renew exactly as before.
 */
class ContinuousAttestationTest {
    private static final TrustDomain TD = TrustDomain.parse("example.org");
    private static final Duration SYNC = Duration.ofMillis(250);
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final Duration AGENT_TTL = Duration.ofMinutes(10);
    private static final SpiffeId SERVER_ID = SpiffeId.parse("spiffe://example.org/spire/server");

    @TempDir
    static Path serverDir;
    private static BourneServer server;
    private static HmacAttestors.Server attestor;
    private static int port;

    @TempDir
    Path dir;
    private final List<AutoCloseable> closeables = new ArrayList<>();
    private AgentRuntime agent;
    private Selector uid;
    private String host;
    private RuntimeTestSupport.StderrTee stderr;

    @BeforeAll
    static void startServer() throws Exception {
        attestor = new HmacAttestors.Server(TD);
        server = BourneServer.startWithAttestors(serverSettings(), Clock.systemUTC(), new SecureRandom(),
                AdminServicesFactory.NONE, List.of(attestor));
        port = server.agentApiPort().orElseThrow();
    }

    @AfterAll
    static void stopServer() {
        if (server != null) {
            server.close();
        }
    }

    @BeforeEach
    void start() throws Exception {
        uid = new Selector("unix", "uid:" + Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
        host = "node-" + System.nanoTime();
        attestor.evictOnDrift(false);
        // The audit log goes to stderr (slf4j-simple): keep a copy to assert on, still print it.
        stderr = RuntimeTestSupport.StderrTee.start();
    }

    @AfterEach
    void stop() throws Exception {
        if (agent != null) {
            agent.close();
        }
        for (AutoCloseable c : closeables) {
            c.close();
        }
        stderr.close();
    }

    /** The audit log lines written since the test started (the agent's own log lines are left out). */
    private String auditLog() {
        return stderr.auditLog();
    }

    private static ServerSettings serverSettings() throws Exception {
        return RuntimeTestSupport.serverSettings(serverDir, AGENT_TTL, true,
                "NodeAttestor \"join_token\" { plugin_data {} }", 0);
    }

    private AgentSettings agentSettings() throws Exception {
        return RuntimeTestSupport.agentSettings(server, port, dir, dir.resolve("data"), """
                NodeAttestor "join_token" { plugin_data {} }
                KeyManager "memory" { plugin_data {} }
                WorkloadAttestor "unix" { plugin_data {} }
                """);
    }

    /** A node alias for policy {@code policy} and a workload entry under it for this JVM's uid. */
    private SpiffeId registerUnderPolicy(String policy) throws Exception {
        SpiffeId alias = SpiffeId.parse("spiffe://example.org/node/" + host + "/" + policy);
        server.dataStore().createEntry(RegistrationEntry.builder().spiffeId(alias).parentId(SERVER_ID)
                .selectors(List.of(new Selector(HmacAttestors.NAME, "policy:" + host + "-" + policy))).build());
        SpiffeId workload = SpiffeId.parse("spiffe://example.org/workload/" + host + "/" + policy);
        server.dataStore().createEntry(RegistrationEntry.builder().spiffeId(workload).parentId(alias)
                .selectors(List.of(uid)).build());
        return workload;
    }

    private AgentRuntime startAgent(HmacAttestors.Agent nodeAttestor, Clock clock) throws Exception {
        return AgentRuntime.startWithAttestor(agentSettings(), Optional.of(nodeAttestor), clock, new SecureRandom(),
                SYNC);
    }

    private SpiffeId agentId() {
        return HmacAttestors.Server.agentId(TD, host);
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

    private WorkloadIdentity awaitIdentity(Predicate<WorkloadIdentity> condition) throws Exception {
        CompletableFuture<WorkloadIdentity> reached = new CompletableFuture<>();
        var watch = agent.cache().watch(List.of(uid), identity -> identity.filter(condition)
                .ifPresent(reached::complete));
        try {
            return reached.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        } finally {
            watch.close();
        }
    }

    private static Predicate<WorkloadIdentity> exactly(SpiffeId... ids) {
        List<String> wanted = java.util.Arrays.stream(ids).map(SpiffeId::toString).sorted().toList();
        return identity -> identity.svids().stream().map(WorkloadX509Svid::spiffeId).map(SpiffeId::toString)
                .sorted().toList().equals(wanted);
    }

    private void pastRenewal(ShiftedClock clock) {
        clock.pastRenewalOf(agent);
    }

    private static long occurrences(String text, String part) {
        long n = 0;
        for (int i = text.indexOf(part); i >= 0; i = text.indexOf(part, i + 1)) {
            n++;
        }
        return n;
    }

    private static long renewals(String attestorName, String result) {
        return counter(ServerMetrics.RENEWAL_ATTESTATIONS, "attestor=\"" + attestorName + "\"",
                "result=\"" + result + "\"");
    }

    private static long svidsIssued(String kind) {
        return counter(ServerMetrics.SVIDS_ISSUED, "kind=\"" + kind + "\"");
    }

    private static long counter(String name, String... labels) {
        return RuntimeTestSupport.counter(server, name, labels);
    }

    private static Optional<AttestedNode> node(SpiffeId id) throws Exception {
        return server.dataStore().getNode(id);
    }

    // ---- the real agent runtime ----

    @Test
    void renewal_withValidEvidence_renews_andTheNodesSelectorsMove_entriesFollow() throws Exception {
        attestor.policy(host, host + "-a");
        SpiffeId workloadA = registerUnderPolicy("a");
        SpiffeId workloadB = registerUnderPolicy("b");
        long succeeded = renewals(HmacAttestors.NAME, "success");
        long agentSvids = svidsIssued("agent");
        HmacAttestors.Agent nodeAttestor = new HmacAttestors.Agent(host);
        ShiftedClock clock = new ShiftedClock();
        agent = startAgent(nodeAttestor, clock);
        awaitIdentity(exactly(workloadA));
        AgentSvid first = agent.agentSvid().orElseThrow();
        assertEquals(agentId(), first.spiffeId());

        // The node now satisfies policy b: the next renewal's evidence says so.
        attestor.policy(host, host + "-b");
        pastRenewal(clock);
        awaitIdentity(exactly(workloadB));

        AgentSvid renewed = agent.agentSvid().orElseThrow();
        assertNotEquals(first.leaf().getSerialNumber(), renewed.leaf().getSerialNumber());
        assertEquals(first.spiffeId(), renewed.spiffeId());
        assertEquals(1, nodeAttestor.evidenceGiven.get());
        assertEquals(1, renewals(HmacAttestors.NAME, "success") - succeeded);
        assertEquals(2, svidsIssued("agent") - agentSvids);
        AttestedNode stored = node(agentId()).orElseThrow();
        assertEquals(List.of(new Selector(HmacAttestors.NAME, "host:" + host),
                new Selector(HmacAttestors.NAME, "policy:" + host + "-b")), stored.selectors());
        await("the renewed SVID in use", () -> node(agentId()).orElseThrow().certificate().orElseThrow()
                .serialNumber().equals(renewed.leaf().getSerialNumber().toString()));
        String log = auditLog();
        assertTrue(log.contains("agent SVID renewed with continuous attestation: attestor=hmac_test agent_id="
                + agentId() + " selectors=[hmac_test:host:" + host + ", hmac_test:policy:" + host + "-b]"
                + " selectors_changed=true evidence=[hmac "), log);
        assertTrue(log.contains("svid_serial=" + renewed.leaf().getSerialNumber()), log);
    }

    @Test
    void drift_refusesTheRenewal_audited_agentKeepsItsSvid_andRenewsOnceBackInPolicy() throws Exception {
        attestor.policy(host, host + "-a");
        SpiffeId workloadA = registerUnderPolicy("a");
        long drifts = renewals(HmacAttestors.NAME, "drift");
        HmacAttestors.Agent nodeAttestor = new HmacAttestors.Agent(host);
        ShiftedClock clock = new ShiftedClock();
        agent = startAgent(nodeAttestor, clock);
        awaitIdentity(exactly(workloadA));
        AgentSvid first = agent.agentSvid().orElseThrow();
        long agentSvids = svidsIssued("agent");

        attestor.drift(host, true);
        pastRenewal(clock);
        // Renewal refused, then the attestor (reusable) attests again and is refused too: the agent says why.
        AgentStatus refused = awaitStatus(agent, s -> s.reason().contains(HmacAttestors.DRIFTED));
        assertTrue(refused.attested());
        await("the drift refusal counted", () -> renewals(HmacAttestors.NAME, "drift") > drifts);
        assertEquals(first.leaf().getSerialNumber(), agent.agentSvid().orElseThrow().leaf().getSerialNumber());
        assertEquals(0, svidsIssued("agent") - agentSvids);
        // Not evicted: the node stays, with its current certificate and nothing pending.
        AttestedNode stored = node(agentId()).orElseThrow();
        assertEquals(first.leaf().getSerialNumber().toString(), stored.certificate().orElseThrow().serialNumber());
        assertTrue(stored.newCertificate().isEmpty());
        String log = auditLog();
        assertTrue(log.contains("agent SVID renewal refused: attestor=hmac_test agent_id=" + agentId()
                + " reason=" + HmacAttestors.DRIFTED), log);
        assertFalse(log.contains("agent evicted by continuous attestation: attestor=hmac_test agent_id="
                + agentId()), log);

        // Back in policy: the next round renews (renews: the key agreed at attestation still answers).
        long succeeded = renewals(HmacAttestors.NAME, "success");
        attestor.drift(host, false);
        awaitStatus(agent, s -> s.ready() && s.reason().isEmpty()
                && !agent.agentSvid().orElseThrow().leaf().getSerialNumber().equals(first.leaf().getSerialNumber()));
        assertEquals(first.spiffeId(), agent.agentId().orElseThrow());
        assertEquals(1, renewals(HmacAttestors.NAME, "success") - succeeded);
    }

    @Test
    void driftWithEviction_evictsTheNode_audited_andTheAgentMustAttestAgain() throws Exception {
        attestor.policy(host, host + "-a");
        SpiffeId workloadA = registerUnderPolicy("a");
        attestor.evictOnDrift(true);
        HmacAttestors.Agent nodeAttestor = new HmacAttestors.Agent(host);
        ShiftedClock clock = new ShiftedClock();
        agent = startAgent(nodeAttestor, clock);
        awaitIdentity(exactly(workloadA));
        AgentSvid first = agent.agentSvid().orElseThrow();
        String attested = "node attestation succeeded: attestor=hmac_test agent_id=" + agentId() + " ";

        attestor.drift(host, true);
        pastRenewal(clock);
        await("the eviction", () -> auditLog().contains("agent evicted by continuous attestation: attestor=hmac_test"
                + " agent_id=" + agentId() + " reason=" + HmacAttestors.DRIFTED));
        // Evicted, and attesting again is refused while the node is outside policy.
        assertTrue(node(agentId()).isEmpty());
        awaitStatus(agent, s -> s.reason().contains(HmacAttestors.DRIFTED));
        assertTrue(node(agentId()).isEmpty());
        assertTrue(auditLog().contains("node attestation failed: attestor=hmac_test reason=" + HmacAttestors.DRIFTED));

        // Back in policy: the agent attests from scratch (a new node record) and serves workloads again.
        attestor.drift(host, false);
        awaitStatus(agent, s -> s.ready() && s.reason().isEmpty());
        await("the node attested again", () -> node(agentId()).isPresent());
        assertNotEquals(first.leaf().getSerialNumber(), agent.agentSvid().orElseThrow().leaf().getSerialNumber());
        assertEquals(2, occurrences(auditLog(), attested), auditLog());
        awaitIdentity(exactly(workloadA));
    }

    @Test
    void attestorWithoutEvidence_renewalRefused_keepsItsSvid() throws Exception {
        attestor.policy(host, host + "-a");
        SpiffeId workloadA = registerUnderPolicy("a");
        HmacAttestors.Agent nodeAttestor = new HmacAttestors.Agent(host);
        ShiftedClock clock = new ShiftedClock();
        agent = startAgent(nodeAttestor, clock);
        awaitIdentity(exactly(workloadA));
        AgentSvid first = agent.agentSvid().orElseThrow();

        nodeAttestor.withholdEvidence(true);
        pastRenewal(clock);
        // The agent sends the renewal without evidence, is refused, attests again (reusable) and gets a new SVID.
        awaitStatus(agent, s -> s.ready() && s.reason().isEmpty()
                && !agent.agentSvid().orElseThrow().leaf().getSerialNumber().equals(first.leaf().getSerialNumber()));
        assertTrue(auditLog().contains("agent SVID renewal refused: attestor=hmac_test agent_id=" + agentId()
                + " reason=" + AgentAttestation.EVIDENCE_MISSING), auditLog());
        assertEquals(0, nodeAttestor.evidenceGiven.get());
    }

    @Test
    void joinTokenAgent_renewsExactlyAsBefore_noChallenge() throws Exception {
        String token = "token-" + System.nanoTime();
        server.dataStore().createJoinToken(token, Instant.now().plus(Duration.ofMinutes(10)));
        SpiffeId agentIdJt = SpiffeId.parse("spiffe://example.org/spire/agent/join_token/" + token);
        SpiffeId workload = SpiffeId.parse("spiffe://example.org/workload/" + host);
        server.dataStore().createEntry(RegistrationEntry.builder().spiffeId(workload).parentId(agentIdJt)
                .selectors(List.of(uid)).build());
        long agentSvids = svidsIssued("agent");
        int challenges = attestor.challengesIssued.get();
        ShiftedClock clock = new ShiftedClock();
        agent = AgentRuntime.start(agentSettings(), Optional.of(token), clock, new SecureRandom(), SYNC);
        awaitIdentity(exactly(workload));
        AgentSvid first = agent.agentSvid().orElseThrow();

        pastRenewal(clock);
        awaitStatus(agent, s -> s.ready() && s.reason().isEmpty()
                && !agent.agentSvid().orElseThrow().leaf().getSerialNumber().equals(first.leaf().getSerialNumber()));
        assertEquals(2, svidsIssued("agent") - agentSvids);
        assertEquals(challenges, attestor.challengesIssued.get());
        String log = auditLog();
        assertTrue(log.contains("agent SVID renewed: agent_id=spiffe://example.org/spire/agent/join_token/sha256:"
                + dev.bourne.appliance.attestation.JoinTokenAttestor.fingerprint(token)), log);
        assertFalse(log.contains(token), log);
        assertFalse(log.contains("agent SVID renewal refused"), log);
    }

    // ---- a raw agent holding a real agent SVID: what the runtime never sends ----

    /** An agent attested with the test attestor, calling the agent API directly over mTLS with its agent SVID. */
    private final class RawAgent implements AutoCloseable {
        final HmacAttestors.Agent nodeAttestor;
        final ServerConnection connection;
        final AgentSvid svid;
        final WorkloadKeyGenerator keys = new WorkloadKeyGenerator(new SecureRandom());

        RawAgent(HmacAttestors.Agent nodeAttestor) throws Exception {
            this.nodeAttestor = nodeAttestor;
            AgentKeys agentKeys = new AgentKeys();
            connection = new ServerConnection("127.0.0.1", port,
                    new ServerTrust(TD, Optional.of(server.ca().orElseThrow().bundle()), false, Clock.systemUTC()),
                    agentKeys);
            svid = new AgentApiClient(connection, TD, keys).attest(nodeAttestor);
            agentKeys.set(svid);
            connection.reconnect();
            closeables.add(this);
        }

        AgentGrpc.AgentBlockingStub stub() {
            return AgentGrpc.newBlockingStub(connection.channel()).withDeadlineAfter(30, TimeUnit.SECONDS);
        }

        byte[] challenge() {
            return stub().newRenewalChallenge(NewRenewalChallengeRequest.getDefaultInstance()).getChallenge()
                    .toByteArray();
        }

        RenewAgentResponse renew(byte[] evidence) {
            WorkloadKeyGenerator.GeneratedKey key = keys.generate();
            return stub().renewAgent(RenewAgentRequest.newBuilder().setParams(AgentX509SVIDParams.newBuilder()
                    .setCsr(ByteString.copyFrom(Csrs.create(key.publicKey(), key.privateKey()))))
                    .setAttestationEvidence(ByteString.copyFrom(evidence)).build());
        }

        byte[] evidence(byte[] challenge) throws Exception {
            return nodeAttestor.renewalEvidence(challenge).orElseThrow();
        }

        @Override
        public void close() {
            connection.close();
        }
    }

    private static void assertRefused(String message, org.junit.jupiter.api.function.Executable call) {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call);
        assertEquals(Status.Code.FAILED_PRECONDITION, e.getStatus().getCode(), e.toString());
        assertEquals(message, e.getStatus().getDescription());
    }

    @Test
    void raw_validEvidence_renews_andTheChallengeIsFreshEachTime() throws Exception {
        attestor.policy(host, "p");
        RawAgent raw = new RawAgent(new HmacAttestors.Agent(host));
        byte[] c1 = raw.challenge();
        byte[] c2 = raw.challenge();
        assertEquals(32, c1.length);
        assertFalse(java.util.Arrays.equals(c1, c2));
        RenewAgentResponse renewed = raw.renew(raw.evidence(c2));
        assertFalse(renewed.getSvid().getCertChainList().isEmpty());
        assertTrue(node(agentId()).orElseThrow().newCertificate().isPresent());
    }

    @Test
    void raw_noEvidence_refused_whetherOrNotAChallengeWasAskedFor() throws Exception {
        RawAgent raw = new RawAgent(new HmacAttestors.Agent(host));
        long refusals = renewals(HmacAttestors.NAME, "no_evidence");
        // Never asked: the server asks the attestor itself, so skipping NewRenewalChallenge skips nothing.
        assertRefused(AgentAttestation.EVIDENCE_REQUIRED, () -> raw.renew(new byte[0]));
        // Asked, then sent nothing: refused, and the challenge is spent.
        byte[] challenge = raw.challenge();
        assertRefused(AgentAttestation.EVIDENCE_MISSING, () -> raw.renew(new byte[0]));
        assertRefused(AgentAttestation.NO_CHALLENGE_PENDING, () -> raw.renew(raw.evidence(challenge)));
        assertEquals(3, renewals(HmacAttestors.NAME, "no_evidence") - refusals);
        assertTrue(node(agentId()).orElseThrow().newCertificate().isEmpty());
        assertTrue(auditLog().contains("agent SVID renewal refused: attestor=hmac_test agent_id=" + agentId()
                + " reason=" + AgentAttestation.EVIDENCE_REQUIRED));
    }

    @Test
    void raw_evidenceForAnOldOrUsedChallenge_refused() throws Exception {
        RawAgent raw = new RawAgent(new HmacAttestors.Agent(host));
        long rejected = renewals(HmacAttestors.NAME, "rejected");
        // A newer challenge replaces the older one: evidence for the old one no longer counts.
        byte[] old = raw.challenge();
        byte[] oldEvidence = raw.evidence(old);
        raw.challenge();
        assertRefused(AgentAttestation.RENEWAL_REFUSED + HmacAttestors.BAD_EVIDENCE, () -> raw.renew(oldEvidence));
        // That refusal spent the newer challenge too.
        assertRefused(AgentAttestation.NO_CHALLENGE_PENDING, () -> raw.renew(oldEvidence));
        // Valid evidence works once; replayed, it finds no challenge; against a fresh challenge, it is wrong.
        byte[] current = raw.challenge();
        byte[] evidence = raw.evidence(current);
        raw.renew(evidence);
        assertRefused(AgentAttestation.NO_CHALLENGE_PENDING, () -> raw.renew(evidence));
        raw.challenge();
        assertRefused(AgentAttestation.RENEWAL_REFUSED + HmacAttestors.BAD_EVIDENCE, () -> raw.renew(evidence));
        assertEquals(2, renewals(HmacAttestors.NAME, "rejected") - rejected);
        // Refused evidence is no drift: the node stays.
        assertTrue(node(agentId()).isPresent());
    }

    @Test
    void raw_anotherAgentsChallenge_cannotBeAnswered() throws Exception {
        RawAgent one = new RawAgent(new HmacAttestors.Agent(host));
        host = host + "-2";
        RawAgent two = new RawAgent(new HmacAttestors.Agent(host));
        byte[] forOne = one.challenge();
        // Agent two answers agent one's challenge with its own key: two has no challenge pending.
        assertRefused(AgentAttestation.NO_CHALLENGE_PENDING, () -> two.renew(two.evidence(forOne)));
        // And one's challenge is still one's to answer.
        one.renew(one.evidence(forOne));
    }

    @Test
    void raw_driftWithEviction_refusedWithTheReason_thenTheSvidIsRefused() throws Exception {
        attestor.evictOnDrift(true);
        RawAgent raw = new RawAgent(new HmacAttestors.Agent(host));
        byte[] challenge = raw.challenge();
        attestor.drift(host, true);
        assertRefused(AgentAttestation.RENEWAL_REFUSED + HmacAttestors.DRIFTED + AgentAttestation.EVICTED,
                () -> raw.renew(raw.evidence(challenge)));
        assertTrue(node(agentId()).isEmpty());
        // The agent SVID names an evicted node: every call is refused, and the agent knows to attest again.
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, raw::challenge);
        assertEquals(Status.Code.PERMISSION_DENIED, e.getStatus().getCode());
        assertEquals(AgentAuthenticator.NOT_ATTESTED, e.getStatus().getDescription());
        attestor.drift(host, false);
    }

    @Test
    void raw_joinTokenAgent_emptyChallenge_andEvidenceItNeverAskedForIsRefused() throws Exception {
        String token = "token-" + System.nanoTime();
        server.dataStore().createJoinToken(token, Instant.now().plus(Duration.ofMinutes(10)));
        AgentKeys agentKeys = new AgentKeys();
        ServerConnection connection = new ServerConnection("127.0.0.1", port,
                new ServerTrust(TD, Optional.of(server.ca().orElseThrow().bundle()), false, Clock.systemUTC()),
                agentKeys);
        closeables.add(connection);
        WorkloadKeyGenerator keys = new WorkloadKeyGenerator(new SecureRandom());
        AgentApiClient client = new AgentApiClient(connection, TD, keys);
        agentKeys.set(client.attest(new JoinTokenAttestor(new ConfigSecret(token))));
        connection.reconnect();
        var stub = AgentGrpc.newBlockingStub(connection.channel()).withDeadlineAfter(30, TimeUnit.SECONDS);

        assertArrayEquals(new byte[0], stub.newRenewalChallenge(NewRenewalChallengeRequest.getDefaultInstance())
                .getChallenge().toByteArray());
        WorkloadKeyGenerator.GeneratedKey key = keys.generate();
        RenewAgentRequest.Builder request = RenewAgentRequest.newBuilder().setParams(AgentX509SVIDParams
                .newBuilder().setCsr(ByteString.copyFrom(Csrs.create(key.publicKey(), key.privateKey()))));
        assertRefused(AgentAttestation.NO_CHALLENGE_PENDING, () -> stub.renewAgent(request
                .setAttestationEvidence(ByteString.copyFromUtf8("unasked")).build()));
        // The client the runtime uses: renews without evidence, as before.
        AgentSvid renewed = client.renew(Optional.empty());
        assertEquals("spiffe://example.org/spire/agent/join_token/" + token, renewed.spiffeId().toString());
    }

    @Test
    void raw_oversizedEvidence_invalidArgument() throws Exception {
        RawAgent raw = new RawAgent(new HmacAttestors.Agent(host));
        raw.challenge();
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> raw.renew(new byte[AgentAttestation.MAX_PAYLOAD_BYTES + 1]));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertEquals(AgentAttestation.EVIDENCE_TOO_LARGE, e.getStatus().getDescription());
        assertRefused(AgentAttestation.EVIDENCE_REQUIRED, () -> raw.renew(new byte[0]));
    }

    @Test
    void agentClient_refusalIsAttestationRefused_notAgentUnknown() throws Exception {
        RawAgent raw = new RawAgent(new HmacAttestors.Agent(host));
        AgentApiClient client = new AgentApiClient(raw.connection, TD, raw.keys);
        HmacAttestors.Agent withholding = new HmacAttestors.Agent(host);
        withholding.withholdEvidence(true);
        ServerCallException e = assertThrows(ServerCallException.class, () -> client.renew(Optional.of(withholding)));
        assertEquals(ServerCallException.Kind.ATTESTATION_REFUSED, e.kind());
        assertEquals(AgentApiClient.RENEWAL_REFUSED + ": " + AgentAttestation.EVIDENCE_MISSING + " ("
                + String.format(AgentApiClient.NO_EVIDENCE, HmacAttestors.NAME) + ")", e.getMessage());
        // With evidence from the attestor holding the agreed key, the same client renews.
        AgentSvid renewed = client.renew(Optional.of(raw.nodeAttestor));
        assertEquals(agentId(), renewed.spiffeId());
    }
}
