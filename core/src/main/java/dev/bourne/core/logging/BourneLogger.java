package dev.bourne.core.logging;

import dev.bourne.core.config.LogFormat;
import dev.bourne.core.config.LogLevel;
import dev.bourne.core.internal.Texts;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.slf4j.Marker;
import org.slf4j.event.Level;
import org.slf4j.helpers.LegacyAbstractLogger;
import org.slf4j.helpers.MessageFormatter;

/**
 * A logger of {@link BourneServiceProvider}: it reads the level and format from {@link Logging} on every call, so a
 * change applies to loggers created before it, and writes each record whole to the {@link System#err} of the moment
 * (the journal's prefixing stream under systemd, a test's capture), in UTF-8.
 *
 * <p>The text format is slf4j-simple's default layout, byte for byte: {@code [thread] LEVEL logger.name - message},
 * then the throwable's stack trace as {@link Throwable#printStackTrace()} prints it. The JSON format is one object
 * per line: {@code time} (ISO-8601, UTC), {@code level}, {@code logger}, {@code thread}, {@code message}, and when
 * there is a throwable {@code error} with its {@code class}, {@code message} and {@code stack} (the whole stack trace
 * as text).
 */
final class BourneLogger extends LegacyAbstractLogger {
    private static final long serialVersionUID = 1L;

    /**
     * Netty warns when a host has no network interface with a hardware address (a container with a private network,
     * say) and then uses random bytes for its channel IDs, which is all Bourne needs of them: its records show only
     * at DEBUG, not as a warning on every CLI call.
     */
    static final String DEBUG_ONLY = "io.netty.util.internal.MacAddressUtil";

    /** One lock for all loggers: records of different threads never interleave. */
    private static final Object WRITE_LOCK = new Object();

    private final boolean debugOnly;

    BourneLogger(String name) {
        this.name = name;
        this.debugOnly = DEBUG_ONLY.equals(name);
    }

    private boolean enabled(Level level) {
        LogLevel threshold = Logging.level();
        if (debugOnly && threshold != LogLevel.DEBUG) {
            return false;
        }
        return level.toInt() >= switch (threshold) {
            case DEBUG -> Level.DEBUG.toInt();
            case INFO -> Level.INFO.toInt();
            case WARN -> Level.WARN.toInt();
            case ERROR -> Level.ERROR.toInt();
        };
    }

    @Override
    public boolean isTraceEnabled() {
        return enabled(Level.TRACE);
    }

    @Override
    public boolean isDebugEnabled() {
        return enabled(Level.DEBUG);
    }

    @Override
    public boolean isInfoEnabled() {
        return enabled(Level.INFO);
    }

    @Override
    public boolean isWarnEnabled() {
        return enabled(Level.WARN);
    }

    @Override
    public boolean isErrorEnabled() {
        return enabled(Level.ERROR);
    }

    @Override
    protected String getFullyQualifiedCallerName() {
        return null;
    }

    @Override
    protected void handleNormalizedLoggingCall(Level level, Marker marker, String messagePattern, Object[] arguments,
            Throwable throwable) {
        String message = MessageFormatter.basicArrayFormat(messagePattern, arguments);
        String thread = Thread.currentThread().getName();
        String record = Logging.format() == LogFormat.JSON
                ? json(Instant.now(), level, name, thread, message, throwable)
                : text(level, name, thread, marker, message, throwable);
        byte[] bytes = record.getBytes(StandardCharsets.UTF_8);
        synchronized (WRITE_LOCK) {
            PrintStream err = System.err;
            err.write(bytes, 0, bytes.length);
            err.flush();
        }
    }

    /** A record in slf4j-simple's default layout, its stack trace included, with the final line separator. */
    static String text(Level level, String logger, String thread, Marker marker, String message, Throwable throwable) {
        StringBuilder out = new StringBuilder(64);
        out.append('[').append(thread).append("] ").append(level.name()).append(' ').append(logger).append(" - ");
        if (marker != null) {
            out.append(' ').append(marker.getName()).append(' ');
        }
        out.append(message).append(System.lineSeparator());
        if (throwable != null) {
            out.append(stackTrace(throwable));
        }
        return out.toString();
    }

    /** A record as one JSON object on one line, with the final newline. */
    static String json(Instant time, Level level, String logger, String thread, String message, Throwable throwable) {
        StringBuilder out = new StringBuilder(128);
        out.append("{\"time\":");
        Texts.appendJsonString(out, time.toString());
        out.append(",\"level\":");
        Texts.appendJsonString(out, level.name());
        out.append(",\"logger\":");
        Texts.appendJsonString(out, logger);
        out.append(",\"thread\":");
        Texts.appendJsonString(out, thread);
        out.append(",\"message\":");
        Texts.appendJsonString(out, message);
        if (throwable != null) {
            out.append(",\"error\":{\"class\":");
            Texts.appendJsonString(out, throwable.getClass().getName());
            out.append(",\"message\":");
            Texts.appendJsonString(out, throwable.getMessage());
            out.append(",\"stack\":");
            Texts.appendJsonString(out, stackTrace(throwable));
            out.append('}');
        }
        return out.append("}\n").toString();
    }

    private static String stackTrace(Throwable throwable) {
        StringWriter trace = new StringWriter();
        try (PrintWriter writer = new PrintWriter(trace)) {
            throwable.printStackTrace(writer);
        }
        return trace.toString();
    }
}
