package dev.bourne.appliance.datastore;

import dev.bourne.core.config.ConfigError;
import dev.bourne.core.config.ConfigResult;
import dev.bourne.core.config.PluginConfig;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

class SqlDataStoreSettingsTest {

    private static ConfigResult<SqlDataStoreSettings> read(Map<String, Object> data) {
        return SqlDataStoreSettings.fromPlugin(new PluginConfig("server.conf", "DataStore", "sql", true, data));
    }

    private static List<String> errors(Map<String, Object> data) {
        return read(data).errors().stream().map(ConfigError::toString).toList();
    }

    @Test
    void sqlite() throws Exception {
        SqlDataStoreSettings settings = read(Map.of("database_type", "sqlite3",
                "connection_string", "./.data/server/datastore.sqlite3")).orElseThrow();
        assertEquals(DatabaseType.SQLITE3, settings.type());
        assertEquals(Path.of("./.data/server/datastore.sqlite3"), settings.sqliteFile().orElseThrow());
    }

    @Test
    void postgres_keepsTheConnectionStringSecret() throws Exception {
        SqlDataStoreSettings settings = read(Map.of("database_type", "postgres",
                "connection_string", "postgresql://bourne:hunter2@db/bourne", "max_open_conns", 20.0))
                .orElseThrow();
        assertEquals(DatabaseType.POSTGRES, settings.type());
        assertEquals(20, settings.maxOpenConns());
        assertEquals("postgresql://bourne:hunter2@db/bourne", settings.connectionString().orElseThrow().reveal());
        assertFalse(settings.toString().contains("hunter2"), settings.toString());
    }

    @Test
    void errors_nameTheKey_andNeverTheConnectionString() {
        assertEquals(List.of("server.conf: plugins.DataStore.sql.plugin_data.connection_string: unknown parameter"
                + " \"sslfactory\""), errors(Map.of("database_type", "postgres",
                "connection_string", "dbname=d password=hunter2 sslfactory=x")));
        assertEquals(List.of("server.conf: plugins.DataStore.sql.plugin_data.database_type: is required"),
                errors(Map.of("connection_string", "x.sqlite3")));
        assertEquals(List.of("server.conf: plugins.DataStore.sql.plugin_data.connection_string: is required"),
                errors(Map.of("database_type", "sqlite3")));
        assertEquals(List.of("server.conf: plugins.DataStore.sql.plugin_data.connection_string: must be a file path"
                + " for sqlite3 (no file: URI, no options, no :memory:)"),
                errors(Map.of("database_type", "sqlite3", "connection_string", ":memory:")));
        List<String> unknown = errors(Map.of("database_type", "sqlite3", "connection_string", "x", "max_conns", 1.0));
        assertEquals(1, unknown.size());
        assertEquals(true, unknown.get(0).contains("max_conns"), unknown.toString());
        assertInstanceOf(ConfigResult.Invalid.class, read(Map.of("database_type", "mysql",
                "connection_string", "x")));
    }
}
