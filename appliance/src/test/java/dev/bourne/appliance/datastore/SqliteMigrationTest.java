package dev.bourne.appliance.datastore;

import dev.bourne.appliance.datastore.internal.Dialect;
import org.junit.jupiter.api.io.TempDir;
import org.sqlite.SQLiteDataSource;

import javax.sql.DataSource;
import java.nio.file.Path;

/** {@link MigrationContract} on a fresh SQLite file per test. */
class SqliteMigrationTest extends MigrationContract {

    @TempDir
    Path dir;

    @Override
    SqlDataStore open() throws Exception {
        return SqlDataStore.openSqlite(dir.resolve(SqlDataStore.SQLITE_FILE_NAME), clock, random);
    }

    @Override
    DataSource dataSource() {
        SQLiteDataSource source = new SQLiteDataSource();
        source.setUrl("jdbc:sqlite:" + dir.resolve(SqlDataStore.SQLITE_FILE_NAME));
        return source;
    }

    @Override
    Dialect dialect() {
        return Dialect.SQLITE;
    }
}
