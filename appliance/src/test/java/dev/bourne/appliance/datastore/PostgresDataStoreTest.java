package dev.bourne.appliance.datastore;

import dev.bourne.testing.postgres.PostgresDatabase;
import dev.bourne.testing.postgres.WithPostgres;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Clock;

/**
 * {@link DataStoreContract} on PostgreSQL: one fresh database for the class (emptied before each test); the second
 * store is a second pool on the same database, as a second server sharing it would have.
 */
@WithPostgres
class PostgresDataStoreTest extends DataStoreContract {

    private final PostgresDatabase database;

    PostgresDataStoreTest(PostgresDatabase database) {
        this.database = database;
    }

    /** The test database as a pgjdbc URL carrying the credentials (one of the accepted connection string forms). */
    static String connectionString(PostgresDatabase database) {
        char[] password = database.password();
        try {
            return database.jdbcUrl() + "?user=" + database.user() + "&password="
                    + URLEncoder.encode(new String(password), StandardCharsets.UTF_8).replace("+", "%20");
        } finally {
            java.util.Arrays.fill(password, '\0');
        }
    }

    @Override
    DataStore openStore(Clock clock) throws Exception {
        DataStore store = SqlDataStore.openPostgres(connectionString(database), 8, clock, random);
        try (Connection c = database.connect(); Statement s = c.createStatement()) {
            s.execute("TRUNCATE registered_entries, entry_selectors, entry_dns_names, entry_federates_with,"
                    + " attested_nodes, node_selectors, join_tokens, federated_bundles, ca_journals, change_events,"
                    + " tpm_enrollments, tpm_ak_bindings, federation_relationships"
                    + " RESTART IDENTITY");
        }
        return store;
    }

    @Override
    DataStore openSecondStore(Clock clock) throws Exception {
        return SqlDataStore.openPostgres(connectionString(database), 8, clock, random);
    }
}
