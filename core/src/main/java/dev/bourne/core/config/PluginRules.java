package dev.bourne.core.config;

import dev.bourne.core.config.internal.Suggestions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Reads the {@code plugins} block against the plugin types a process has, the built-in names of each and how many
 * of each it needs. Bourne's plugins are compiled in, so any name outside the list is an error, not a lookup.
 *
 * <p>Public so that other processes with a {@code plugins} block (the IID signing service, with its one
 * {@code KeyManager}) read it by the same rules and report it in the same words.
 */
public final class PluginRules {

    /** How many enabled plugins of one type a process needs. */
    public enum Cardinality {
        EXACTLY_ONE,
        AT_LEAST_ONE,
        AT_MOST_ONE
    }

    /** One plugin type with its cardinality and the names of its built-ins. */
    public record Kind(String type, Cardinality cardinality, List<String> names) {
        public Kind {
            Objects.requireNonNull(type, "type");
            Objects.requireNonNull(cardinality, "cardinality");
            names = List.copyOf(names);
        }
    }

    static final List<Kind> SERVER = List.of(
            new Kind("DataStore", Cardinality.EXACTLY_ONE, List.of("sql")),
            new Kind("KeyManager", Cardinality.EXACTLY_ONE, List.of("disk", "memory", "pkcs11")),
            new Kind("NodeAttestor", Cardinality.AT_LEAST_ONE, List.of("join_token", "openstack_iid", "tpm")),
            new Kind("UpstreamAuthority", Cardinality.AT_MOST_ONE, List.of("disk", "pkcs11")));

    static final List<Kind> AGENT = List.of(
            new Kind("KeyManager", Cardinality.EXACTLY_ONE, List.of("disk", "memory", "pkcs11")),
            new Kind("NodeAttestor", Cardinality.EXACTLY_ONE, List.of("join_token", "openstack_iid", "tpm")),
            new Kind("WorkloadAttestor", Cardinality.AT_LEAST_ONE, List.of("systemd", "unix")));

    /** Keys of a plugin body: a block named like one of these is a plugin block missing its name label. */
    private static final Set<String> BODY_KEYS = Set.of("plugin_cmd", "plugin_checksum", "enabled", "plugin_data");

    private PluginRules() {
    }

    /**
     * The enabled plugins of {@code root}'s {@code plugins} block, recording every problem in {@code root}.
     *
     * @param kinds the plugin types this process has; any other type is an error
     * @param process how errors name the process ("server", "agent"), as in "unknown plugin type for the server"
     */
    public static List<PluginConfig> read(ConfigReader root, List<Kind> kinds, String process) {
        Map<String, List<PluginConfig>> byType = new LinkedHashMap<>();
        kinds.forEach(k -> byType.put(k.type(), new ArrayList<>()));
        Optional<ConfigReader> section = root.section("plugins");
        if (section.isPresent()) {
            ConfigReader plugins = section.get();
            for (String type : plugins.keys()) {
                Optional<Kind> kind = kinds.stream().filter(k -> k.type().equals(type)).findFirst();
                if (kind.isEmpty()) {
                    List<String> types = kinds.stream().map(Kind::type).collect(Collectors.toList());
                    String hint = Suggestions.closest(type, types).map(s -> " (did you mean \"" + s + "\"?)").orElse("");
                    plugins.error(type, "unknown plugin type for the " + process + hint + "; known types: "
                            + String.join(", ", types));
                    continue;
                }
                Optional<ConfigReader> typeBlock = plugins.section(type);
                typeBlock.ifPresent(block -> readType(block, kind.get(), byType.get(type)));
            }
        }
        List<PluginConfig> all = new ArrayList<>();
        for (Kind kind : kinds) {
            List<PluginConfig> found = byType.get(kind.type());
            checkCardinality(root, kind, found);
            all.addAll(found);
        }
        return List.copyOf(all);
    }

    private static void readType(ConfigReader block, Kind kind, List<PluginConfig> out) {
        for (String name : block.keys()) {
            if (BODY_KEYS.contains(name)) {
                block.error("", "a plugin block needs a name label, such as " + kind.type() + " \"" + kind.names().get(0)
                        + "\" { plugin_data { ... } }");
                return;
            }
            Optional<ConfigReader> body = block.section(name);
            if (body.isEmpty()) {
                continue;
            }
            ConfigReader plugin = body.get();
            boolean enabled = plugin.optionalBool("enabled", true);
            for (String external : List.of("plugin_cmd", "plugin_checksum")) {
                plugin.raw(external);
                if (plugin.contains(external)) {
                    plugin.error(external, "external plugins are not supported; Bourne's plugins are built in");
                }
            }
            Map<String, Object> data = plugin.section("plugin_data").map(ConfigReader::values).orElse(Map.of());
            plugin.rejectUnknownKeys();
            if (!kind.names().contains(name)) {
                String hint = Suggestions.closest(name, kind.names()).map(s -> " (did you mean \"" + s + "\"?)").orElse("");
                block.error(name, "unknown " + kind.type() + " plugin" + hint + "; known: " + String.join(", ", kind.names()));
                continue;
            }
            if (enabled) {
                out.add(new PluginConfig(block.file(), kind.type(), name, true, data));
            }
        }
    }

    private static void checkCardinality(ConfigReader root, Kind kind, List<PluginConfig> found) {
        String names = found.isEmpty() ? "none"
                : found.size() + " (" + found.stream().map(PluginConfig::name).collect(Collectors.joining(", ")) + ")";
        String key = "plugins." + kind.type();
        switch (kind.cardinality()) {
            case EXACTLY_ONE -> {
                if (found.size() != 1) {
                    root.error(key, "exactly one " + kind.type() + " plugin is required, found " + names);
                }
            }
            case AT_LEAST_ONE -> {
                if (found.isEmpty()) {
                    root.error(key, "at least one " + kind.type() + " plugin is required, found none");
                }
            }
            case AT_MOST_ONE -> {
                if (found.size() > 1) {
                    root.error(key, "at most one " + kind.type() + " plugin is allowed, found " + names);
                }
            }
        }
    }
}
