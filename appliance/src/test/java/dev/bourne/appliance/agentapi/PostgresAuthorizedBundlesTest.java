package dev.bourne.appliance.agentapi;

import dev.bourne.appliance.datastore.DataStore;
import dev.bourne.appliance.datastore.SqlDataStore;
import dev.bourne.testing.postgres.PostgresDatabase;
import dev.bourne.testing.postgres.WithPostgres;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Clock;
import java.util.Arrays;

/** {@link AuthorizedBundlesContract} on PostgreSQL: one database for the class, emptied before each test. */
@WithPostgres
class PostgresAuthorizedBundlesTest extends AuthorizedBundlesContract {
    private final PostgresDatabase database;

    PostgresAuthorizedBundlesTest(PostgresDatabase database) {
        this.database = database;
    }

    @Override
    DataStore openStore() throws Exception {
        char[] password = database.password();
        String connection;
        try {
            connection = database.jdbcUrl() + "?user=" + database.user() + "&password="
                    + URLEncoder.encode(new String(password), StandardCharsets.UTF_8).replace("+", "%20");
        } finally {
            Arrays.fill(password, '\0');
        }
        DataStore store = SqlDataStore.openPostgres(connection, 4, Clock.systemUTC(), new SecureRandom());
        try (Connection c = database.connect(); Statement s = c.createStatement()) {
            s.execute("TRUNCATE registered_entries, entry_selectors, entry_dns_names, entry_federates_with,"
                    + " attested_nodes, node_selectors, federated_bundles, change_events RESTART IDENTITY");
        }
        return store;
    }
}
