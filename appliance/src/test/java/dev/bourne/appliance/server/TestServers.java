package dev.bourne.appliance.server;

import dev.bourne.core.config.ConfigResult;
import dev.bourne.core.config.HealthCheckSettings;
import dev.bourne.core.config.PrometheusSettings;
import dev.bourne.core.config.ServerSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** Server settings for tests: a real configuration file, loaded and validated, then moved to free local ports. */
final class TestServers {
    static final String TRUST_DOMAIN = "example.org";

    private TestServers() {
    }

    /** SQLite in {@code dir}, the memory key manager, join tokens. */
    static ServerSettings sqliteMemory(Path dir) throws Exception {
        return settings(dir, """
                DataStore "sql" {
                    plugin_data {
                        database_type = "sqlite3"
                        connection_string = "%s"
                    }
                }
                KeyManager "memory" {
                    plugin_data {
                    }
                }
                """.formatted(dir.resolve("data/datastore.sqlite3")));
    }

    /** A configuration with the given DataStore and KeyManager blocks, join tokens, and ports 0 on 127.0.0.1. */
    static ServerSettings settings(Path dir, String plugins) throws Exception {
        Path file = dir.resolve("server.conf");
        Files.writeString(file, """
                server {
                    bind_address = "127.0.0.1"
                    bind_port = "8081"
                    socket_path = "%s"
                    trust_domain = "%s"
                    data_dir = "%s"
                    log_level = "DEBUG"
                    audit_log_enabled = true
                }
                plugins {
                    NodeAttestor "join_token" {
                        plugin_data {
                        }
                    }
                %s
                }
                """.formatted(dir.resolve("private/api.sock"), TRUST_DOMAIN, dir.resolve("data"), plugins));
        ConfigResult<ServerSettings> result = ServerSettings.load(file);
        ServerSettings s = result.orElseThrow();
        return new ServerSettings(s.bindAddress(), 0, s.socketPath(), s.trustDomain(), s.dataDir(), s.logLevel(),
                s.logFormat(), s.caTtl(), s.defaultX509SvidTtl(), s.defaultJwtSvidTtl(), s.agentTtl(), s.caKeyType(),
                s.jwtKeyType(), s.jwtIssuer(), s.caSubject(), s.auditLogEnabled(),
                new HealthCheckSettings(true, "127.0.0.1", 0, "/live", "/ready"),
                Optional.of(new PrometheusSettings("127.0.0.1", 0)), s.plugins(), s.federation(), s.oidcDiscovery());
    }
}
