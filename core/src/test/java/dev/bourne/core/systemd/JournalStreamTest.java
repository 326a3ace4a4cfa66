package dev.bourne.core.systemd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@link JournalStream}: the syslog priority prefix each line gets, and when the stream is the journal's. */
class JournalStreamTest {
    @TempDir
    Path dir;

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "[main] ERROR dev.bourne.X - the server could not start|3",
        "[main] WARN dev.bourne.X - cannot prune|4",
        "[bourne-agent-sync] INFO dev.bourne.Y - node attested|6",
        "[main] DEBUG io.netty.Z - details|7",
        "[main] TRACE io.netty.Z - more details|7",
        "ERROR dev.bourne.X - without the thread name|3",
        "Error: /etc/bourne/server.conf: server.ca_ttl: invalid duration|3",
        "error: something|3",
        "Warning: /etc/bourne/agent.conf: agent.x: deprecated|4",
        "warning: something|4",
        "bourne-agent: serving the Workload API on /run/bourne/agent/public/api.sock|6",
        "INFORMATION without a record's shape|6",
        "{\"time\":\"2026-12-04T10:00:00.123Z\",\"level\":\"ERROR\",\"logger\":\"dev.bourne.X\",\"message\":\"x\"}|3",
        "{\"time\":\"2026-12-04T10:00:00Z\",\"level\":\"WARN\",\"logger\":\"dev.bourne.X\"}|4",
        "{\"time\":\"2026-12-04T10:00:00Z\",\"level\":\"INFO\",\"logger\":\"dev.bourne.X\"}|6",
        "{\"time\":\"2026-12-04T10:00:00Z\",\"level\":\"DEBUG\",\"logger\":\"dev.bourne.X\"}|7",
        "{\"message\":\"ERROR \",\"level\":\"ERROR\"}|6",
    })
    void priority_ofLine(String line, int expected) {
        assertEquals(expected, JournalStream.priority(line, JournalStream.INFO));
    }

    @Test
    void stackTrace_takesThePriorityOfItsRecord() throws Exception {
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        try (PrintStream out = new PrintStream(new JournalStream(sink), true, StandardCharsets.UTF_8)) {
            out.println("[main] ERROR dev.bourne.X - round failed");
            new IllegalStateException("outer", new IllegalArgumentException("inner")).printStackTrace(out);
            out.println("[main] INFO dev.bourne.X - next round");
            out.print("partial ");
            out.print("line\r\nlast");
        }
        String[] lines = sink.toString(StandardCharsets.UTF_8).split("\n", -1);
        assertEquals("<3>[main] ERROR dev.bourne.X - round failed", lines[0]);
        assertEquals("<3>java.lang.IllegalStateException: outer", lines[1]);
        int infoAt = -1;
        for (int i = 2; i < lines.length; i++) {
            if (lines[i].contains("next round")) {
                infoAt = i;
                break;
            }
            // "\tat ..." frames and "Caused by: ..." belong to the ERROR record.
            assertTrue(lines[i].startsWith("<3>\tat ") || lines[i].startsWith("<3>Caused by: ")
                    || lines[i].startsWith("<3>\t... "), lines[i]);
        }
        assertEquals("<6>[main] INFO dev.bourne.X - next round", lines[infoAt]);
        assertEquals("<6>partial line", lines[infoAt + 1]);
        // close() writes the unterminated last line.
        assertEquals("<6>last", lines[infoAt + 2]);
    }

    @Test
    void alreadyPrefixed_keptAsIs() throws Exception {
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        try (JournalStream stream = new JournalStream(sink)) {
            stream.write("<2>critical\n".getBytes(StandardCharsets.UTF_8));
        }
        assertEquals("<2>critical\n", sink.toString(StandardCharsets.UTF_8));
    }

    @Test
    void connected_onlyForTheFileJournalStreamNames() throws Exception {
        Path file = Files.createFile(dir.resolve("stderr"));
        Path other = Files.createFile(dir.resolve("other"));
        Map<String, Object> id = Files.readAttributes(file, "unix:dev,ino");
        String journalStream = id.get("dev") + ":" + id.get("ino");

        assertTrue(JournalStream.connected(journalStream, file));
        assertFalse(JournalStream.connected(journalStream, other));
        assertFalse(JournalStream.connected(id.get("dev") + ":", file));
        assertFalse(JournalStream.connected("x:y", file));
        assertFalse(JournalStream.connected(journalStream, dir.resolve("missing")));
    }

    @Test
    void install_withoutJournalStream_changesNothing() {
        PrintStream before = System.err;
        assertFalse(JournalStream.install(Map.of()));
        assertEquals(before, System.err);
    }
}
