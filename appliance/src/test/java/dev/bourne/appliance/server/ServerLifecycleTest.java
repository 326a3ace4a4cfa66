package dev.bourne.appliance.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bourne.appliance.ca.journal.FileCaJournal;
import dev.bourne.core.config.ConfigError;
import dev.bourne.core.config.ConfigException;
import dev.bourne.core.config.ServerSettings;
import dev.bourne.testing.pki.TestKeys;
import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.NettyChannelBuilder;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.DomainSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Start-up, configuration checks, the admin socket, health, metrics and the CA journal in the datastore. */
class ServerLifecycleTest {
    @TempDir
    Path dir;

    private static HttpResponse<String> get(int port, String path) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void healthAndMetrics_served() throws Exception {
        try (BourneServer server = BourneServer.start(TestServers.sqliteMemory(dir), Clock.systemUTC())) {
            int health = server.healthPort().orElseThrow();
            assertEquals(200, get(health, "/live").statusCode());
            HttpResponse<String> ready = get(health, "/ready");
            assertEquals(200, ready.statusCode(), ready.body());
            assertEquals("ready\n", ready.body());
            assertEquals(404, get(health, "/other").statusCode());

            try (AgentClient client = AgentClient.connect(server.agentApiPort().orElseThrow(),
                    server.ca().orElseThrow().bundle())) {
                String token = "metrics-token";
                server.dataStore().createJoinToken(token, java.time.Instant.now().plusSeconds(600));
                client.attestJoinToken(token, TestKeys.freshEcP256());
            }
            HttpResponse<String> metrics = get(server.metricsPort().orElseThrow(), "/metrics");
            assertEquals(200, metrics.statusCode());
            String text = metrics.body();
            assertTrue(text.contains("bourne_svids_issued_total{kind=\"agent\"} 1.0"), text);
            assertTrue(text.contains("bourne_svids_issued_total{kind=\"server\"}"), text);
            assertTrue(text.contains("bourne_node_attestations_total{attestor=\"join_token\",result=\"success\"} 1.0"),
                    text);
            assertTrue(text.contains("bourne_key_manager_active{key_manager=\"memory\"} 1.0"), text);
            assertTrue(text.contains("bourne_rpc_seconds_count{method=\"bourne.api.v1.Agent/AttestAgent\","
                    + "status=\"OK\"} 1"), text);
        }
    }

