package dev.bourne.appliance.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bourne.api.v1.BatchNewX509SVIDRequest;
import dev.bourne.api.v1.BatchNewX509SVIDResponse;
import dev.bourne.api.v1.NewX509SVIDParams;
import dev.bourne.api.v1.AttestAgentResponse;
import com.google.protobuf.ByteString;
import dev.bourne.appliance.datastore.RegistrationEntry;
import dev.bourne.core.config.ServerSettings;
import dev.bourne.core.selector.Selector;
import dev.bourne.core.spiffeid.SpiffeId;
import dev.bourne.testing.pki.TestKeys;
import dev.bourne.testing.postgres.PostgresDatabase;
import dev.bourne.testing.postgres.WithPostgres;
import io.grpc.Status;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server on PostgreSQL: two servers share one database, each with its own CA journal (keyed by its server ID),
 * and an agent attested through one is served by the other.
 */
@WithPostgres
class PostgresServerTest {
    private final PostgresDatabase database;

    @TempDir
    Path dir;

    PostgresServerTest(PostgresDatabase database) {
        this.database = database;
    }

    private ServerSettings settings(Path home) throws Exception {
        char[] password = database.password();
        String connection;
        try {
            connection = database.jdbcUrl() + "?user=" + database.user() + "&password="
                    + URLEncoder.encode(new String(password), StandardCharsets.UTF_8).replace("+", "%20");
        } finally {
            Arrays.fill(password, '\0');
        }
        Files.createDirectories(home);
        return TestServers.settings(home, """
                DataStore "sql" {
                    plugin_data {
                        database_type = "postgres"
                        connection_string = "%s"
                    }
                }
                KeyManager "memory" {
                    plugin_data {
                    }
                }
                """.formatted(connection));
    }

    @Test
    void twoServersOnOneDatabase_eachWithItsOwnCaJournal() throws Exception {
        try (BourneServer first = BourneServer.start(settings(dir.resolve("one")), Clock.systemUTC());
                BourneServer second = BourneServer.start(settings(dir.resolve("two")), Clock.systemUTC())) {
            String firstId = Files.readString(dir.resolve("one/data").resolve(ServerIds.FILE_NAME)).strip();
            String secondId = Files.readString(dir.resolve("two/data").resolve(ServerIds.FILE_NAME)).strip();
            assertNotEquals(firstId, secondId);
            assertTrue(first.dataStore().getCaJournal(firstId).isPresent());
            assertTrue(first.dataStore().getCaJournal(secondId).isPresent());
            assertEquals(List.of(), first.notReady());

            first.dataStore().createJoinToken("pg-token", Instant.now().plusSeconds(600));
            KeyPair keys = TestKeys.freshEcP256();
            AttestAgentResponse.Result attested;
            try (AgentClient client = AgentClient.connect(first.agentApiPort().orElseThrow(),
                    first.ca().orElseThrow().bundle())) {
                attested = client.attestJoinToken("pg-token", keys);
            }
            SpiffeId agentId = SpiffeId.parse(attested.getSvid().getId());
            RegistrationEntry entry = second.dataStore().createEntry(RegistrationEntry.builder()
                    .spiffeId(SpiffeId.parse("spiffe://example.org/pg/workload")).parentId(agentId)
                    .selector(new Selector("unix", "uid:1")).build());
            assertTrue(first.dataStore().getNode(agentId).isPresent());
            // The node is shared: the same agent SVID authenticates on the first server, which issues the entry.
            try (AgentClient client = AgentClient.connect(first.agentApiPort().orElseThrow(),
                    first.ca().orElseThrow().bundle(), keys.getPrivate(), AgentClient.chain(attested.getSvid()))) {
                BatchNewX509SVIDResponse response = client.svid().batchNewX509SVID(BatchNewX509SVIDRequest
                        .newBuilder().addParams(NewX509SVIDParams.newBuilder().setEntryId(entry.id()).setCsr(
                                ByteString.copyFrom(AgentClient.csr(TestKeys.freshEcP256())))).build());
                assertEquals(Status.Code.OK.value(), response.getResults(0).getStatus().getCode());
                assertEquals("spiffe://example.org/pg/workload", response.getResults(0).getSvid().getId());
            }
        }
    }
}
