package dev.bourne.core.config;

import java.util.Objects;

/**
 * A secret read from a configuration file (a join token, a PIN). A final class rather than a record so that
 * {@code toString} cannot print it and equality is identity: a secret must not leak through logs or config dumps.
 */
public final class ConfigSecret {

    private final String value;

    public ConfigSecret(String value) {
        this.value = Objects.requireNonNull(value, "value");
    }

    /** The secret itself; call only where it is used, never to log or print. */
    public String reveal() {
        return value;
    }

    @Override
    public String toString() {
        return "[redacted]";
    }
}
