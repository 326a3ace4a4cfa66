package dev.bourne.core.config;

import java.util.Objects;

/**
 * One problem found in a configuration file: the file as the user named it, the dotted key it concerns
 * ({@code server.trust_domain}, {@code plugins.KeyManager.pkcs11.plugin_data}; empty for the file as a whole) and the
 * reason. Prints as {@code server.conf: server.trust_domain: is required}. Reasons never contain secret values.
 */
public record ConfigError(String file, String key, String reason) {

    public ConfigError {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(reason, "reason");
    }

    @Override
    public String toString() {
        return key.isEmpty() ? file + ": " + reason : file + ": " + key + ": " + reason;
    }
}
