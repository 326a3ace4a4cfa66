package dev.bourne.agent.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bourne.agent.cli.WorkloadClient;
import dev.bourne.agent.node.AgentStateStore;
import dev.bourne.agent.node.AgentSvid;
import dev.bourne.agent.workloadapi.WorkloadIdentity;
import dev.bourne.appliance.datastore.RegistrationEntry;
import dev.bourne.appliance.health.ServerMetrics;
import dev.bourne.appliance.server.BourneServer;
import dev.bourne.core.bundle.SpiffeBundle;
import dev.bourne.core.config.AgentSettings;
import dev.bourne.core.config.HealthCheckSettings;
import dev.bourne.core.config.ServerSettings;
import dev.bourne.core.selector.Selector;
import dev.bourne.core.spiffeid.SpiffeId;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.spiffe.svid.jwtsvid.JwtSvid;
import io.spiffe.svid.x509svid.X509Svid;
import io.spiffe.svid.x509svid.X509SvidValidator;
import io.spiffe.workloadapi.DefaultWorkloadApiClient;
import io.spiffe.workloadapi.WorkloadApiClient;
import io.spiffe.workloadapi.X509Context;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A whole agent (configuration, TLS 1.3 to the server, join-token attestation, sync, agent SVID renewal, Workload API
 * socket) against the real Bourne server (appliance at test scope: SQLite datastore, disk key manager, agent API on
 * TLS 1.3) in the same JVM, with java-spiffe as the workload. One server serves the whole class; every test has its
 * own join token, agent data_dir and socket, and what the server saw is read from its datastore and its metrics (as
 * differences, since the server outlives each test).
 */
class AgentRuntimeTest {
    private static final Duration SYNC = Duration.ofMillis(250);
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final String WORKLOAD = "spiffe://example.org/workload";
    private static final String AGENT_PREFIX = "spiffe://example.org/spire/agent/join_token/";
    private static final Duration AGENT_TTL = Duration.ofMinutes(10);

    @TempDir
    static Path serverDir;
    private static BourneServer server;
    private static int port;

    @TempDir
    Path dir;
    private AgentRuntime agent;
    private Selector uid;

    @BeforeAll
    static void startServer() throws Exception {
        server = BourneServer.start(serverSettings(0), Clock.systemUTC());
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
    }

    @AfterEach
    void stop() throws Exception {
        if (agent != null) {
            agent.close();
        }
        if (server == null) {
            // A test that stopped the server failed before starting it again: the next test needs it.
            server = BourneServer.start(serverSettings(port), Clock.systemUTC());
        }
    }

    private static ServerSettings serverSettings(int agentPort) throws Exception {
        return RuntimeTestSupport.serverSettings(serverDir, AGENT_TTL, false,
                "NodeAttestor \"join_token\" { plugin_data {} }", agentPort);
    }

    private AgentSettings settings(String keyManager) throws Exception {
        return RuntimeTestSupport.agentSettings(server, port, dir, dir.resolve("data"), """
                NodeAttestor "join_token" { plugin_data {} }
                KeyManager "%s" { plugin_data {} }
                WorkloadAttestor "unix" { plugin_data {} }
                """.formatted(keyManager));
    }

    /**
     * Creates a join token in the server's datastore and registers {@code spiffeId} for this JVM's uid under the
     * agent ID that token will give; returns the token.
     */
    private String tokenWithEntry(String spiffeId) throws Exception {
        String token = "token-" + System.nanoTime();
        server.dataStore().createJoinToken(token, Instant.now().plus(Duration.ofMinutes(10)));
        register(spiffeId, token);
        return token;
    }

    private RegistrationEntry register(String spiffeId, String token) throws Exception {
        return server.dataStore().createEntry(RegistrationEntry.builder().spiffeId(SpiffeId.parse(spiffeId))
                .parentId(SpiffeId.parse(AGENT_PREFIX + token)).selectors(List.of(uid)).build());
    }

    private AgentRuntime startAgent(String keyManager, Optional<String> token) throws Exception {
        return startAgent(keyManager, token, Clock.systemUTC());
    }

