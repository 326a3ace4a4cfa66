package dev.bourne.core.systemd;

import java.io.ByteArrayOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Standard output and error as journald reads them: when systemd connects a stream to the journal it sets
 * {@code JOURNAL_STREAM=<device>:<inode>}, and a line that starts with {@code <N>} is stored with syslog priority N
 * (sd-daemon(3)), so {@code journalctl -p warning} finds warnings and errors. This stream adds that prefix to every
 * line.
 *
 * <p>The priority comes from the line: a log record in the text format ({@code [thread] LEVEL logger - text}) or the
 * JSON format ({@code {"time":"...","level":"LEVEL",...}}) of {@link dev.bourne.core.logging.Logging} (ERROR 3, WARN 4,
 * INFO 6, DEBUG and TRACE 7); the command line's own {@code Error:} (3) and {@code Warning:} (4)
 * lines; the lines of a stack trace (the exception's class name and message, indented frames, {@code Caused by:},
 * {@code Suppressed:}) take the priority of the record they follow; anything else is 6 (info). Lines carry no time
 * stamp: the journal adds its own (the text format prints none; a JSON record's own {@code time} stays in it).
 */
public final class JournalStream extends OutputStream {
    public static final String JOURNAL_STREAM = "JOURNAL_STREAM";

    static final int ERROR = 3;
    static final int WARNING = 4;
    static final int INFO = 6;
    static final int DEBUG = 7;

    private static final Pattern RECORD = Pattern.compile("^(?:\\[[^\\]]*\\] )?(TRACE|DEBUG|INFO|WARN|ERROR) "
            + "|^\\{\"time\":\"[^\"]*\",\"level\":\"(TRACE|DEBUG|INFO|WARN|ERROR)\"");
    private static final Pattern PREFIXED = Pattern.compile("^<[0-7]>");
    /** A stack trace's first line: the exception's class name, then its message. */
    private static final Pattern THROWABLE =
            Pattern.compile("^(?:[A-Za-z_$][\\w$]*\\.)+[A-Za-z_$][\\w$]*(?::.*)?$");

    private final OutputStream out;
    private final ByteArrayOutputStream line = new ByteArrayOutputStream(256);
    private int lastRecordPriority = INFO;

    /** A stream that writes each line to {@code out} with its priority prefix. */
    public JournalStream(OutputStream out) {
        this.out = Objects.requireNonNull(out, "out");
    }

    /**
     * Replaces {@link System#err} and {@link System#out} with prefixing streams, each only when {@code JOURNAL_STREAM}
     * in {@code environment} names the very stream this process has on that descriptor: a variable inherited by a
     * process whose output goes elsewhere (a file, a pipe) changes nothing, as sd-daemon(3) asks. Call it first in
     * {@code main}, before anything keeps a reference to the old streams. Returns whether standard error was replaced.
     */
    public static boolean install(Map<String, String> environment) {
        String value = environment.get(JOURNAL_STREAM);
        if (value == null) {
            return false;
        }
        boolean err = connected(value, Path.of("/proc/self/fd/2"));
        if (connected(value, Path.of("/proc/self/fd/1"))) {
            System.setOut(new PrintStream(new JournalStream(new FileOutputStream(FileDescriptor.out)), true,
                    StandardCharsets.UTF_8));
        }
        if (err) {
            System.setErr(new PrintStream(new JournalStream(new FileOutputStream(FileDescriptor.err)), true,
                    StandardCharsets.UTF_8));
        }
        return err;
    }

    /** Whether {@code journalStream} ({@code <device>:<inode>}, decimal) is the file behind {@code descriptor}. */
    static boolean connected(String journalStream, Path descriptor) {
        Matcher matcher = Pattern.compile("^(\\d+):(\\d+)$").matcher(journalStream);
        if (!matcher.matches()) {
            return false;
        }
        try {
            // stat(2) through /proc/self/fd follows to the socket (or file) itself, as fstat on the descriptor would.
            Map<String, Object> attributes = Files.readAttributes(descriptor, "unix:dev,ino");
            return Long.parseUnsignedLong(matcher.group(1)) == ((Number) attributes.get("dev")).longValue()
                    && Long.parseUnsignedLong(matcher.group(2)) == ((Number) attributes.get("ino")).longValue();
        } catch (IOException | UnsupportedOperationException | NumberFormatException e) {
            return false;
        }
    }

    /** The syslog priority of one line (without its newline), given the priority of the last record seen. */
    static int priority(String text, int lastRecord) {
        Matcher record = RECORD.matcher(text);
        if (record.find()) {
            return switch (record.group(1) != null ? record.group(1) : record.group(2)) {
                case "ERROR" -> ERROR;
                case "WARN" -> WARNING;
                case "INFO" -> INFO;
                default -> DEBUG;
            };
        }
        if (text.startsWith("\t") || text.startsWith(" ") || text.startsWith("Caused by: ")
                || text.startsWith("Suppressed: ") || THROWABLE.matcher(text).matches()) {
            return lastRecord;
        }
        if (text.startsWith("Error: ") || text.startsWith("error: ")) {
            return ERROR;
        }
        if (text.startsWith("Warning: ") || text.startsWith("warning: ")) {
            return WARNING;
        }
        return INFO;
    }

    @Override
    public synchronized void write(int b) throws IOException {
        if (b == '\n') {
            emit();
        } else {
            line.write(b);
        }
    }

    @Override
    public synchronized void write(byte[] bytes, int offset, int length) throws IOException {
        Objects.checkFromIndexSize(offset, length, bytes.length);
        int start = offset;
        int end = offset + length;
        for (int i = offset; i < end; i++) {
            if (bytes[i] == '\n') {
                line.write(bytes, start, i - start);
                emit();
                start = i + 1;
            }
        }
        line.write(bytes, start, end - start);
    }

    private void emit() throws IOException {
        String text = line.toString(StandardCharsets.UTF_8);
        line.reset();
        if (text.endsWith("\r")) {
            text = text.substring(0, text.length() - 1);
        }
        if (PREFIXED.matcher(text).find()) {
            out.write((text + "\n").getBytes(StandardCharsets.UTF_8));
            return;
        }
        int priority = priority(text, lastRecordPriority);
        if (RECORD.matcher(text).find()) {
            lastRecordPriority = priority;
        }
        out.write(("<" + priority + ">" + text + "\n").getBytes(StandardCharsets.UTF_8));
    }

    /** Flushes the complete lines; a partial line waits for its newline (journald reads whole lines). */
    @Override
    public synchronized void flush() throws IOException {
        out.flush();
    }

    @Override
    public synchronized void close() throws IOException {
        if (line.size() > 0) {
            emit();
        }
        out.close();
    }
}
