package dev.bourne.core.config;

import java.util.List;

/**
 * The outcome of validating a configuration: usable settings with any warnings, or every error found.
 *
 * @param <T> the settings type, {@link ServerSettings} or {@link AgentSettings}
 */
public sealed interface ConfigResult<T> permits ConfigResult.Valid, ConfigResult.Invalid {

    /** The settings, or a {@link ConfigException} listing every error. */
    T orElseThrow() throws ConfigException;

    /** Errors found; empty when valid. */
    List<ConfigError> errors();

    /** Settings that passed validation, with findings that do not stop the process (SPIRE logs these as warnings). */
    record Valid<T>(T settings, List<ConfigError> warnings) implements ConfigResult<T> {
        public Valid {
            warnings = List.copyOf(warnings);
        }

        @Override
        public T orElseThrow() {
            return settings;
        }

        @Override
        public List<ConfigError> errors() {
            return List.of();
        }
    }

    /** A configuration with at least one error. */
    record Invalid<T>(List<ConfigError> errors) implements ConfigResult<T> {
        public Invalid {
            errors = List.copyOf(errors);
            if (errors.isEmpty()) {
                throw new IllegalArgumentException("an invalid result needs at least one error");
            }
        }

        @Override
        public T orElseThrow() throws ConfigException {
            throw new ConfigException(errors);
        }
    }
}