    private AgentRuntime startAgent(String keyManager, Optional<String> token, Clock clock) throws Exception {
        return AgentRuntime.start(settings(keyManager), token, clock, new SecureRandom(), SYNC);
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

    /** Waits until the agent has finished {@code rounds} more rounds of server work. */
    private static void awaitRounds(AgentRuntime runtime, int rounds) throws Exception {
        CountDownLatch done = new CountDownLatch(rounds);
        runtime.onStatus(s -> done.countDown());
        assertTrue(done.await(WAIT.toSeconds(), TimeUnit.SECONDS), "the agent stopped working");
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

    private WorkloadApiClient javaSpiffe() throws Exception {
        return DefaultWorkloadApiClient.newClient(DefaultWorkloadApiClient.ClientOptions.builder()
                .spiffeSocketPath("unix:" + agent.socketPath()).build());
    }

    /** Join-token attestations the server counted with {@code result} ({@code success}, {@code rejected}, ...). */
    private static long attestations(String result) {
        return counter(ServerMetrics.ATTESTATIONS, "attestor=\"join_token\"", "result=\"" + result + "\"");
    }

    /** SVIDs of {@code kind} ({@code agent}, {@code x509}, {@code jwt}) the server issued. */
    private static long svidsIssued(String kind) {
        return counter(ServerMetrics.SVIDS_ISSUED, "kind=\"" + kind + "\"");
    }

    private static long counter(String name, String... labels) {
        return RuntimeTestSupport.counter(server, name, labels);
    }

    @Test
    void joinsWithAToken_syncsTheEntry_andJavaSpiffeGetsServerSignedSvids() throws Exception {
        String token = tokenWithEntry(WORKLOAD);
        long jwtBefore = svidsIssued("jwt");
        agent = startAgent("memory", Optional.of(token));
        awaitIdentity(WorkloadIdentity::hasIdentity);

        assertTrue(awaitStatus(agent, AgentStatus::ready).ready());
        assertEquals(AGENT_PREFIX + token, agent.agentId().orElseThrow().toString());
        // The server spent the token: it cannot be taken again.
        assertTrue(server.dataStore().takeJoinToken(token).isEmpty());
        assertTrue(server.dataStore().getNode(agent.agentId().orElseThrow()).isPresent());
        SpiffeBundle serverBundle = server.ca().orElseThrow().bundle();
        try (WorkloadApiClient client = javaSpiffe()) {
            X509Context context = client.fetchX509Context();
            X509Svid svid = context.getDefaultSvid();
            assertEquals(WORKLOAD, svid.getSpiffeId().toString());
            X509SvidValidator.verifyChain(svid.getChain(), context.getX509BundleSet());
            // The chain ends at an authority of the server's own bundle, not merely one the agent passed along.
            X509Certificate last = svid.getChain().get(svid.getChain().size() - 1);
            assertTrue(serverBundle.x509Authorities().stream().anyMatch(ca -> {
                try {
                    last.verify(ca.getPublicKey());
                    return true;
                } catch (GeneralSecurityException e) {
                    return false;
                }
            }));

            JwtSvid jwt = client.fetchJwtSvid(io.spiffe.spiffeid.SpiffeId.parse(WORKLOAD), "payments");
            assertEquals(WORKLOAD, JwtSvid.parseAndValidate(jwt.getToken(), client.fetchJwtBundles(),
                    Set.of("payments")).getSpiffeId().toString());
            assertEquals(WORKLOAD, client.validateJwtSvid(jwt.getToken(), "payments").getSpiffeId().toString());
            JwtSvid again = client.fetchJwtSvid(io.spiffe.spiffeid.SpiffeId.parse(WORKLOAD), "payments");
            assertEquals(jwt.getToken(), again.getToken());
            // The second fetch was served from the agent's cache: the server minted one JWT-SVID.
            assertEquals(1, svidsIssued("jwt") - jwtBefore);
        }
        assertTrue(Files.exists(dir.resolve("data").resolve(AgentStateStore.BUNDLE_FILE)));
        assertFalse(Files.exists(dir.resolve("data").resolve(AgentStateStore.KEY_FILE)));
    }

    @Test
    void serverDown_cachedSvidStillServed_thenSyncResumes() throws Exception {
        String token = tokenWithEntry(WORKLOAD);
        agent = startAgent("memory", Optional.of(token));
        awaitIdentity(WorkloadIdentity::hasIdentity);

        server.close();
        server = null;
        AgentStatus down = awaitStatus(agent, s -> s.reason().contains("UNAVAILABLE"));
        assertTrue(down.attested());
        try (WorkloadApiClient client = javaSpiffe()) {
            assertEquals(WORKLOAD, client.fetchX509Context().getDefaultSvid().getSpiffeId().toString());
        }

        // The same data_dir, datastore and keys on the same port: the agent's node and CA are still known.
        server = BourneServer.start(serverSettings(port), Clock.systemUTC());
        register("spiffe://example.org/second", token);
        WorkloadIdentity both = awaitIdentity(identity -> identity.svids().size() == 2);
        assertEquals(Set.of(WORKLOAD, "spiffe://example.org/second"), Set.copyOf(both.svids().stream()
                .map(s -> s.spiffeId().toString()).toList()));
        assertTrue(awaitStatus(agent, s -> s.ready() && s.reason().isEmpty()).lastSync().isPresent());
    }

    @Test
    void entryDeleted_workloadIsDeniedWithinASyncInterval() throws Exception {
        String token = "token-" + System.nanoTime();
        server.dataStore().createJoinToken(token, Instant.now().plus(Duration.ofMinutes(10)));
        RegistrationEntry entry = register(WORKLOAD, token);
        agent = startAgent("memory", Optional.of(token));
        awaitIdentity(WorkloadIdentity::hasIdentity);

        server.dataStore().deleteEntry(entry.id());
        awaitIdentity(identity -> !identity.hasIdentity());

        try (WorkloadClient client = new WorkloadClient(agent.socketPath(), Duration.ofSeconds(10))) {
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class, client::fetchX509);
            assertEquals(Status.Code.PERMISSION_DENIED, e.getStatus().getCode());
        }
    }

    @Test
    void evicted_reattestsButTheSpentTokenLeavesTheAgentNotReady() throws Exception {
        String token = tokenWithEntry(WORKLOAD);
        long succeeded = attestations("success");
        long rejected = attestations("rejected");
        agent = startAgent("memory", Optional.of(token));
        awaitIdentity(WorkloadIdentity::hasIdentity);

        // Eviction as an operator does it: the server forgets the attested node.
        server.dataStore().deleteNode(agent.agentId().orElseThrow());
        AgentStatus status = awaitStatus(agent, s -> s.reason().equals(AgentRuntime.JOIN_TOKEN_SPENT));

        assertFalse(status.attested());
        assertFalse(status.ready());
        assertTrue(agent.agentId().isEmpty());
        assertTrue(server.dataStore().getNode(SpiffeId.parse(AGENT_PREFIX + token)).isEmpty());
        assertTrue(server.dataStore().takeJoinToken(token).isEmpty());
        // One attestation in all: the agent knows a join token is single use and does not present it again.
        assertEquals(1, attestations("success") - succeeded);
        assertEquals(0, attestations("rejected") - rejected);
    }

    @Test
    void healthListener_liveAlways_readyOnceAttestedAndSynced() throws Exception {
        AgentSettings s = settings("memory");
        AgentSettings withHealth = new AgentSettings(s.dataDir(), s.logLevel(), s.logFormat(), s.serverAddress(),
                s.serverPort(), s.socketPath(), s.trustBundlePath(), s.trustBundleUrl(), s.insecureBootstrap(),
                s.trustDomain(), s.joinToken(), s.workloadX509SvidKeyType(), s.adminSocketPath(),
                new HealthCheckSettings(true, "127.0.0.1", 0, "/live", "/ready"), s.prometheus(), s.plugins());
        String token = tokenWithEntry(WORKLOAD);
        agent = AgentRuntime.start(withHealth, Optional.of(token), Clock.systemUTC(), new SecureRandom(), SYNC);
        int healthPort = agent.healthPort().orElseThrow();
        HttpClient http = HttpClient.newHttpClient();
        awaitStatus(agent, AgentStatus::ready);

        assertEquals(200, get(http, healthPort, "/live").statusCode());
        assertEquals(200, get(http, healthPort, "/ready").statusCode());
        agent.close();

        // A second agent without a token: live, but not ready, and /ready says why.
        agent = AgentRuntime.start(new AgentSettings(dir.resolve("data2"), s.logLevel(), s.logFormat(),
                s.serverAddress(), s.serverPort(), dir.resolve("api2.sock"), s.trustBundlePath(),
                s.trustBundleUrl(), s.insecureBootstrap(), s.trustDomain(), Optional.empty(),
                s.workloadX509SvidKeyType(), s.adminSocketPath(),
                new HealthCheckSettings(true, "127.0.0.1", 0, "/live", "/ready"), s.prometheus(), s.plugins()),
                Optional.empty(), Clock.systemUTC(), new SecureRandom(), SYNC);
        int notReadyPort = agent.healthPort().orElseThrow();
        awaitStatus(agent, st -> st.reason().equals(AgentRuntime.NO_JOIN_TOKEN));

        assertEquals(200, get(http, notReadyPort, "/live").statusCode());
        HttpResponse<String> notReady = get(http, notReadyPort, "/ready");
        assertEquals(503, notReady.statusCode());
        assertEquals("not ready: " + AgentRuntime.NO_JOIN_TOKEN + "\n", notReady.body());
    }

    private static HttpResponse<String> get(HttpClient http, int port, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void noToken_notReadyWithTheReason() throws Exception {
        long attempts = attestations("success") + attestations("rejected") + attestations("invalid_request");
        agent = startAgent("memory", Optional.empty());
        AgentStatus status = awaitStatus(agent, s -> !s.reason().equals(AgentRuntime.STARTING));
        assertEquals(AgentRuntime.NO_JOIN_TOKEN, status.reason());
        assertFalse(status.ready());
        try (WorkloadClient client = new WorkloadClient(agent.socketPath(), Duration.ofSeconds(10))) {
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class, client::fetchX509);
            assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode());
        }
        // Nothing to present, so nothing reached the server.
        assertEquals(attempts, attestations("success") + attestations("rejected") + attestations("invalid_request"));
    }

