package dev.bourne.core.logging;

import dev.bourne.core.config.LogFormat;
import dev.bourne.core.config.LogLevel;
import java.util.Objects;

/**
 * The process-wide log level and format of every Bourne program: the {@code log_level} and {@code log_format}
 * settings, applied by each {@code run} command as soon as its configuration is parsed. Until then (and in the other
 * commands) records at INFO and above are written in the text format. A change applies at once to every logger,
 * including those created before it.
 */
public final class Logging {
    /** Level and format, replaced together by {@link #configure}. */
    record Settings(LogLevel level, LogFormat format) {
    }

    static final Settings DEFAULTS = new Settings(LogLevel.INFO, LogFormat.TEXT);

    private static volatile Settings settings = DEFAULTS;

    private Logging() {
    }

    /** Sets the level (records below it are dropped) and the format of every logger in this process. */
    public static void configure(LogLevel level, LogFormat format) {
        settings = new Settings(Objects.requireNonNull(level, "level"), Objects.requireNonNull(format, "format"));
    }

    /** Back to the defaults: INFO, text. */
    public static void reset() {
        settings = DEFAULTS;
    }

    /** The configured level. */
    public static LogLevel level() {
        return settings.level();
    }

    /** The configured format. */
    public static LogFormat format() {
        return settings.format();
    }
}
