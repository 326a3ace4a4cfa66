package dev.bourne.appliance.datastore;

import dev.bourne.appliance.datastore.internal.Dialect;
import dev.bourne.appliance.datastore.internal.Migrations;
import dev.bourne.testing.postgres.PostgresDatabase;
import dev.bourne.testing.postgres.WithPostgres;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link MigrationContract} on PostgreSQL; the class's database gets an empty {@code public} schema per test. */
@WithPostgres
class PostgresMigrationTest extends MigrationContract {

    private final PostgresDatabase database;

    PostgresMigrationTest(PostgresDatabase database) {
        this.database = database;
    }

    @BeforeEach
    void emptySchema() throws Exception {
        try (Connection c = database.connect(); Statement s = c.createStatement()) {
            s.execute("DROP SCHEMA IF EXISTS public CASCADE");
            s.execute("CREATE SCHEMA public");
        }
    }

    @Override
    SqlDataStore open() throws Exception {
        return SqlDataStore.openPostgres(PostgresDataStoreTest.connectionString(database), 4, clock, random);
    }

    @Override
    DataSource dataSource() {
        PGSimpleDataSource source = new PGSimpleDataSource();
        source.setURL(database.jdbcUrl());
        source.setUser(database.user());
        source.setPassword(new String(database.password()));
        return source;
    }

    @Override
    Dialect dialect() {
        return Dialect.POSTGRES;
    }

    @Test
    void serversStartingTogether_migrateOnce() throws Exception {
        List<Callable<Integer>> starts = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            starts.add(() -> Migrations.migrate(dataSource(), Dialect.POSTGRES));
        }
        List<Integer> applied = DataStoreContract.runTogether(starts);
        // One server applies every migration; the others find them applied.
        int latest = Integer.parseInt(LATEST);
        assertEquals(latest, applied.stream().mapToInt(Integer::intValue).sum(), applied.toString());
        assertEquals(1, applied.stream().filter(n -> n > 0).count(), applied.toString());
        List<String> history = history();
        assertEquals(latest, history.size(), history.toString());
        assertTrue(history.stream().allMatch(h -> h.endsWith("/true")), history.toString());
        open().close();
    }
}
