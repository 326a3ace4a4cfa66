package dev.bourne.core.config;

import dev.bourne.core.config.internal.Values;
import java.util.Map;
import java.util.Objects;

/**
 * A server configuration as parsed, before validation: the top-level blocks ({@code server}, {@code plugins},
 * {@code health_checks}, {@code telemetry}) as hcl4j produced them. {@link ServerSettings#validate} gives it meaning.
 *
 * @param root the top-level keys, deeply unmodifiable
 */
public record ServerConfig(Map<String, Object> root) {

    public ServerConfig {
        @SuppressWarnings("unchecked")
        Map<String, Object> copy = (Map<String, Object>) Values.immutableCopy(Objects.requireNonNull(root, "root"));
        root = copy;
    }

    /** The raw configuration of a parsed file. */
    public static ServerConfig of(ConfigFile file) {
        return new ServerConfig(file.root());
    }

    /** Lists the top-level keys only: values may hold secrets. */
    @Override
    public String toString() {
        return "ServerConfig" + root.keySet();
    }
}
