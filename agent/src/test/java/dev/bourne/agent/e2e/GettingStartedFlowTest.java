package dev.bourne.agent.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.spiffe.svid.x509svid.X509Svid;
import io.spiffe.svid.x509svid.X509SvidValidator;
import io.spiffe.workloadapi.DefaultWorkloadApiClient;
import io.spiffe.workloadapi.WorkloadApiClient;
import io.spiffe.workloadapi.X509Context;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SPIRE's getting-started flow, word for word with Bourne's launchers, as real processes run from the repository
 * root: {@code bin/bourne-server run}, {@code healthcheck}, {@code token generate}, {@code bin/bourne-agent run
 * -joinToken}, {@code healthcheck}, {@code entry create -selector unix:uid:<uid>}, a workload fetch, then SIGTERM to
 * both. The configurations are the repository's samples with only ports, paths and data directories changed, so
 * parallel runs never clash.
 *
 * <p>The launchers run the reactor's build layout ({@code target/classes} or the module jar, plus {@code target/lib}):
 * this module builds after appliance, and both copy their dependencies at process-test-classes. The launchers are
 * told never to build ({@code BOURNE_LAUNCH_NO_BUILD}): a missing layout fails the test with the command to run.
 */
class GettingStartedFlowTest {
    /** The repository root: surefire runs in the module directory. */
    static final Path ROOT = Path.of("").toAbsolutePath().getParent();
    static final String NODE = "spiffe://example.org/myagent";
    static final String SERVICE = "spiffe://example.org/myservice";
    /** Process start-up on a loaded machine (JVM, CA keys, TLS): a safety net, not a timing assertion. */
    static final Duration START_BOUND = Duration.ofMinutes(2);
    /** The agent syncs entries every 5 s; the other 5 s absorb one slow round on a loaded 2-core machine. */
    static final Duration IDENTITY_BOUND = Duration.ofSeconds(10);
    static final Duration STOP_BOUND = Duration.ofSeconds(30);
    static final Duration COMMAND_BOUND = Duration.ofMinutes(2);
    static final int SUN_PATH_MAX = 107;

    @TempDir
    static Path dir;

    static Process server;
    static Process agent;
    static Path serverSocket;
    static Path agentSocket;
    static Map<String, String> environment;

    record Outcome(int code, String out, String err) {
    }

    @BeforeAll
    static void requireBuiltLayouts() {
        for (String module : List.of("appliance", "agent")) {
            Path target = ROOT.resolve(module).resolve("target");
            boolean classes = Files.isDirectory(target.resolve("classes"));
            assertTrue(classes && Files.isDirectory(target.resolve("lib")), module + "/target has no classes and"
                    + " lib/: run this test through the reactor (mvn -B -pl agent -am verify) so bin/bourne-"
                    + ("appliance".equals(module) ? "server" : "agent") + " has a build to run");
        }
    }

