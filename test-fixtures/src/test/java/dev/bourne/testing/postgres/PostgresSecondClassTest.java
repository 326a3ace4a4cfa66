package dev.bourne.testing.postgres;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A second class: its own database, empty whatever other classes created ({@link DatabaseChecks} checks names). */
@ExtendWith(DatabaseChecks.class)
@WithPostgres
class PostgresSecondClassTest {

    @BeforeAll
    static void recordDatabase(PostgresDatabase database) {
        DatabaseChecks.record(PostgresSecondClassTest.class, database);
    }

    @Test
    void freshDatabase_hasNoTables(PostgresDatabase database) throws Exception {
        try (Connection connection = database.connect();
             Statement statement = connection.createStatement();
             ResultSet rows = statement.executeQuery(
                     "SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = 'public'")) {
            assertTrue(rows.next());
            assertEquals(0, rows.getInt(1));
        }
    }
}
