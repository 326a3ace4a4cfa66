package dev.bourne.core.config;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/** Builds configuration texts for the tests: a minimal valid file with lines replaced, removed or added. */
final class ConfigTexts {

    static final Path SERVER_FILE = Path.of("server.conf");
    static final Path AGENT_FILE = Path.of("agent.conf");

    static final String SERVER_PLUGINS = """
            plugins {
                DataStore "sql" {
                    plugin_data {
                        database_type = "sqlite3"
                        connection_string = "./.data/datastore.sqlite3"
                    }
                }
                KeyManager "memory" {
                    plugin_data {}
                }
                NodeAttestor "join_token" {
                    plugin_data {}
                }
            }
            """;

    static final String AGENT_PLUGINS = """
            plugins {
                KeyManager "memory" {
                    plugin_data {}
                }
                NodeAttestor "join_token" {
                    plugin_data {}
                }
                WorkloadAttestor "unix" {
                    plugin_data {}
                }
            }
            """;

    private ConfigTexts() {
    }

    /** A {@code server} block: the minimal keys, each line {@code key = value} replacing or adding, {@code -key} removing. */
    static String serverBlock(String... lines) {
        Map<String, String> fields = new LinkedHashMap<>();
        fields.put("trust_domain", "trust_domain = \"example.org\"");
        fields.put("data_dir", "data_dir = \"./.data\"");
        return block("server", fields, lines);
    }

    /** An {@code agent} block, built like {@link #serverBlock}. */
    static String agentBlock(String... lines) {
        Map<String, String> fields = new LinkedHashMap<>();
        fields.put("data_dir", "data_dir = \"./.data\"");
        fields.put("trust_domain", "trust_domain = \"example.org\"");
        fields.put("server_address", "server_address = \"127.0.0.1\"");
        fields.put("trust_bundle_path", "trust_bundle_path = \"./conf/agent/bundle.pem\"");
        return block("agent", fields, lines);
    }

    private static String block(String name, Map<String, String> fields, String... lines) {
        for (String line : lines) {
            if (line.startsWith("-")) {
                fields.remove(line.substring(1));
            } else {
                fields.put(line.split("[ =]", 2)[0], line);
            }
        }
        return name + " {\n  " + String.join("\n  ", fields.values()) + "\n}\n";
    }

    static ConfigResult<ServerSettings> validateServer(String text) {
        try {
            return ServerSettings.validate(ServerConfig.of(ConfigFile.parse(SERVER_FILE, text)), SERVER_FILE);
        } catch (ConfigException e) {
            return new ConfigResult.Invalid<>(e.errors());
        }
    }

    static ConfigResult<AgentSettings> validateAgent(String text) {
        try {
            return AgentSettings.validate(AgentConfig.of(ConfigFile.parse(AGENT_FILE, text)), AGENT_FILE);
        } catch (ConfigException e) {
            return new ConfigResult.Invalid<>(e.errors());
        }
    }

    static List<String> serverErrors(String text) {
        return strings(validateServer(text).errors());
    }

    static List<String> agentErrors(String text) {
        return strings(validateAgent(text).errors());
    }

    static List<String> strings(List<ConfigError> errors) {
        return errors.stream().map(ConfigError::toString).collect(Collectors.toList());
    }
}
