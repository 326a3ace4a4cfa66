package dev.bourne.appliance.agentapi;

import dev.bourne.appliance.datastore.DataStore;
import dev.bourne.appliance.datastore.SqlDataStore;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import org.junit.jupiter.api.io.TempDir;

/** {@link AuthorizedBundlesContract} on SQLite. */
class SqliteAuthorizedBundlesTest extends AuthorizedBundlesContract {
    @TempDir
    Path dir;

    @Override
    DataStore openStore() throws Exception {
        return SqlDataStore.openSqlite(dir.resolve("ds.sqlite3"), Clock.systemUTC(), new SecureRandom());
    }
}
