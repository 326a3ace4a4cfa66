package dev.bourne.agent.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.bourne.testing.systemd.NotifySocketReceiver;
import dev.bourne.testing.systemd.NotifySocketReceiver.Notification;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bin/bourne-server run} and {@code bin/bourne-agent run} as systemd runs a {@code Type=notify} unit: real
 * processes from the repository's launchers, with {@code NOTIFY_SOCKET} (and {@code WATCHDOG_USEC}) pointing at a Unix
 * datagram socket this test reads, as systemd's own. Proves: {@code READY=1} comes only once the process serves (the
 * very next healthcheck succeeds on its first try), the watchdog is pinged, SIGTERM gives {@code STOPPING=1} and exit
 * status 0, and no socket or lock file stays behind. The server also runs with {@code JOURNAL_STREAM} naming its
 * stderr file, so its log lines carry syslog priorities; the agent's (without it) do not.
 */
class SystemdNotifyProcessTest {
    static final Path ROOT = Path.of("").toAbsolutePath().getParent();
    static final Duration START_BOUND = Duration.ofMinutes(2);
    static final Duration STOP_BOUND = Duration.ofSeconds(30);
    static final Duration COMMAND_BOUND = Duration.ofMinutes(2);
    static final Pattern PRIORITY = Pattern.compile("^<[0-7]>");

    @TempDir
    Path dir;

    final List<Process> processes = new ArrayList<>();
    final List<AutoCloseable> receivers = new ArrayList<>();

    record Outcome(int code, String out, String err) {
    }

    @AfterEach
    void cleanUp() throws Exception {
        for (Process process : processes) {
            if (process.isAlive()) {
                process.destroyForcibly();
            }
        }
        for (AutoCloseable receiver : receivers) {
            receiver.close();
        }
    }

    @Test
    void serverAndAgent_readyWhenServing_stopCleanlyOnSigterm() throws Exception {
        Path serverSocket = dir.resolve("server/api.sock");
        Path agentSocket = dir.resolve("agent/api.sock");
        assertTrue(agentSocket.toString().length() <= 100 && dir.resolve("server-notify").toString().length() <= 100,
                "the temporary directory " + dir + " is too long for Unix socket paths");
        NotifySocketReceiver serverNotify = NotifySocketReceiver.bind(dir.resolve("server-notify"));
        receivers.add(serverNotify);
        NotifySocketReceiver agentNotify = NotifySocketReceiver.bind(dir.resolve("agent-notify"));
        receivers.add(agentNotify);

        int serverPort = GettingStartedFlowTest.freePort();
        Path serverConf = dir.resolve("server.conf");
        Files.writeString(serverConf, GettingStartedFlowTest.edit(
                Files.readString(ROOT.resolve("conf/server/server.conf")), Map.of(
                        "bind_port = \"8081\"", "bind_port = \"" + serverPort + "\"",
                        "bind_port = \"8080\"", "bind_port = \"" + GettingStartedFlowTest.freePort() + "\"",
                        "socket_path = \"/tmp/bourne-server/private/api.sock\"", "socket_path = \"" + serverSocket
                                + "\"",
                        "\"./.data/server/datastore.sqlite3\"", "\"" + dir.resolve("server/datastore.sqlite3") + "\"",
                        "\"./.data/server/keys\"", "\"" + dir.resolve("server/keys") + "\"",
                        "data_dir = \"./.data/server\"", "data_dir = \"" + dir.resolve("server") + "\"")));
        Path agentConf = dir.resolve("agent.conf");
        Files.writeString(agentConf, GettingStartedFlowTest.edit(
                Files.readString(ROOT.resolve("conf/agent/agent.conf")), Map.of(
                        "server_port = \"8081\"", "server_port = \"" + serverPort + "\"",
                        "socket_path = \"/tmp/bourne-agent/public/api.sock\"", "socket_path = \"" + agentSocket + "\"",
                        "data_dir = \"./.data/agent\"", "data_dir = \"" + dir.resolve("agent") + "\"")));

        // The server: stderr into a file whose device and inode go into JOURNAL_STREAM, as systemd sets it for the
        // journal's stream.
        Path serverLog = Files.createFile(dir.resolve("server.log"));
        Map<String, Object> logId = Files.readAttributes(serverLog, "unix:dev,ino");
        Process server = start(serverLog, Map.of("NOTIFY_SOCKET", serverNotify.notifySocket(),
                "WATCHDOG_USEC", "2000000", "JOURNAL_STREAM", logId.get("dev") + ":" + logId.get("ino")),
                "bin/bourne-server", "run", "-config", serverConf.toString());
        Notification serverReady = awaitNotification(server, serverNotify, "READY=1", serverLog);
        Outcome health = run(Map.of(), "bin/bourne-server", "healthcheck", "-socketPath", serverSocket.toString());
        assertEquals(0, health.code(), "READY=1 came before the admin API was healthy: " + health.err());
        assertTrue(serverReady.value("STATUS").startsWith("ready: admin API on " + serverSocket), serverReady.text());
        assertEquals("STATUS=starting", serverNotify.received().stream().filter(n -> !n.has("WATCHDOG=1"))
                .findFirst().orElseThrow().text());

        Outcome token = run(Map.of(), "bin/bourne-server", "token", "generate", "-socketPath", serverSocket.toString(),
                "-spiffeID", "spiffe://example.org/myagent");
        assertEquals(0, token.code(), token.err());
        Matcher tokenLine = Pattern.compile("^Token: ([0-9a-f]{32})$", Pattern.MULTILINE).matcher(token.out());
        assertTrue(tokenLine.find(), token.out());

        Path agentLog = dir.resolve("agent.log");
        Process agent = start(agentLog, Map.of("NOTIFY_SOCKET", agentNotify.notifySocket()),
                "bin/bourne-agent", "run", "-config", agentConf.toString(), "-joinToken", tokenLine.group(1));
        Notification agentReady = awaitNotification(agent, agentNotify, "READY=1", agentLog);
        // healthcheck fails on UNAVAILABLE (not attested or not synced) and passes on PERMISSION_DENIED (no entry).
        Outcome agentHealth = run(Map.of(), "bin/bourne-agent", "healthcheck", "-socketPath", agentSocket.toString());
        assertEquals(0, agentHealth.code(), "READY=1 came before the Workload API served: " + agentHealth.err());
        assertEquals("ready: Workload API on " + agentSocket, agentReady.value("STATUS"));
        assertFalse(agentReady.text().contains(tokenLine.group(1)), "the join token reached systemd's status");

        // SIGTERM (Process.destroy) as systemctl stop sends it.
        agent.destroy();
        Notification agentStopping = awaitNotification(null, agentNotify, "STOPPING=1", agentLog);
        assertEquals("STOPPING=1\nSTATUS=stopping (SIGTERM)", agentStopping.text());
        assertEquals(0, awaitExit(agent, agentLog), "exit status of the agent after SIGTERM");
        assertFalse(Files.exists(agentSocket), "the agent left its socket behind");
        assertFalse(Files.exists(dir.resolve("agent/api.sock.lock")), "the agent left its lock file behind");

        server.destroy();
        Notification serverStopping = awaitNotification(null, serverNotify, "STOPPING=1", serverLog);
        assertEquals("STOPPING=1\nSTATUS=stopping (SIGTERM)", serverStopping.text());
        assertEquals(0, awaitExit(server, serverLog), "exit status of the server after SIGTERM");
        assertFalse(Files.exists(serverSocket), "the server left its admin socket behind");
        assertFalse(Files.exists(dir.resolve("server/api.sock.lock")), "the server left its lock file behind");
        // WatchdogSec=4s: pinged every 2 s while the server ran (and it ran through several CLI commands).
        assertTrue(serverNotify.received().stream().anyMatch(n -> n.text().equals("WATCHDOG=1")),
                "no WATCHDOG=1 from the server: " + serverNotify.received());
        assertTrue(agentNotify.received().stream().noneMatch(n -> n.has("WATCHDOG=1")),
                "the agent pinged a watchdog nobody asked for");

        List<String> serverLines = Files.readAllLines(serverLog, StandardCharsets.UTF_8);
        assertTrue(serverLines.stream().anyMatch(l -> l.matches("^<6>\\[main\\] INFO .*server stopped$")),
                "no '<6>... INFO ... server stopped' line:\n" + String.join("\n", serverLines));
        assertTrue(serverLines.stream().allMatch(l -> PRIORITY.matcher(l).find()),
                "a server log line without its priority:\n" + String.join("\n", serverLines));
        List<String> agentLines = Files.readAllLines(agentLog, StandardCharsets.UTF_8);
        assertTrue(agentLines.stream().noneMatch(l -> PRIORITY.matcher(l).find()),
                "priorities without JOURNAL_STREAM:\n" + String.join("\n", agentLines));
    }

