package dev.bourne.agent.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bourne.agent.cli.WorkloadClient;
import dev.bourne.agent.node.AgentStateStore;
import dev.bourne.agent.workloadapi.WorkloadIdentity;
import dev.bourne.core.config.AgentSettings;
import dev.bourne.core.selector.Selector;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.spiffe.bundle.jwtbundle.JwtBundleSet;
import io.spiffe.svid.jwtsvid.JwtSvid;
import io.spiffe.svid.x509svid.X509Svid;
import io.spiffe.svid.x509svid.X509SvidValidator;
import io.spiffe.workloadapi.DefaultWorkloadApiClient;
import io.spiffe.workloadapi.WorkloadApiClient;
import io.spiffe.workloadapi.X509Context;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A whole agent (configuration, TLS 1.3 to the server, join-token attestation, sync, Workload API socket) against
 * {@link FakeBourneServer}, with java-spiffe as the workload.
 */
class AgentRuntimeTest {
    private static final Duration SYNC = Duration.ofMillis(200);
    private static final String WORKLOAD_ID = "spiffe://example.org/workload";

    @TempDir
    Path dir;
    private final FakeBourneServer server = new FakeBourneServer();
    private AgentRuntime agent;
    private Selector uid;

    @BeforeEach
    void start() throws Exception {
        server.start(0);
        server.tokens.add("tok-1");
        uid = new Selector("unix", "uid:" + Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
        server.putEntry("e1", WORKLOAD_ID, "unix", uid.value());
    }

    @AfterEach
    void stop() throws Exception {
        if (agent != null) {
            agent.close();
        }
        server.close();
    }

    private AgentSettings settings(String keyManager) throws Exception {
        Path bundle = dir.resolve("bootstrap.pem");
        StringBuilder pem = new StringBuilder();
        for (X509Certificate cert : server.bundle()) {
            pem.append("-----BEGIN CERTIFICATE-----\n")
                    .append(Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(cert.getEncoded()))
                    .append("\n-----END CERTIFICATE-----\n");
        }
        Files.writeString(bundle, pem.toString(), StandardCharsets.US_ASCII);
        Path conf = dir.resolve("agent.conf");
        Files.writeString(conf, """
                agent {
                    data_dir = "%s"
                    trust_domain = "example.org"
                    server_address = "127.0.0.1"
                    server_port = %d
                    socket_path = "%s"
                    trust_bundle_path = "%s"
                }
                plugins {
                    NodeAttestor "join_token" {
                        plugin_data {}
                    }
                    KeyManager "%s" {
                        plugin_data {}
                    }
                    WorkloadAttestor "unix" {
                        plugin_data {}
                    }
                }
                """.formatted(dir.resolve("data"), server.port(), dir.resolve("api.sock"), bundle, keyManager));
        return AgentSettings.load(conf).orElseThrow();
    }

    private AgentRuntime startAgent(String keyManager, Optional<String> token) throws Exception {
        return AgentRuntime.start(settings(keyManager), token, Clock.systemUTC(), new SecureRandom(), SYNC);
    }

    private static AgentStatus awaitStatus(AgentRuntime runtime, Predicate<AgentStatus> condition) throws Exception {
        CompletableFuture<AgentStatus> reached = new CompletableFuture<>();
        runtime.onStatus(s -> {
            if (condition.test(s)) {
                reached.complete(s);
            }
        });
        AgentStatus now = runtime.status();
        return condition.test(now) ? now : reached.get(30, TimeUnit.SECONDS);
    }

    private WorkloadIdentity awaitIdentity(Predicate<WorkloadIdentity> condition) throws Exception {
        CompletableFuture<WorkloadIdentity> reached = new CompletableFuture<>();
        var watch = agent.cache().watch(List.of(uid), identity -> identity.filter(condition)
                .ifPresent(reached::complete));
        try {
            return reached.get(30, TimeUnit.SECONDS);
        } finally {
            watch.close();
        }
    }

    private WorkloadApiClient javaSpiffe() throws Exception {
        return DefaultWorkloadApiClient.newClient(DefaultWorkloadApiClient.ClientOptions.builder()
                .spiffeSocketPath("unix:" + agent.socketPath()).build());
    }

    @Test
    void joinsWithAToken_syncsTheEntry_andJavaSpiffeGetsServerSignedSvids() throws Exception {
        agent = startAgent("memory", Optional.of("tok-1"));
        awaitIdentity(WorkloadIdentity::hasIdentity);

        assertTrue(awaitStatus(agent, AgentStatus::ready).ready());
        assertEquals("spiffe://example.org/spire/agent/join_token/tok-1", agent.agentId().orElseThrow().toString());
        assertFalse(server.tokens.contains("tok-1"));
        try (WorkloadApiClient client = javaSpiffe()) {
            X509Context context = client.fetchX509Context();
            X509Svid svid = context.getDefaultSvid();
            assertEquals(WORKLOAD_ID, svid.getSpiffeId().toString());
            X509SvidValidator.verifyChain(svid.getChain(), context.getX509BundleSet());
            // Signed by the server's CA: the leaf verifies with the CA key the server's bundle carries.
            svid.getLeaf().verify(server.ca.certificate().getPublicKey());

            JwtSvid jwt = client.fetchJwtSvid(io.spiffe.spiffeid.SpiffeId.parse(WORKLOAD_ID), "payments");
            JwtBundleSet jwtBundles = client.fetchJwtBundles();
            assertEquals(WORKLOAD_ID, JwtSvid.parseAndValidate(jwt.getToken(), jwtBundles, Set.of("payments"))
                    .getSpiffeId().toString());
            JwtSvid again = client.fetchJwtSvid(io.spiffe.spiffeid.SpiffeId.parse(WORKLOAD_ID), "payments");
            assertEquals(jwt.getToken(), again.getToken());
            assertEquals(1, server.jwtIssued.get());
        }
        assertTrue(Files.exists(dir.resolve("data").resolve(AgentStateStore.BUNDLE_FILE)));
        assertFalse(Files.exists(dir.resolve("data").resolve(AgentStateStore.KEY_FILE)));
    }

    @Test
    void serverDown_cachedSvidStillServed_thenSyncResumes() throws Exception {
        agent = startAgent("memory", Optional.of("tok-1"));
        awaitIdentity(WorkloadIdentity::hasIdentity);
        int port = server.port();

        server.stop();
        AgentStatus down = awaitStatus(agent, s -> s.reason().contains("UNAVAILABLE"));
        assertTrue(down.attested());
        try (WorkloadApiClient client = javaSpiffe()) {
            assertEquals(WORKLOAD_ID, client.fetchX509Context().getDefaultSvid().getSpiffeId().toString());
        }

        server.putEntry("e2", "spiffe://example.org/second", "unix", uid.value());
        server.start(port);
        WorkloadIdentity both = awaitIdentity(identity -> identity.svids().size() == 2);
        assertEquals(Set.of(WORKLOAD_ID, "spiffe://example.org/second"), Set.copyOf(both.svids().stream()
                .map(s -> s.spiffeId().toString()).toList()));
        assertTrue(awaitStatus(agent, s -> s.ready() && s.reason().isEmpty()).lastSync().isPresent());
    }

    @Test
    void entryDeleted_workloadIsDeniedWithinASyncInterval() throws Exception {
        agent = startAgent("memory", Optional.of("tok-1"));
        awaitIdentity(WorkloadIdentity::hasIdentity);

        server.entries.remove("e1");
        awaitIdentity(identity -> !identity.hasIdentity());

        try (WorkloadClient client = new WorkloadClient(agent.socketPath(), Duration.ofSeconds(10))) {
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class, client::fetchX509);
            assertEquals(Status.Code.PERMISSION_DENIED, e.getStatus().getCode());
        }
    }