    @AfterAll
    static void killProcesses() {
        // Runs even when the flow failed half-way: nothing outlives the test class.
        for (Process process : new Process[] {agent, server}) {
            if (process != null && process.isAlive()) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
            }
        }
    }

    @Test
    void gettingStarted_serverAgentEntryAndWorkloadFetch_thenBothStopAndTheSocketIsGone() throws Exception {
        Path serverConf = dir.resolve("server.conf");
        Path agentConf = dir.resolve("agent.conf");
        serverSocket = dir.resolve("server/api.sock");
        agentSocket = dir.resolve("agent/api.sock");
        assertTrue(agentSocket.toString().length() <= SUN_PATH_MAX && serverSocket.toString().length() <= SUN_PATH_MAX,
                "the temporary directory " + dir + " is too long for a Unix socket path");
        int serverPort = freePort();
        int healthPort = freePort();
        Files.writeString(serverConf, edit(Files.readString(ROOT.resolve("conf/server/server.conf")), Map.of(
                "bind_port = \"8081\"", "bind_port = \"" + serverPort + "\"",
                "bind_port = \"8080\"", "bind_port = \"" + healthPort + "\"",
                "socket_path = \"/tmp/bourne-server/private/api.sock\"", "socket_path = \"" + serverSocket + "\"",
                "\"./.data/server/datastore.sqlite3\"", "\"" + dir.resolve("server/datastore.sqlite3") + "\"",
                "\"./.data/server/keys\"", "\"" + dir.resolve("server/keys") + "\"",
                "data_dir = \"./.data/server\"", "data_dir = \"" + dir.resolve("server") + "\"")));
        Files.writeString(agentConf, edit(Files.readString(ROOT.resolve("conf/agent/agent.conf")), Map.of(
                "server_port = \"8081\"", "server_port = \"" + serverPort + "\"",
                "socket_path = \"/tmp/bourne-agent/public/api.sock\"", "socket_path = \"" + agentSocket + "\"",
                "data_dir = \"./.data/agent\"", "data_dir = \"" + dir.resolve("agent") + "\"")));
        // The CLIs find the sockets as a user's shell would: BOURNE_SERVER_SOCKET and SPIFFE_ENDPOINT_SOCKET.
        environment = Map.of("BOURNE_LAUNCH_NO_BUILD", "1", "BOURNE_SERVER_SOCKET", serverSocket.toString(),
                "SPIFFE_ENDPOINT_SOCKET", "unix://" + agentSocket);

        server = start(dir.resolve("server.log"), "bin/bourne-server", "run", "-config", serverConf.toString());
        awaitSuccess(server, dir.resolve("server.log"), "bin/bourne-server", "healthcheck");

        Outcome token = run("bin/bourne-server", "token", "generate", "-spiffeID", NODE);
        assertEquals(0, token.code(), token.err());
        Matcher tokenLine = Pattern.compile("^Token: ([0-9a-f]{32})$", Pattern.MULTILINE).matcher(token.out());
        assertTrue(tokenLine.find(), "no 'Token: <hex>' line in: " + token.out());

        agent = start(dir.resolve("agent.log"), "bin/bourne-agent", "run", "-config", agentConf.toString(),
                "-joinToken", tokenLine.group(1));
        awaitSuccess(agent, dir.resolve("agent.log"), "bin/bourne-agent", "healthcheck");

        long uid = ((Number) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).longValue();
        Outcome entry = run("bin/bourne-server", "entry", "create", "-parentID", NODE, "-spiffeID", SERVICE,
                "-selector", "unix:uid:" + uid);
        assertEquals(0, entry.code(), entry.err());
        assertTrue(entry.out().contains("SPIFFE ID        : " + SERVICE), entry.out());

        // The workload: java-spiffe in this JVM (same uid), on the address form of SPIFFE_ENDPOINT_SOCKET.
        X509Context context = awaitX509Context();
        X509Svid svid = context.getDefaultSvid();
        assertEquals(SERVICE, svid.getSpiffeId().toString());
        X509SvidValidator.verifyChain(svid.getChain(), context.getX509BundleSet());
        // And the agent's own client as a separate process, as the guide's `api fetch x509`.
        Outcome fetch = run("bin/bourne-agent", "api", "fetch", "x509", "-socketPath", agentSocket.toString());
        assertEquals(0, fetch.code(), fetch.err());
        assertTrue(fetch.out().contains(SERVICE), fetch.out());

        terminate(agent, dir.resolve("agent.log"));
        terminate(server, dir.resolve("server.log"));
        assertFalse(Files.exists(agentSocket), "the agent left its socket " + agentSocket + " behind");
    }

    /** Replaces each literal of the sample once; a literal that is missing means the sample changed: fail. */
    static String edit(String sample, Map<String, String> replacements) {
        String result = sample;
        for (Map.Entry<String, String> replacement : replacements.entrySet()) {
            int at = result.indexOf(replacement.getKey());
            assertTrue(at >= 0, "the sample no longer contains " + replacement.getKey());
            result = result.substring(0, at) + replacement.getValue()
                    + result.substring(at + replacement.getKey().length());
        }
        return result;
    }

    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    static ProcessBuilder builder(String... command) {
        List<String> line = new ArrayList<>(List.of(command));
        line.set(0, ROOT.resolve(command[0]).toString());
        ProcessBuilder builder = new ProcessBuilder(line).directory(ROOT.toFile());
        builder.environment().putAll(environment);
        return builder;
    }

    static Process start(Path log, String... command) throws IOException {
        return builder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    static Outcome run(String... command) throws Exception {
        Path out = Files.createTempFile(dir, "out", ".txt");
        Path err = Files.createTempFile(dir, "err", ".txt");
        Process process = builder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!process.waitFor(COMMAND_BOUND.toSeconds(), TimeUnit.SECONDS)) {
            process.destroyForcibly();
            fail(String.join(" ", command) + " did not finish within " + COMMAND_BOUND);
        }
        return new Outcome(process.exitValue(), Files.readString(out), Files.readString(err));
    }

    /** Runs the command until it exits 0, while the long-running process stays alive, within START_BOUND. */
    static void awaitSuccess(Process process, Path log, String... command) throws Exception {
        long deadline = System.nanoTime() + START_BOUND.toNanos();
        Outcome last = run(command);
        while (last.code() != 0) {
            // The pause between attempts doubles as the check that the process did not exit.
            if (process.waitFor(250, TimeUnit.MILLISECONDS)) {
                fail(command[0] + " exited with " + process.exitValue() + " before it was healthy:\n" + tail(log));
            }
            if (System.nanoTime() > deadline) {
                fail(String.join(" ", command) + " did not succeed within " + START_BOUND + ": " + last.err()
                        + "\n" + tail(log));
            }
            last = run(command);
        }
    }

    static X509Context awaitX509Context() throws Exception {
        long deadline = System.nanoTime() + IDENTITY_BOUND.toNanos();
        try (WorkloadApiClient client = DefaultWorkloadApiClient.newClient(DefaultWorkloadApiClient.ClientOptions
                .builder().spiffeSocketPath("unix:" + agentSocket).build())) {
            while (true) {
                try {
                    return client.fetchX509Context();
                } catch (io.spiffe.exception.X509ContextException e) {
                    // PERMISSION_DENIED until the agent's next sync brings the entry.
                    if (System.nanoTime() > deadline) {
                        fail("no X.509-SVID for " + SERVICE + " within " + IDENTITY_BOUND + ": " + e.getMessage()
                                + "\n" + tail(dir.resolve("agent.log")));
                    }
                    if (agent.waitFor(100, TimeUnit.MILLISECONDS)) {
                        fail("the agent exited:\n" + tail(dir.resolve("agent.log")));
                    }
                }
            }
        }
    }

    /** SIGTERM (Process.destroy on Linux), then a bounded wait for a clean exit. */
    static void terminate(Process process, Path log) throws Exception {
        process.destroy();
        assertTrue(process.waitFor(STOP_BOUND.toSeconds(), TimeUnit.SECONDS),
                "no exit within " + STOP_BOUND + " of SIGTERM:\n" + tail(log));
    }

    static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (IOException e) {
            return "(no log at " + log + ")";
        }
    }
}
