package dev.bourne.core.config;

import dev.bourne.core.config.internal.Values;
import java.util.Map;
import java.util.Objects;

/**
 * An agent configuration as parsed, before validation: the top-level blocks ({@code agent}, {@code plugins},
 * {@code health_checks}, {@code telemetry}) as hcl4j produced them. {@link AgentSettings#validate} gives it meaning.
 *
 * @param root the top-level keys, deeply unmodifiable
 */
public record AgentConfig(Map<String, Object> root) {

    public AgentConfig {
        @SuppressWarnings("unchecked")
        Map<String, Object> copy = (Map<String, Object>) Values.immutableCopy(Objects.requireNonNull(root, "root"));
        root = copy;
    }

    /** The raw configuration of a parsed file. */
    public static AgentConfig of(ConfigFile file) {
        return new AgentConfig(file.root());
    }

    /** Lists the top-level keys only: values may hold secrets. */
    @Override
    public String toString() {
        return "AgentConfig" + root.keySet();
    }
}
