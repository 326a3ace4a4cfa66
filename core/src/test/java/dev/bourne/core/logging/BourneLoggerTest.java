package dev.bourne.core.logging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.nimbusds.jose.util.JSONObjectUtils;
import dev.bourne.core.config.LogFormat;
import dev.bourne.core.config.LogLevel;
import dev.bourne.core.systemd.JournalStream;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MarkerFactory;

/**
 * Bourne's SLF4J provider through the SLF4J API: level filtering that follows {@link Logging#configure} at any time,
 * the text layout of slf4j-simple byte for byte, JSON lines a JSON parser reads back, and both under the journal's
 * {@link JournalStream}.
 */
class BourneLoggerTest {
    private final ByteArrayOutputStream captured = new ByteArrayOutputStream();
    private PrintStream original;

    @BeforeEach
    void captureStandardError() {
        original = System.err;
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
    }

    @AfterEach
    void restore() {
        System.setErr(original);
        Logging.reset();
    }

    private String output() {
        return captured.toString(StandardCharsets.UTF_8);
    }

    private static String thread() {
        return Thread.currentThread().getName();
    }

    @Test
    void provider_isBournes() {
        assertInstanceOf(BourneLoggerFactory.class, LoggerFactory.getILoggerFactory());
        assertInstanceOf(BourneLogger.class, LoggerFactory.getLogger(BourneLoggerTest.class));
    }

    @Test
    void level_defaultsToInfo_andAChangeReachesLoggersCreatedBefore() {
        Logger log = LoggerFactory.getLogger("dev.bourne.test.Levels");
        log.debug("debug one");
        log.info("info one");
        assertEquals("[" + thread() + "] INFO dev.bourne.test.Levels - info one\n", output());
        assertFalse(log.isDebugEnabled());

        Logging.configure(LogLevel.DEBUG, LogFormat.TEXT);
        assertTrue(log.isDebugEnabled());
        assertFalse(log.isTraceEnabled(), "TRACE is below every configurable level");
        log.debug("debug two");
        log.trace("trace two");
        assertTrue(output().endsWith("[" + thread() + "] DEBUG dev.bourne.test.Levels - debug two\n"), output());

        Logging.configure(LogLevel.WARN, LogFormat.TEXT);
        captured.reset();
        log.debug("debug three");
        log.info("info three");
        log.warn("warn three");
        log.error("error three");
        assertEquals("[" + thread() + "] WARN dev.bourne.test.Levels - warn three\n"
                + "[" + thread() + "] ERROR dev.bourne.test.Levels - error three\n", output());

        Logging.configure(LogLevel.ERROR, LogFormat.TEXT);
        captured.reset();
        log.warn("warn four");
        log.error("error four");
        assertEquals("[" + thread() + "] ERROR dev.bourne.test.Levels - error four\n", output());
    }

    @Test
    void nettyMacAddressWarning_onlyAtDebug() {
        Logger mac = LoggerFactory.getLogger("io.netty.util.internal.MacAddressUtil");
        Logger other = LoggerFactory.getLogger("io.netty.util.internal.PlatformDependent");
        mac.warn("Failed to find a usable hardware address from the network interfaces; using random bytes: {}", "x");
        mac.error("error");
        other.warn("other warning");
        assertEquals("[" + thread() + "] WARN io.netty.util.internal.PlatformDependent - other warning\n", output());

        Logging.configure(LogLevel.DEBUG, LogFormat.TEXT);
        mac.warn("shown now");
        assertTrue(output().endsWith("[" + thread() + "] WARN io.netty.util.internal.MacAddressUtil - shown now\n"),
                output());
    }

