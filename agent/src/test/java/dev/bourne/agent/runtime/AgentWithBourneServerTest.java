package dev.bourne.agent.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bourne.agent.cli.WorkloadClient;
import dev.bourne.agent.workloadapi.WorkloadIdentity;
import dev.bourne.appliance.datastore.RegistrationEntry;
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
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
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
 * The first end-to-end identity: the real Bourne server (SQLite, disk key manager, agent API on TLS 1.3) and a real
 * agent in one JVM; the agent joins with a join token, and java-spiffe, as the workload, gets SVIDs the server signed.
 */
class AgentWithBourneServerTest {
    private static final Duration SYNC = Duration.ofMillis(250);
    private static final String WORKLOAD = "spiffe://example.org/workload";

    @TempDir
    Path dir;
    private BourneServer server;
    private AgentRuntime agent;
    private Selector uid;
    private int port;

    @BeforeEach
    void start() throws Exception {
        uid = new Selector("unix", "uid:" + Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
        server = BourneServer.start(serverSettings(0), Clock.systemUTC());
        port = server.agentApiPort().orElseThrow();
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

    private ServerSettings serverSettings(int agentPort) throws Exception {
        return serverSettings(agentPort, "");
    }

    private ServerSettings serverSettings(int agentPort, String extra) throws Exception {
        Path file = dir.resolve("server.conf");
        Files.writeString(file, """
                server {
                    bind_address = "127.0.0.1"
                    bind_port = "8081"
                    socket_path = "%s"
                    trust_domain = "example.org"
                    data_dir = "%s"
                    %s
                }
                plugins {
                    NodeAttestor "join_token" {
                        plugin_data {}
                    }
                    DataStore "sql" {
                        plugin_data {
                            database_type = "sqlite3"
                            connection_string = "%s"
                        }
                    }
                    KeyManager "disk" {
                        plugin_data {
                            keys_path = "%s"
                        }
                    }
                }
                """.formatted(dir.resolve("server/private/api.sock"), dir.resolve("server/data"), extra,
                dir.resolve("server/data/datastore.sqlite3"), dir.resolve("server/data/keys")));
        ServerSettings s = ServerSettings.load(file).orElseThrow();
        return new ServerSettings(s.bindAddress(), agentPort, s.socketPath(), s.trustDomain(), s.dataDir(),
                s.logLevel(), s.logFormat(), s.caTtl(), s.defaultX509SvidTtl(), s.defaultJwtSvidTtl(), s.agentTtl(),
                s.caKeyType(), s.jwtKeyType(), s.jwtIssuer(), s.caSubject(), s.auditLogEnabled(),
                HealthCheckSettings.DEFAULTS, Optional.empty(), s.plugins());
    }

    private AgentSettings agentSettings() throws Exception {
        StringBuilder pem = new StringBuilder();
        for (X509Certificate cert : server.ca().orElseThrow().bundle().x509Authorities()) {
            pem.append("-----BEGIN CERTIFICATE-----\n")
                    .append(Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(cert.getEncoded()))
                    .append("\n-----END CERTIFICATE-----\n");
        }
        Path bundle = dir.resolve("bootstrap.pem");
        Files.writeString(bundle, pem, StandardCharsets.US_ASCII);
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
                    KeyManager "memory" {
                        plugin_data {}
                    }
                    WorkloadAttestor "unix" {
                        plugin_data {}
                    }
                }
                """.formatted(dir.resolve("agent"), port, dir.resolve("api.sock"), bundle));
        return AgentSettings.load(conf).orElseThrow();
    }

    /** Starts an agent with a fresh join token and registers {@code WORKLOAD} for this JVM's uid under it. */
    private RegistrationEntry joinAndRegister() throws Exception {
        String token = "token-" + System.nanoTime();
        server.dataStore().createJoinToken(token, Instant.now().plus(Duration.ofMinutes(10)));
        agent = AgentRuntime.start(agentSettings(), Optional.of(token), Clock.systemUTC(), new SecureRandom(), SYNC);
        awaitStatus(AgentStatus::attested);
        assertEquals("spiffe://example.org/spire/agent/join_token/" + token, agent.agentId().orElseThrow().toString());
        return server.dataStore().createEntry(RegistrationEntry.builder().spiffeId(SpiffeId.parse(WORKLOAD))
                .parentId(agent.agentId().orElseThrow()).selectors(List.of(uid)).build());
    }

    private AgentStatus awaitStatus(Predicate<AgentStatus> condition) throws Exception {
        CompletableFuture<AgentStatus> reached = new CompletableFuture<>();
        agent.onStatus(s -> {
            if (condition.test(s)) {
                reached.complete(s);
            }
        });
        AgentStatus now = agent.status();
        return condition.test(now) ? now : reached.get(60, TimeUnit.SECONDS);
    }

    private WorkloadIdentity awaitIdentity(Predicate<WorkloadIdentity> condition) throws Exception {
        CompletableFuture<WorkloadIdentity> reached = new CompletableFuture<>();
        var watch = agent.cache().watch(List.of(uid), identity -> identity.filter(condition)
                .ifPresent(reached::complete));
        try {
            return reached.get(60, TimeUnit.SECONDS);
        } finally {
            watch.close();
        }
    }

    private WorkloadApiClient javaSpiffe() throws Exception {
        return DefaultWorkloadApiClient.newClient(DefaultWorkloadApiClient.ClientOptions.builder()
                .spiffeSocketPath("unix:" + agent.socketPath()).build());
    }

    @Test
    void agentJoins_syncsTheEntry_andJavaSpiffeGetsSvidsSignedByTheServersCa() throws Exception {
        joinAndRegister();
        awaitIdentity(WorkloadIdentity::hasIdentity);
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
                } catch (java.security.GeneralSecurityException e) {
                    return false;
                }
            }));

            JwtSvid jwt = client.fetchJwtSvid(io.spiffe.spiffeid.SpiffeId.parse(WORKLOAD), "payments");
            JwtSvid validated = JwtSvid.parseAndValidate(jwt.getToken(), client.fetchJwtBundles(),
                    Set.of("payments"));
            assertEquals(WORKLOAD, validated.getSpiffeId().toString());
            assertEquals(WORKLOAD, client.validateJwtSvid(jwt.getToken(), "payments").getSpiffeId().toString());
        }
    }

    @Test
    void agentSvid_renewedAtHalfLife_andTheServerAcceptsTheNewOne() throws Exception {
        server.close();
        server = BourneServer.start(serverSettings(port, "agent_ttl = \"20s\""), Clock.systemUTC());
        joinAndRegister();
        awaitIdentity(WorkloadIdentity::hasIdentity);
        var first = agent.agentSvid().orElseThrow();

        // The round that renews also syncs with the new certificate: ready with no reason only if the server
        // accepted it (it retires the old SVID once the new one is used).
        AgentStatus after = awaitStatus(s -> agent.agentSvid().orElseThrow().notAfter().isAfter(first.notAfter())
                && s.ready() && s.reason().isEmpty() && s.lastSync().orElseThrow().isAfter(first.renewAt()));

        assertTrue(after.attested());
        assertEquals(first.spiffeId(), agent.agentSvid().orElseThrow().spiffeId());
        assertTrue(!agent.agentSvid().orElseThrow().leaf().getSerialNumber().equals(first.leaf().getSerialNumber()));
    }

    @Test
    void serverStopped_agentKeepsServing_serverBack_syncResumes() throws Exception {
        joinAndRegister();
        awaitIdentity(WorkloadIdentity::hasIdentity);

        server.close();
        server = null;
        awaitStatus(s -> s.reason().contains("UNAVAILABLE"));
        try (WorkloadApiClient client = javaSpiffe()) {
            assertEquals(WORKLOAD, client.fetchX509Context().getDefaultSvid().getSpiffeId().toString());
        }

        server = BourneServer.start(serverSettings(port), Clock.systemUTC());
        server.dataStore().createEntry(RegistrationEntry.builder()
                .spiffeId(SpiffeId.parse("spiffe://example.org/second"))
                .parentId(agent.agentId().orElseThrow()).selectors(List.of(uid)).build());
        WorkloadIdentity both = awaitIdentity(identity -> identity.svids().size() == 2);
        assertEquals(Set.of(WORKLOAD, "spiffe://example.org/second"),
                Set.copyOf(both.svids().stream().map(s -> s.spiffeId().toString()).toList()));
    }

    @Test
    void entryDeleted_workloadLosesItsIdentity() throws Exception {
        RegistrationEntry entry = joinAndRegister();
        awaitIdentity(WorkloadIdentity::hasIdentity);

        server.dataStore().deleteEntry(entry.id());
        awaitIdentity(identity -> !identity.hasIdentity());

        try (WorkloadClient client = new WorkloadClient(agent.socketPath(), Duration.ofSeconds(10))) {
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class, client::fetchX509);
            assertEquals(Status.Code.PERMISSION_DENIED, e.getStatus().getCode());
        }
    }
}