    @Test
    void evicted_reattestsButTheSpentTokenLeavesTheAgentNotReady() throws Exception {
        agent = startAgent("memory", Optional.of("tok-1"));
        awaitIdentity(WorkloadIdentity::hasIdentity);

        server.evicted.add(agent.agentId().orElseThrow());
        AgentStatus status = awaitStatus(agent, s -> s.reason().equals(AgentRuntime.JOIN_TOKEN_SPENT));

        assertFalse(status.attested());
        assertFalse(status.ready());
        assertEquals(1, server.attestations.get());
    }

    @Test
    void healthListener_liveAlways_readyOnceAttestedAndSynced() throws Exception {
        AgentSettings s = settings("memory");
        AgentSettings withHealth = new AgentSettings(s.dataDir(), s.logLevel(), s.logFormat(), s.serverAddress(),
                s.serverPort(), s.socketPath(), s.trustBundlePath(), s.trustBundleUrl(), s.insecureBootstrap(),
                s.trustDomain(), s.joinToken(), s.workloadX509SvidKeyType(), s.adminSocketPath(),
                new dev.bourne.core.config.HealthCheckSettings(true, "127.0.0.1", 0, "/live", "/ready"),
                s.prometheus(), s.plugins());
        agent = AgentRuntime.start(withHealth, Optional.empty(), Clock.systemUTC(), new SecureRandom(), SYNC);
        int port = agent.healthPort().orElseThrow();
        java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
        java.util.function.Function<String, java.net.http.HttpResponse<String>> get = path -> {
            try {
                return http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + port
                        + path)).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
            } catch (java.io.IOException | InterruptedException e) {
                throw new IllegalStateException(e);
            }
        };
        awaitStatus(agent, s2 -> s2.reason().equals(AgentRuntime.NO_JOIN_TOKEN));

        assertEquals(200, get.apply("/live").statusCode());
        java.net.http.HttpResponse<String> notReady = get.apply("/ready");
        assertEquals(503, notReady.statusCode());
        assertEquals("not ready: " + AgentRuntime.NO_JOIN_TOKEN + "\n", notReady.body());
    }

    @Test
    void noToken_notReadyWithTheReason() throws Exception {
        agent = startAgent("memory", Optional.empty());
        AgentStatus status = awaitStatus(agent, s -> !s.reason().equals(AgentRuntime.STARTING));
        assertEquals(AgentRuntime.NO_JOIN_TOKEN, status.reason());
        try (WorkloadClient client = new WorkloadClient(agent.socketPath(), Duration.ofSeconds(10))) {
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class, client::fetchX509);
            assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode());
        }
    }

    @Test
    void unknownToken_refusedAndNotRetried() throws Exception {
        agent = startAgent("memory", Optional.of("not-a-token"));
        AgentStatus status = awaitStatus(agent, s -> !s.reason().equals(AgentRuntime.STARTING));
        assertEquals(AgentRuntime.JOIN_TOKEN_SPENT, status.reason());
        assertFalse(status.attested());
    }

    @Test
    void diskKeyManager_restartResumesWithoutAttestingAgain() throws Exception {
        agent = startAgent("disk", Optional.of("tok-1"));
        awaitIdentity(WorkloadIdentity::hasIdentity);
        String id = agent.agentId().orElseThrow().toString();
        agent.close();
        Path key = dir.resolve("data").resolve(AgentStateStore.KEY_FILE);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(key)));

        agent = startAgent("disk", Optional.empty());
        awaitIdentity(WorkloadIdentity::hasIdentity);

        assertEquals(id, agent.agentId().orElseThrow().toString());
        assertEquals(1, server.attestations.get());
    }

    @Test
    void agentSvid_renewedAtHalfLifeOverMutualTls() throws Exception {
        server.agentTtl = Duration.ofSeconds(6);
        agent = startAgent("memory", Optional.of("tok-1"));
        awaitIdentity(WorkloadIdentity::hasIdentity);
        var first = agent.agentId().orElseThrow();

        AgentStatus after = awaitStatus(agent, s -> server.renewals.get() >= 1 && s.ready());

        assertTrue(after.attested());
        assertEquals(first, agent.agentId().orElseThrow());
        assertEquals(1, server.attestations.get());
    }
}