    @Test
    void unknownToken_refusedAndNotRetried() throws Exception {
        long succeeded = attestations("success");
        long rejected = attestations("rejected");
        agent = startAgent("memory", Optional.of("not-a-token-" + System.nanoTime()));
        AgentStatus status = awaitStatus(agent, s -> !s.reason().equals(AgentRuntime.STARTING));
        assertEquals(AgentRuntime.JOIN_TOKEN_SPENT, status.reason());
        assertFalse(status.attested());
        assertEquals(1, attestations("rejected") - rejected);

        // Another round of the agent's loop presents the token no more; once closed, no round is left to run.
        agent.close();
        agent = null;
        assertEquals(1, attestations("rejected") - rejected);
        assertEquals(0, attestations("success") - succeeded);
    }

    @Test
    void diskKeyManager_restartResumesWithoutAttestingAgain() throws Exception {
        String token = tokenWithEntry(WORKLOAD);
        long succeeded = attestations("success");
        agent = startAgent("disk", Optional.of(token));
        awaitIdentity(WorkloadIdentity::hasIdentity);
        String id = agent.agentId().orElseThrow().toString();
        agent.close();
        agent = null;
        Path key = dir.resolve("data").resolve(AgentStateStore.KEY_FILE);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(key)));

        agent = startAgent("disk", Optional.empty());
        awaitIdentity(WorkloadIdentity::hasIdentity);
        // Synced as the saved agent: the server accepted the SVID from the first run over mutual TLS.
        assertTrue(awaitStatus(agent, s -> s.ready() && s.reason().isEmpty()).attested());

        assertEquals(id, agent.agentId().orElseThrow().toString());
        assertEquals(1, attestations("success") - succeeded);
    }

    @Test
    void agentSvid_renewedAtHalfLifeOverMutualTls_andTheServerAcceptsTheNewOne() throws Exception {
        String token = tokenWithEntry(WORKLOAD);
        long succeeded = attestations("success");
        long agentSvids = svidsIssued("agent");
        ShiftedClock clock = new ShiftedClock();
        agent = startAgent("memory", Optional.of(token), clock);
        awaitIdentity(WorkloadIdentity::hasIdentity);
        AgentSvid first = agent.agentSvid().orElseThrow();
        // The server's agent_ttl, not its default hour (the server backdates notBefore a little).
        assertFalse(first.notAfter().isAfter(Instant.now().plus(AGENT_TTL)));

        // Before half-life: rounds pass and the agent keeps its SVID.
        awaitRounds(agent, 3);
        assertEquals(first.leaf().getSerialNumber(), agent.agentSvid().orElseThrow().leaf().getSerialNumber());
        assertEquals(1, svidsIssued("agent") - agentSvids);

        // The agent's clock past half-life; the server's clock stays real, so it checks the TLS client certificate
        // and issues the new SVID as at any other time.
        clock.shift(Duration.between(Instant.now(), first.renewAt()).plusSeconds(1));
        // The round that renews also syncs with the new certificate: ready with no reason only if the server
        // accepted it (it retires the old SVID once the new one is used).
        AgentStatus after = awaitStatus(agent, s -> !agent.agentSvid().orElseThrow().leaf().getSerialNumber()
                .equals(first.leaf().getSerialNumber()) && s.ready() && s.reason().isEmpty()
                && s.lastSync().orElseThrow().isAfter(first.renewAt()));
        clock.shift(Duration.ZERO);

        AgentSvid renewed = agent.agentSvid().orElseThrow();
        assertTrue(after.attested());
        assertEquals(first.spiffeId(), renewed.spiffeId());
        assertNotEquals(first.leaf().getSerialNumber(), renewed.leaf().getSerialNumber());
        // Certificate times have whole seconds: a renewal within the first SVID's second ends at the same second.
        assertFalse(renewed.notAfter().isBefore(first.notAfter()));
        // Renewed, not attested again: the server issued a second agent SVID on the authenticated channel and now
        // knows the node by the new certificate.
        assertEquals(1, attestations("success") - succeeded);
        assertEquals(2, svidsIssued("agent") - agentSvids);
        assertEquals(renewed.leaf().getSerialNumber().toString(), server.dataStore().getNode(renewed.spiffeId())
                .orElseThrow().certificate().orElseThrow().serialNumber());
    }

    /** The real clock moved by an offset the test sets: the agent lives ahead while the server keeps real time. */
    private static final class ShiftedClock extends Clock {
        private final AtomicReference<Duration> offset = new AtomicReference<>(Duration.ZERO);

        void shift(Duration by) {
            offset.set(by);
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return Instant.now().plus(offset.get());
        }
    }
}
