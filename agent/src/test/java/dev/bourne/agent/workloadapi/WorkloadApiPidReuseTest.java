package dev.bourne.agent.workloadapi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bourne.testing.RequiredTool;
import dev.bourne.agent.cache.WorkloadEntry;
import dev.bourne.core.selector.Selector;
import dev.bourne.core.spiffeid.SpiffeId;
import io.grpc.Status;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The pid {@code SO_PEERCRED} reports belongs to the process that connected. Here a short Python process connects
 * and hands the connection to a child ({@link InheritedConnectionProbe}) as its stdin, like a fork that keeps its
 * parent's socket. While the connecting process lives, the child's call succeeds under its identity; once it has
 * exited (and been reaped, so its pid is free for reuse), the agent must refuse to attest whatever holds that pid.
 */
class WorkloadApiPidReuseTest {
    private static final String CONNECT_AND_HAND_OVER = String.join("\n",
            "import socket, subprocess, sys",
            "path, mode, fifo, out = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]",
            "s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)",
            "s.connect(path)",
            "child = subprocess.Popen(sys.argv[5:] + [fifo], stdin=s.fileno(), stdout=open(out, 'w'),",
            "                         stderr=subprocess.STDOUT)",
            "s.close()",
            "print(child.pid, flush=True)",
            "if mode == 'wait':",
            "    sys.exit(child.wait())",
            "");

    @TempDir
    Path dir;

    private WorkloadApiHarness agent;

    @BeforeEach
    void start() throws Exception {
        agent = new WorkloadApiHarness(dir.resolve("api.sock"));
        agent.cache.update(agent.pki.contents(new WorkloadEntry("e-root", SpiffeId.parse("spiffe://example.org/root"),
                Set.of(new Selector("unix", "uid:0")), Set.of(), "")));
    }

    @AfterEach
    void stop() throws Exception {
        agent.close();
    }

    private Process connectAndHandOver(String mode, Path fifo) throws Exception {
        Path script = dir.resolve("hand-over.py");
        Files.writeString(script, CONNECT_AND_HAND_OVER);
        Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start();
        assertTrue(mkfifo.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, mkfifo.exitValue());
        String java = ProcessHandle.current().info().command().orElseThrow();
        return new ProcessBuilder(RequiredTool.PYTHON3.path().toString(), script.toString(), agent.socket().toString(), mode, fifo.toString(),
                dir.resolve("probe.out").toString(), java, "-XX:TieredStopAtLevel=1", "-Xmx64m",
                "-cp", System.getProperty("java.class.path"), InheritedConnectionProbe.class.getName())
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
    }

    /** Tells the probe to send its request (opening the FIFO for writing unblocks its reader). */
    private static void go(Path fifo) throws Exception {
        Files.writeString(fifo, "go\n");
    }

    /** The probe's pid, which the hand-over script prints first. */
    private static long probePid(Process python) throws Exception {
        return Long.parseLong(new java.io.BufferedReader(new java.io.InputStreamReader(python.getInputStream(),
                StandardCharsets.UTF_8)).readLine().trim());
    }

    /** Waits (bounded) for the probe to exit and returns what it printed (to a file: it may outlive python). */
    private String probeOutput(long probePid) throws Exception {
        java.util.Optional<ProcessHandle> probe = ProcessHandle.of(probePid);
        if (probe.isPresent()) {
            probe.get().onExit().get(60, TimeUnit.SECONDS);
        }
        return Files.readString(dir.resolve("probe.out")).trim();
    }

    @Test
    void connectingProcessAlive_callSucceeds() throws Exception {
        Path fifo = dir.resolve("go");
        Process python = connectAndHandOver("wait", fifo);
        long probe = probePid(python);
        go(fifo);
        assertTrue(python.waitFor(60, TimeUnit.SECONDS));
        assertEquals("STATUS " + Status.Code.OK.value(), probeOutput(probe));
        assertEquals(0, python.exitValue());
    }

    @Test
    void connectingProcessExitedAndReaped_callRefusedUnavailable() throws Exception {
        Path fifo = dir.resolve("go");
        Process python = connectAndHandOver("exit", fifo);
        long probe = probePid(python);
        assertTrue(python.waitFor(60, TimeUnit.SECONDS), "the connecting process exits at once");
        long pid = python.pid();
        assertTrue(ProcessHandle.of(pid).isEmpty(), "reaped: pid " + pid + " is free");
        go(fifo);
        assertEquals("STATUS " + Status.Code.UNAVAILABLE.value(), probeOutput(probe));
    }
}
