package dev.bourne.core.config;

import java.util.List;
import java.util.stream.Collectors;

/**
 * A configuration file that cannot be used, with every problem found in it. Checked: a bad configuration is an
 * expected outcome that {@code run} and {@code validate} must report to the operator, not a programming error.
 */
public final class ConfigException extends Exception {

    private static final long serialVersionUID = 1L;

    private final transient List<ConfigError> errors;

    public ConfigException(List<ConfigError> errors) {
        super(message(errors));
        this.errors = List.copyOf(errors);
    }

    /** The problems, in the order found: file order within a block, then cross-field and plugin checks. */
    public List<ConfigError> errors() {
        return errors;
    }

    private static String message(List<ConfigError> errors) {
        if (errors.isEmpty()) {
            throw new IllegalArgumentException("a ConfigException needs at least one error");
        }
        return errors.stream().map(ConfigError::toString).collect(Collectors.joining("\n"));
    }
}
