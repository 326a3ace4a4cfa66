package dev.bourne.appliance.datastore;

import dev.bourne.core.config.ConfigError;
import dev.bourne.core.config.ConfigReader;
import dev.bourne.core.config.ConfigResult;
import dev.bourne.core.config.ConfigSecret;
import dev.bourne.core.config.PluginConfig;
import dev.bourne.appliance.datastore.internal.PostgresConnectionString;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Validated settings of the {@code DataStore "sql"} plugin: which database, and where.
 *
 * <p>{@code plugin_data} keys: {@code database_type} ({@code sqlite3} or {@code postgres}), {@code connection_string}
 * (SQLite: the database file path; PostgreSQL: a URL or key/value string, see {@link PostgresConnectionString}), and
 * optionally {@code max_open_conns} (PostgreSQL pool size, default {@value #DEFAULT_MAX_OPEN_CONNS}). A final class,
 * not a record, because the connection string may hold a password: {@link #toString()} never shows it.
 */
public final class SqlDataStoreSettings {
    public static final int DEFAULT_MAX_OPEN_CONNS = 10;
    public static final int MAX_MAX_OPEN_CONNS = 1000;

    private final DatabaseType type;
    private final Path sqliteFile;
    private final ConfigSecret connectionString;
    private final int maxOpenConns;

    private SqlDataStoreSettings(DatabaseType type, Path sqliteFile, ConfigSecret connectionString, int maxOpenConns) {
        this.type = type;
        this.sqliteFile = sqliteFile;
        this.connectionString = connectionString;
        this.maxOpenConns = maxOpenConns;
    }

    /** SQLite in {@code file} (conventionally {@code <data_dir>/datastore.sqlite3}). */
    public static SqlDataStoreSettings sqlite(Path file) {
        return new SqlDataStoreSettings(DatabaseType.SQLITE3, Objects.requireNonNull(file, "file"), null, 1);
    }

    /** PostgreSQL at {@code connectionString}, pooling at most {@code maxOpenConns} connections. */
    public static SqlDataStoreSettings postgres(ConfigSecret connectionString, int maxOpenConns) {
        if (maxOpenConns < 2 || maxOpenConns > MAX_MAX_OPEN_CONNS) {
            throw new IllegalArgumentException("max_open_conns must be between 2 and " + MAX_MAX_OPEN_CONNS);
        }
        return new SqlDataStoreSettings(DatabaseType.POSTGRES, null, Objects.requireNonNull(connectionString),
                maxOpenConns);
    }

    /**
     * Reads and checks a {@code DataStore "sql"} plugin's data, reporting every problem as a {@link ConfigError} at
     * its key. A PostgreSQL connection string is parsed here, so a malformed one fails {@code validate}; errors name
     * the problem, never the string.
     */
    public static ConfigResult<SqlDataStoreSettings> fromPlugin(PluginConfig plugin) {
        ConfigReader data = plugin.pluginDataReader();
        if (!data.contains("database_type")) {
            data.error("database_type", "is required");
        }
        DatabaseType type = data.optionalChoice("database_type", List.of(DatabaseType.values()),
                DatabaseType::configName, DatabaseType.SQLITE3, false);
        Optional<String> connection = data.requireString("connection_string");
        int maxOpenConns = data.optionalInt("max_open_conns", DEFAULT_MAX_OPEN_CONNS, 2, MAX_MAX_OPEN_CONNS);
        SqlDataStoreSettings settings = null;
        if (connection.isPresent()) {
            if (type == DatabaseType.SQLITE3) {
                String path = connection.get();
                if (path.startsWith("file:") || path.contains("?") || path.equals(":memory:")) {
                    data.error("connection_string", "must be a file path for sqlite3 (no file: URI, no options,"
                            + " no :memory:)");
                } else {
                    settings = sqlite(Path.of(path));
                }
            } else {
                try {
                    PostgresConnectionString.parse(connection.get());
                    settings = postgres(new ConfigSecret(connection.get()), maxOpenConns);
                } catch (IllegalArgumentException e) {
                    // The parser's messages name keys and rules, never values.
                    data.error("connection_string", e.getMessage());
                }
            }
        }
        data.rejectUnknownKeys();
        List<ConfigError> errors = data.errors();
        if (!errors.isEmpty() || settings == null) {
            return new ConfigResult.Invalid<>(errors.isEmpty()
                    ? List.of(new ConfigError(plugin.file(), plugin.keyPath(), "is invalid")) : errors);
        }
        return new ConfigResult.Valid<>(settings, data.warnings());
    }

    public DatabaseType type() {
        return type;
    }

    /** The SQLite database file; present for {@link DatabaseType#SQLITE3}. */
    public Optional<Path> sqliteFile() {
        return Optional.ofNullable(sqliteFile);
    }

    /** The PostgreSQL connection string; present for {@link DatabaseType#POSTGRES}. */
    public Optional<ConfigSecret> connectionString() {
        return Optional.ofNullable(connectionString);
    }

    public int maxOpenConns() {
        return maxOpenConns;
    }

    @Override
    public String toString() {
        return "SqlDataStoreSettings[" + type.configName()
                + (sqliteFile != null ? ", file=" + sqliteFile : ", connection_string=[redacted], max_open_conns="
                + maxOpenConns) + "]";
    }
}