    @Test
    void text_isSlf4jSimplesLayout_messageArgumentsAndThrowable() {
        Logger log = LoggerFactory.getLogger("dev.bourne.Test");
        IllegalStateException failure = new IllegalStateException("bad \"state\"", new RuntimeException("root"));
        log.info("hello {} and {}", "x", 3);
        log.warn("boom", failure);
        log.error("with arg {} and {}", "y", "z", failure);
        log.info("{} {} {}", "a", "b", "c");
        log.info("escaped \\{} and {} and missing {}", "one");
        log.info(MarkerFactory.getMarker("M1"), "marked");

        // slf4j-simple 2.0.17's default output, as it printed it (println, then Throwable.printStackTrace).
        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        PrintStream simple = new PrintStream(expected, true, StandardCharsets.UTF_8);
        simple.println("[" + thread() + "] INFO dev.bourne.Test - hello x and 3");
        simple.println("[" + thread() + "] WARN dev.bourne.Test - boom");
        failure.printStackTrace(simple);
        simple.println("[" + thread() + "] ERROR dev.bourne.Test - with arg y and z");
        failure.printStackTrace(simple);
        simple.println("[" + thread() + "] INFO dev.bourne.Test - a b c");
        simple.println("[" + thread() + "] INFO dev.bourne.Test - escaped {} and one and missing {}");
        simple.println("[" + thread() + "] INFO dev.bourne.Test -  M1 marked");
        assertEquals(expected.toString(StandardCharsets.UTF_8), output());
        assertTrue(output().contains("\nCaused by: java.lang.RuntimeException: root\n"), output());
    }

    @Test
    void json_oneParsableObjectPerLine_withEscaping() throws Exception {
        Logging.configure(LogLevel.INFO, LogFormat.JSON);
        Logger log = LoggerFactory.getLogger("dev.bourne.Json");
        String tricky = "say \"hi\"\nnext\tline \u0001 back\\slash caf\u00e9 \u65e5\u672c \uD83D\uDE00";
        Instant before = Instant.now();
        log.info("value {}", tricky);
        log.error("failed for {}", "agent-1", new IllegalArgumentException("no \"such\"\nthing",
                new RuntimeException("cause")));
        log.debug("not at INFO");

        String[] lines = output().split("\n", -1);
        assertEquals(3, lines.length, output());
        assertEquals("", lines[2]);
        assertTrue(output().contains("caf\u00e9 \u65e5\u672c \uD83D\uDE00"), "non-ASCII is kept as UTF-8: " + output());
        assertTrue(lines[0].contains("\\u0001"), lines[0]);

        Map<String, Object> info = JSONObjectUtils.parse(lines[0]);
        assertEquals("INFO", info.get("level"));
        assertEquals("dev.bourne.Json", info.get("logger"));
        assertEquals(thread(), info.get("thread"));
        assertEquals("value " + tricky, info.get("message"));
        assertNull(info.get("error"));
        Instant time = Instant.parse((String) info.get("time"));
        assertTrue(((String) info.get("time")).endsWith("Z"), "UTC: " + info.get("time"));
        assertTrue(!time.isBefore(before.minusMillis(1)) && time.isBefore(before.plus(Duration.ofMinutes(1))),
                time.toString());
        assertTrue(lines[0].startsWith("{\"time\":\""), "time first, for the journal: " + lines[0]);

        Map<String, Object> error = JSONObjectUtils.parse(lines[1]);
        assertEquals("ERROR", error.get("level"));
        assertEquals("failed for agent-1", error.get("message"));
        Map<String, Object> cause = JSONObjectUtils.getJSONObject(error, "error");
        assertEquals("java.lang.IllegalArgumentException", cause.get("class"));
        assertEquals("no \"such\"\nthing", cause.get("message"));
        String stack = (String) cause.get("stack");
        assertTrue(stack.startsWith("java.lang.IllegalArgumentException: no \"such\"\nthing\n\tat "), stack);
        assertTrue(stack.contains("\nCaused by: java.lang.RuntimeException: cause\n"), stack);
    }

