package dev.bourne.agent.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.nimbusds.jose.util.JSONObjectUtils;
import dev.bourne.testing.systemd.NotifySocketReceiver;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bin/bourne-server run} applies {@code server { log_level, log_format }}: real processes from the repository's
 * launcher, started until {@code READY=1} and stopped with SIGTERM, their standard error read back. DEBUG shows
 * DEBUG records (Netty's, from its start-up), WARN hides INFO records, and {@code log_format = "json"} turns every
 * record into a JSON object on its own line.
 */
class LogSettingsProcessTest {
    /** A record in the text layout: {@code [thread] LEVEL logger - message}. */
    static final Pattern TEXT_RECORD = Pattern.compile("^\\[[^\\]]*\\] (TRACE|DEBUG|INFO|WARN|ERROR) \\S+ - ");

    @TempDir
    Path dir;

    final List<Process> processes = new ArrayList<>();

    @AfterEach
    void cleanUp() {
        for (Process process : processes) {
            if (process.isAlive()) {
                process.destroyForcibly();
            }
        }
    }

    /** The standard error lines of one server run (to READY=1, then SIGTERM) with these {@code server} settings. */
    List<String> runServer(String logSettings) throws Exception {
        Path socket = dir.resolve("server/api.sock");
        Path conf = dir.resolve("server.conf");
        Files.writeString(conf, GettingStartedFlowTest.edit(
                Files.readString(SystemdNotifyProcessTest.ROOT.resolve("conf/server/server.conf")), Map.of(
                        "log_level = \"INFO\"", logSettings + "\n   ",
                        "bind_port = \"8081\"", "bind_port = \"" + GettingStartedFlowTest.freePort() + "\"",
                        "bind_port = \"8080\"", "bind_port = \"" + GettingStartedFlowTest.freePort() + "\"",
                        "socket_path = \"/tmp/bourne-server/private/api.sock\"", "socket_path = \"" + socket + "\"",
                        "\"./.data/server/datastore.sqlite3\"", "\"" + dir.resolve("server/datastore.sqlite3") + "\"",
                        "\"./.data/server/keys\"", "\"" + dir.resolve("server/keys") + "\"",
                        "data_dir = \"./.data/server\"", "data_dir = \"" + dir.resolve("server") + "\"")));
        Path log = dir.resolve("server.log");
        try (NotifySocketReceiver notify = NotifySocketReceiver.bind(dir.resolve("notify"))) {
            Process server = SystemdNotifyProcessTest.builder(Map.of("NOTIFY_SOCKET", notify.notifySocket()),
                    "bin/bourne-server", "run", "-config", conf.toString())
                    .redirectErrorStream(true).redirectOutput(log.toFile()).start();
            processes.add(server);
            SystemdNotifyProcessTest.awaitNotification(server, notify, "READY=1", log);
            server.destroy();
            assertEquals(0, SystemdNotifyProcessTest.awaitExit(server, log), "exit status after SIGTERM");
        }
        return Files.readAllLines(log, StandardCharsets.UTF_8);
    }

    static List<String> records(List<String> lines, String level) {
        return lines.stream().filter(l -> TEXT_RECORD.matcher(l).find() && l.contains("] " + level + " ")).toList();
    }

    @Test
    void debug_showsDebugRecords() throws Exception {
        List<String> lines = runServer("log_level = \"debug\"");
        String all = String.join("\n", lines);
        assertFalse(records(lines, "DEBUG").isEmpty(), "no DEBUG record at log_level DEBUG:\n" + all);
        assertTrue(lines.stream().anyMatch(l -> l.matches("^\\[main\\] INFO .*server stopped$")), all);
    }

    @Test
    void warn_hidesInfoAndDebugRecords() throws Exception {
        List<String> lines = runServer("log_level = \"WARN\"");
        String all = String.join("\n", lines);
        assertEquals(List.of(), records(lines, "INFO"), all);
        assertEquals(List.of(), records(lines, "DEBUG"), all);
    }

    @Test
    void json_everyRecordIsAJsonLine() throws Exception {
        List<String> lines = runServer("log_level = \"DEBUG\"\n    log_format = \"json\"");
        String all = String.join("\n", lines);
        assertTrue(lines.stream().noneMatch(l -> TEXT_RECORD.matcher(l).find()), "a text record:\n" + all);
        List<Map<String, Object>> records = new ArrayList<>();
        for (String line : lines) {
            if (line.startsWith("{")) {
                records.add(JSONObjectUtils.parse(line));
            }
        }
        assertTrue(records.stream().anyMatch(r -> "DEBUG".equals(r.get("level"))), all);
        assertTrue(records.stream().anyMatch(r -> "INFO".equals(r.get("level")) && "main".equals(r.get("thread"))
                && String.valueOf(r.get("message")).endsWith("server stopped")), all);
        for (Map<String, Object> record : records) {
            assertTrue(record.get("time") instanceof String && record.get("logger") instanceof String, record::toString);
        }
    }
}
