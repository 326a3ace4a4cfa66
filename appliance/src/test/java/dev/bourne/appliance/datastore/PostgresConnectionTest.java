package dev.bourne.appliance.datastore;

import dev.bourne.testing.postgres.PostgresDatabase;
import dev.bourne.testing.postgres.WithPostgres;
import org.junit.jupiter.api.Test;

import java.net.ServerSocket;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Clock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Connecting to PostgreSQL: every connection string form, and failures that never reveal the password. */
@WithPostgres
class PostgresConnectionTest {

    private final PostgresDatabase database;
    private final Clock clock = Clock.systemUTC();
    private final SecureRandom random = new SecureRandom();

    PostgresConnectionTest(PostgresDatabase database) {
        this.database = database;
    }

    private String hostPort() {
        String rest = database.jdbcUrl().substring("jdbc:postgresql://".length());
        return rest.substring(0, rest.indexOf('/'));
    }

    private static void assertNoSecret(Throwable e, String secret) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            assertFalse(String.valueOf(t.getMessage()).contains(secret), t.toString());
            assertFalse(t.toString().contains(secret), t.toString());
        }
    }

    @Test
    void keyValueAndUriForms_connect() throws Exception {
        String password = new String(database.password());
        String port = hostPort().substring(hostPort().indexOf(':') + 1);
        String keyValue = "host=127.0.0.1 port=" + port + " dbname=" + database.name() + " user=" + database.user()
                + " password='" + password + "' sslmode=disable application_name=bourne-test";
        String uri = "postgresql://" + database.user() + ":" + password + "@" + hostPort() + "/" + database.name()
                + "?sslmode=disable";
        for (String form : new String[] {keyValue, uri}) {
            try (SqlDataStore store = SqlDataStore.openPostgres(form, 2, clock, random)) {
                store.createJoinToken("t-" + form.length(), clock.instant());
                assertTrue(store.takeJoinToken("t-" + form.length()).isPresent());
                assertFalse(store.toString().contains(password));
            }
        }
    }

    @Test
    void openFromPluginSettings() throws Exception {
        SqlDataStoreSettings settings = SqlDataStoreSettings.fromPlugin(new dev.bourne.core.config.PluginConfig(
                "server.conf", "DataStore", "sql", true, java.util.Map.of("database_type", "postgres",
                "connection_string", PostgresDataStoreTest.connectionString(database), "max_open_conns", 3.0)))
                .orElseThrow();
        try (SqlDataStore store = SqlDataStore.open(settings, clock, random)) {
            store.createJoinToken("from-settings", clock.instant());
            assertTrue(store.takeJoinToken("from-settings").isPresent());
            assertEquals("SqlDataStore[PostgreSQL " + database.jdbcUrl() + "]", store.toString());
        }
    }

    @Test
    void wrongPassword_isUnavailable_andTheMessageHoldsNoPassword() {
        String wrong = "not-the-password-" + random.nextInt(1_000_000);
        UnavailableException e = assertThrows(UnavailableException.class, () -> SqlDataStore.openPostgres(
                database.jdbcUrl() + "?user=" + database.user() + "&password=" + wrong, 2, clock, random));
        assertEquals(DataStoreErrors.UNAVAILABLE + ": cannot connect to PostgreSQL at " + database.jdbcUrl(),
                e.getMessage());
        assertNoSecret(e, wrong);
    }

    @Test
    void nothingListening_isUnavailable() throws Exception {
        int port;
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = socket.getLocalPort();
        }
        UnavailableException e = assertThrows(UnavailableException.class, () -> SqlDataStore.openPostgres(
                "host=127.0.0.1 port=" + port + " dbname=x user=u password=pw-secret-1", 2, clock, random));
        assertEquals(DataStoreErrors.UNAVAILABLE + ": cannot connect to PostgreSQL at jdbc:postgresql://127.0.0.1:"
                + port + "/x", e.getMessage());
        assertNoSecret(e, "pw-secret-1");
    }

    @Test
    void malformedConnectionString_isAnInvalidArgument_namingNoValue() {
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class, () -> SqlDataStore.openPostgres(
                "postgresql://u:hunter2@h/d?socketFactory=x", 2, clock, random));
        assertEquals("connection_string", e.field());
        assertNoSecret(e, "hunter2");
    }

    @Test
    void databaseGoingAway_isUnavailable_andTheStoreRecovers() throws Exception {
        try (SqlDataStore store = SqlDataStore.openPostgres(PostgresDataStoreTest.connectionString(database), 2,
                clock, random); Connection admin = database.connect(); Statement s = admin.createStatement()) {
            store.createJoinToken("before", clock.instant());
            // Refuse new connections to the database, then cut the store's existing ones.
            s.execute("ALTER DATABASE " + database.name() + " CONNECTION LIMIT 0");
            try {
                s.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database()"
                        + " AND pid <> pg_backend_pid()");
                UnavailableException e = assertThrows(UnavailableException.class,
                        () -> store.takeJoinToken("before"));
                assertTrue(e.getMessage().startsWith(DataStoreErrors.UNAVAILABLE), e.getMessage());
            } finally {
                s.execute("ALTER DATABASE " + database.name() + " CONNECTION LIMIT -1");
            }
            assertTrue(store.takeJoinToken("before").isPresent(), "the token survived and the store reconnected");
        }
    }
}