    @Test
    void adminSocket_groupOnlyWithHealthAndRemovedOnClose() throws Exception {
        ServerSettings settings = TestServers.sqliteMemory(dir);
        Path socket = settings.socketPath();
        try (BourneServer server = BourneServer.start(settings, Clock.systemUTC())) {
            assertEquals("rwxrwx---", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket,
                    LinkOption.NOFOLLOW_LINKS)));
            assertEquals(Files.readAttributes(socket.getParent(), java.nio.file.attribute.PosixFileAttributes.class)
                    .group(), Files.readAttributes(socket, java.nio.file.attribute.PosixFileAttributes.class,
                    LinkOption.NOFOLLOW_LINKS).group());
            EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
            ManagedChannel channel = NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toString()))
                    .channelType(EpollDomainSocketChannel.class).eventLoopGroup(group).usePlaintext().build();
            try {
                assertEquals(HealthCheckResponse.ServingStatus.SERVING, HealthGrpc.newBlockingStub(channel)
                        .withDeadlineAfter(10, TimeUnit.SECONDS).check(HealthCheckRequest.getDefaultInstance())
                        .getStatus());
            } finally {
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
                group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
            }

            // A second server on the same socket is refused (its own data directory, same socket path).
            Path other = dir.resolve("second");
            Files.createDirectories(other);
            ServerSettings second = TestServers.sqliteMemory(other);
            ServerSettings sameSocket = new ServerSettings(second.bindAddress(), 0, socket, second.trustDomain(),
                    second.dataDir(), second.logLevel(), second.logFormat(), second.caTtl(),
                    second.defaultX509SvidTtl(), second.defaultJwtSvidTtl(), second.agentTtl(), second.caKeyType(),
                    second.jwtKeyType(), second.jwtIssuer(), second.caSubject(), false,
                    new dev.bourne.core.config.HealthCheckSettings(false, "127.0.0.1", 0, "/live", "/ready"),
                    java.util.Optional.empty(), second.plugins(), second.federation(), second.oidcDiscovery());
            ServerStartException e = assertThrows(ServerStartException.class,
                    () -> BourneServer.start(sameSocket, Clock.systemUTC()));
            assertTrue(e.getMessage().startsWith("admin socket: " + AdminSocketServer.ALREADY_LOCKED), e.getMessage());
            assertTrue(Files.exists(socket, LinkOption.NOFOLLOW_LINKS));
        }
        assertFalse(Files.exists(socket, LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    void caJournal_keptInTheDatastore_andResumedOnRestart() throws Exception {
        ServerSettings settings = TestServers.settings(dir, """
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
                """.formatted(dir.resolve("data/datastore.sqlite3"), dir.resolve("data/keys")));
        String authority;
        long sequence;
        try (BourneServer server = BourneServer.start(settings, Clock.systemUTC())) {
            authority = server.ca().orElseThrow().activeX509Authority().authorityId();
            sequence = server.ca().orElseThrow().snapshot().sequence();
            String serverId = Files.readString(dir.resolve("data").resolve(ServerIds.FILE_NAME)).strip();
            assertTrue(server.dataStore().getCaJournal(serverId).isPresent());
        }
        assertFalse(Files.exists(dir.resolve("data").resolve(FileCaJournal.FILE_NAME)));
        try (BourneServer server = BourneServer.start(settings, Clock.systemUTC())) {
            assertEquals(authority, server.ca().orElseThrow().activeX509Authority().authorityId());
            assertTrue(server.ca().orElseThrow().snapshot().sequence() > sequence);
        }
    }

    @Test
    void pluginData_everyErrorReportedAtOnce() throws Exception {
        ServerSettings settings = TestServers.settings(dir, """
                DataStore "sql" {
                    plugin_data {
                        database_type = "sqlite3"
                        connection_string = "file:datastore.sqlite3?mode=rwc"
                    }
                }
                KeyManager "pkcs11" {
                    plugin_data {
                        library = "relative/libsofthsm2.so"
                        token_label = "bourne"
                        pin_file = "/etc/bourne/pin"
                    }
                }
                NodeAttestor "tpm" {
                    plugin_data {
                        ek_trust = "ca"
                        quote_pcrs = [0, 24]
                    }
                }
                NodeAttestor "openstack_iid" {
                    plugin_data {
                    }
                }
                """);
        ConfigException e = assertThrows(ConfigException.class,
                () -> BourneServer.start(settings, Clock.systemUTC()));
        List<String> keys = e.errors().stream().map(ConfigError::key).toList();
        assertTrue(keys.contains("plugins.DataStore.sql.plugin_data.connection_string"), keys.toString());
        assertTrue(keys.contains("plugins.KeyManager.pkcs11.plugin_data.library"), keys.toString());
        // The tpm attestor's own errors, each with its key: ek_trust "ca" needs CA certificates; PCR 24 does not exist.
        assertTrue(keys.contains("plugins.NodeAttestor.tpm.plugin_data.ek_ca_paths"), keys.toString());
        assertTrue(keys.stream().anyMatch(k -> k.startsWith("plugins.NodeAttestor.tpm.plugin_data.quote_pcrs")),
                keys.toString());
        // The openstack_iid attestor's: an issuer, a JWK set and the allowed projects are required.
        assertTrue(keys.contains("plugins.NodeAttestor.openstack_iid.plugin_data.issuer"), keys.toString());
        assertTrue(keys.contains("plugins.NodeAttestor.openstack_iid.plugin_data.projects"), keys.toString());
        assertFalse(Files.exists(dir.resolve("data/datastore.sqlite3")), "nothing is opened on invalid config");
    }

    @Test
    void pkcs11LibraryMissing_startsNotReadyWithTheReason() throws Exception {
        Path pin = dir.resolve("pin");
        Files.writeString(pin, "1234");
        Files.setPosixFilePermissions(pin, PosixFilePermissions.fromString("rw-------"));
        ServerSettings settings = TestServers.settings(dir, """
                DataStore "sql" {
                    plugin_data {
                        database_type = "sqlite3"
                        connection_string = "%s"
                    }
                }
                KeyManager "pkcs11" {
                    plugin_data {
                        library = "/nonexistent/libvendor-pkcs11.so"
                        token_label = "bourne"
                        pin_file = "%s"
                    }
                }
                """.formatted(dir.resolve("data/datastore.sqlite3"), pin));
        try (BourneServer server = BourneServer.start(settings, Clock.systemUTC())) {
            assertTrue(server.agentApiPort().isEmpty(), "no agent API without a CA");
            HttpResponse<String> ready = get(server.healthPort().orElseThrow(), "/ready");
            assertEquals(503, ready.statusCode());
            assertTrue(ready.body().contains("key manager pkcs11 is UNAVAILABLE: "), ready.body());
            assertTrue(ready.body().contains("/nonexistent/libvendor-pkcs11.so"), ready.body());
            assertEquals(200, get(server.healthPort().orElseThrow(), "/live").statusCode());
            List<String> problems = server.notReady();
            assertEquals(2, problems.size(), problems.toString());
            assertTrue(problems.get(1).startsWith("the CA is not started yet: "), problems.toString());
        }
    }
}
