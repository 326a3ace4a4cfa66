package dev.bourne.appliance.datastore;

import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Clock;

/** {@link DataStoreContract} on SQLite: a fresh database file per test; the second store opens the same file. */
class SqliteDataStoreTest extends DataStoreContract {

    @TempDir
    Path dir;

    @Override
    DataStore openStore(Clock clock) throws Exception {
        return SqlDataStore.openSqlite(file(), clock, random);
    }

    @Override
    DataStore openSecondStore(Clock clock) throws Exception {
        return SqlDataStore.openSqlite(file(), clock, random);
    }

    private Path file() {
        return dir.resolve("data").resolve(SqlDataStore.SQLITE_FILE_NAME);
    }
}