    @Test
    void json_throwableWithoutMessage_hasNullMessage() throws Exception {
        Logging.configure(LogLevel.INFO, LogFormat.JSON);
        LoggerFactory.getLogger("dev.bourne.Json").warn("x", new NullPointerException());
        Map<String, Object> record = JSONObjectUtils.parse(output().strip());
        Map<String, Object> error = JSONObjectUtils.getJSONObject(record, "error");
        assertTrue(error.containsKey("message"));
        assertNull(error.get("message"));
        assertEquals("java.lang.NullPointerException", error.get("class"));
    }

    @Test
    void journalStream_prioritiesForBothFormats() throws Exception {
        ByteArrayOutputStream journal = new ByteArrayOutputStream();
        System.setErr(new PrintStream(new JournalStream(journal), true, StandardCharsets.UTF_8));
        Logger log = LoggerFactory.getLogger("dev.bourne.Journal");
        for (LogFormat format : LogFormat.values()) {
            Logging.configure(LogLevel.DEBUG, format);
            log.debug("d");
            log.info("i");
            log.warn("w");
            log.error("e", new IllegalStateException("x"));
            log.info("after");
        }
        String[] lines = journal.toString(StandardCharsets.UTF_8).split("\n");
        int i = 0;
        assertEquals("<7>[" + thread() + "] DEBUG dev.bourne.Journal - d", lines[i++]);
        assertEquals("<6>[" + thread() + "] INFO dev.bourne.Journal - i", lines[i++]);
        assertEquals("<4>[" + thread() + "] WARN dev.bourne.Journal - w", lines[i++]);
        assertEquals("<3>[" + thread() + "] ERROR dev.bourne.Journal - e", lines[i++]);
        assertEquals("<3>java.lang.IllegalStateException: x", lines[i++]);
        while (lines[i].startsWith("<3>\tat ")) {
            i++;
        }
        assertEquals("<6>[" + thread() + "] INFO dev.bourne.Journal - after", lines[i++]);
        String[] json = {"<7>", "<6>", "<4>", "<3>", "<6>"};
        String[] messages = {"d", "i", "w", "e", "after"};
        assertEquals(i + json.length, lines.length, String.join("\n", lines));
        for (int j = 0; j < json.length; j++) {
            String line = lines[i + j];
            assertTrue(line.startsWith(json[j] + "{\"time\":"), line);
            assertEquals(messages[j], JSONObjectUtils.parse(line.substring(3)).get("message"));
        }
    }

    @Test
    void records_ofConcurrentThreadsDoNotInterleave() throws Exception {
        Logger log = LoggerFactory.getLogger("dev.bourne.Threads");
        Logging.configure(LogLevel.INFO, LogFormat.JSON);
        Thread[] threads = new Thread[4];
        for (int t = 0; t < threads.length; t++) {
            threads[t] = new Thread(() -> {
                for (int n = 0; n < 200; n++) {
                    log.info("record {} of {}", n, Thread.currentThread().getName());
                }
            }, "writer-" + t);
            threads[t].start();
        }
        for (Thread thread : threads) {
            thread.join();
        }
        String[] lines = output().split("\n");
        assertEquals(800, lines.length);
        for (String line : lines) {
            Map<String, Object> record = JSONObjectUtils.parse(line);
            assertTrue(((String) record.get("message")).endsWith("of " + record.get("thread")), line);
        }
    }

    /** A stream that is not a {@link PrintStream}'s: the logger writes to whatever System.err is at the time. */
    @Test
    void writesToTheCurrentStandardError() {
        Logger log = LoggerFactory.getLogger("dev.bourne.Current");
        ByteArrayOutputStream second = new ByteArrayOutputStream();
        log.info("first");
        System.setErr(new PrintStream((OutputStream) second, true, StandardCharsets.UTF_8));
        log.info("second");
        assertEquals("[" + thread() + "] INFO dev.bourne.Current - first\n", output());
        assertEquals("[" + thread() + "] INFO dev.bourne.Current - second\n", second.toString(StandardCharsets.UTF_8));
    }
}