    Process start(Path log, Map<String, String> environment, String... command) throws IOException {
        Process process = builder(environment, command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        processes.add(process);
        return process;
    }

    static ProcessBuilder builder(Map<String, String> environment, String... command) {
        List<String> line = new ArrayList<>(List.of(command));
        line.set(0, ROOT.resolve(command[0]).toString());
        ProcessBuilder builder = new ProcessBuilder(line).directory(ROOT.toFile());
        Map<String, String> env = new HashMap<>(environment);
        env.put("BOURNE_LAUNCH_NO_BUILD", "1");
        // Whatever this JVM inherited from a service manager must not leak into the processes under test.
        builder.environment().keySet().removeAll(List.of("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID",
                "JOURNAL_STREAM"));
        builder.environment().putAll(env);
        return builder;
    }

    Outcome run(Map<String, String> environment, String... command) throws Exception {
        Path out = Files.createTempFile(dir, "out", ".txt");
        Path err = Files.createTempFile(dir, "err", ".txt");
        Process process = builder(environment, command).redirectOutput(out.toFile()).redirectError(err.toFile())
                .start();
        if (!process.waitFor(COMMAND_BOUND.toSeconds(), TimeUnit.SECONDS)) {
            process.destroyForcibly();
            fail(String.join(" ", command) + " did not finish within " + COMMAND_BOUND);
        }
        return new Outcome(process.exitValue(), Files.readString(out), Files.readString(err));
    }

    /** The first datagram with {@code assignment}, within START_BOUND, failing early if {@code process} exits. */
    static Notification awaitNotification(Process process, NotifySocketReceiver receiver, String assignment, Path log)
            throws InterruptedException {
        long deadline = System.nanoTime() + START_BOUND.toNanos();
        while (System.nanoTime() < deadline) {
            Notification found = receiver.await(assignment, Duration.ofMillis(250));
            if (found != null) {
                return found;
            }
            if (process != null && !process.isAlive()) {
                fail("exited with " + process.exitValue() + " before " + assignment + "; received "
                        + receiver.received() + "\n" + GettingStartedFlowTest.tail(log));
            }
        }
        fail("no " + assignment + " within " + START_BOUND + "; received " + receiver.received() + "\n"
                + GettingStartedFlowTest.tail(log));
        return null;
    }

    static int awaitExit(Process process, Path log) throws InterruptedException {
        assertTrue(process.waitFor(STOP_BOUND.toSeconds(), TimeUnit.SECONDS),
                "no exit within " + STOP_BOUND + " of SIGTERM:\n" + GettingStartedFlowTest.tail(log));
        return process.exitValue();
    }
}
