package dev.bourne.testing.postgres;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

@ExtendWith(DatabaseChecks.class)
@WithPostgres
class PostgresDatabaseTest {

    private final PostgresDatabase database;

    PostgresDatabaseTest(PostgresDatabase database) {
        this.database = database;
    }

    @BeforeAll
    static void recordDatabase(PostgresDatabase database) {
        DatabaseChecks.record(PostgresDatabaseTest.class, database);
    }

    @Test
    void connect_createInsertReadBack_overTcp() throws Exception {
        try (Connection connection = database.connect()) {
            try (Statement statement = connection.createStatement()) {
                statement.execute("CREATE TABLE registration_entry (id BIGINT PRIMARY KEY, spiffe_id TEXT NOT NULL)");
            }
            try (PreparedStatement insert = connection.prepareStatement(
                    "INSERT INTO registration_entry (id, spiffe_id) VALUES (?, ?)")) {
                insert.setLong(1, 1);
                insert.setString(2, "spiffe://example.org/workload");
                assertEquals(1, insert.executeUpdate());
            }
            try (Statement statement = connection.createStatement();
                 ResultSet rows = statement.executeQuery(
                         "SELECT spiffe_id, current_user, current_database(), inet_server_addr()::text "
                                 + "FROM registration_entry")) {
                assertTrue(rows.next());
                assertEquals("spiffe://example.org/workload", rows.getString(1));
                assertEquals(database.user(), rows.getString(2));
                assertEquals(database.name(), rows.getString(3));
                assertEquals("127.0.0.1/32", rows.getString(4), "connected over TCP on loopback");
                assertFalse(rows.next());
            }
        }
    }

    @Test
    void jdbcUrl_usesTheClusterPort_andSecretsStayHidden() {
        assertEquals("jdbc:postgresql://127.0.0.1:" + PostgresCluster.local().port() + "/" + database.name(),
                database.jdbcUrl());
        assertTrue(database.name().matches("bourne_t_[0-9a-f]{12}"), database.name());
        char[] first = database.password();
        char[] second = database.password();
        assertNotSame(first, second);
        Arrays.fill(first, '\0');
        assertFalse(Arrays.equals(first, second), "wiping a copy leaves the password intact");
        assertFalse(database.toString().contains(new String(second)), "toString() does not show the password");
        Arrays.fill(second, '\0');
    }

    @Nested
    class Inner {
        @Test
        void nestedClass_sharesTheEnclosingDatabase(PostgresDatabase nested) {
            assertSame(database, nested);
        }
    }
}
