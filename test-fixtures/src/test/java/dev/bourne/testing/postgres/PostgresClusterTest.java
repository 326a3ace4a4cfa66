package dev.bourne.testing.postgres;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.List;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The cluster used directly: isolation between databases, dropping, and the parsing of pg_lsclusters. */
class PostgresClusterTest {

    @Test
    void roleOfOneDatabase_cannotConnectToAnother_andDropRemovesDatabaseAndRole() throws Exception {
        PostgresCluster cluster = PostgresCluster.local();
        PostgresDatabase first = cluster.createDatabase();
        PostgresDatabase second = cluster.createDatabase();
        try {
            assertTrue(cluster.databaseExists(first.name()) && cluster.roleExists(first.name()));
            Properties asFirst = new Properties();
            asFirst.setProperty("user", first.user());
            asFirst.setProperty("password", new String(first.password()));
            SQLException refused = assertThrows(SQLException.class,
                    () -> DriverManager.getConnection(second.jdbcUrl(), asFirst).close());
            assertEquals("42501", refused.getSQLState(), "insufficient privilege: " + refused.getMessage());

            Connection open = first.connect();
            cluster.drop(first);
            assertFalse(cluster.databaseExists(first.name()), "database dropped although a session was open");
            assertFalse(cluster.roleExists(first.name()), "role dropped");
            assertThrows(SQLException.class, () -> open.createStatement().execute("SELECT 1"),
                    "the open session was terminated");
            open.close();
            assertThrows(SQLException.class, () -> DriverManager.getConnection(first.jdbcUrl(), asFirst).close());

            try (Connection connection = second.connect()) {
                assertTrue(connection.isValid(5), "the other database is untouched");
            }
        } finally {
            cluster.drop(first);
            cluster.drop(second);
        }
    }

    @Test
    void wrongPassword_refused() throws Exception {
        PostgresCluster cluster = PostgresCluster.local();
        PostgresDatabase database = cluster.createDatabase();
        try {
            Properties wrong = new Properties();
            wrong.setProperty("user", database.user());
            wrong.setProperty("password", "not-the-password");
            SQLException refused = assertThrows(SQLException.class,
                    () -> DriverManager.getConnection(database.jdbcUrl(), wrong).close());
            assertEquals("28P01", refused.getSQLState(), "invalid password: " + refused.getMessage());
        } finally {
            cluster.drop(database);
        }
    }

    @Test
    void parseClusters_readsEveryColumnWeUse() {
        List<PostgresCluster.ClusterInfo> clusters = PostgresCluster.parseClusters("""
                15  main    5432 down   postgres /var/lib/postgresql/15/main /var/log/postgresql/postgresql-15-main.log
                16  test    5433 online,recovery postgres /var/lib/postgresql/16/test /var/log/postgresql/x.log
                """);
        assertEquals(List.of(
                new PostgresCluster.ClusterInfo("15", "main", 5432, "down", "postgres"),
                new PostgresCluster.ClusterInfo("16", "test", 5433, "online,recovery", "postgres")), clusters);
        assertTrue(clusters.get(1).online());
        assertFalse(clusters.get(0).online());
        assertEquals(List.of(), PostgresCluster.parseClusters(""));
    }

    @ParameterizedTest(name = "{0} wanted={1} -> {2}")
    @CsvSource(nullValues = "null", value = {
            "'15 main 5432 down postgres;16 main 5433 down postgres', null, 16/main",
            "'15 main 5432 online postgres;16 main 5433 down postgres', null, 15/main",
            "'15 main 5432 online postgres;16 main 5433 online postgres', null, 16/main",
            "'15 main 5432 online postgres;16 main 5433 online postgres', 15/main, 15/main",
            "'15 main 5432 online postgres', 14/main, none",
            "'', null, none",
    })
    void choose_prefersWantedThenNewestOnlineThenNewest(String lines, String wanted, String expected) {
        List<PostgresCluster.ClusterInfo> clusters = PostgresCluster.parseClusters(lines.replace(';', '\n'));
        assertEquals(expected, PostgresCluster.choose(clusters, wanted).map(PostgresCluster.ClusterInfo::id)
                .orElse("none"));
    }

    @Test
    void parseClusters_malformedLine_rejected() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> PostgresCluster.parseClusters("15 main"));
        assertEquals("unexpected line from pg_lsclusters: 15 main", e.getMessage());
    }
}
