package dev.bourne.agent.workloadapi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bourne.testing.RequiredTool;
import dev.bourne.agent.cache.WorkloadEntry;
import dev.bourne.core.selector.Selector;
import dev.bourne.core.spiffeid.SpiffeId;
import dev.bourne.workload.v1.X509SVIDRequest;
import dev.bourne.workload.v1.X509SVIDResponse;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Callers running as other users, in their own processes (setpriv drops to the uid before exec), against one agent:
 * the kernel's credentials decide who gets what. The tests run as root, as the agent does.
 */
class WorkloadApiOtherUidTest {
    private static final SpiffeId ROOT_ID = SpiffeId.parse("spiffe://example.org/root");
    private static final SpiffeId NOBODY_ID = SpiffeId.parse("spiffe://example.org/nobody");
    private static final SpiffeId USER_ID = SpiffeId.parse("spiffe://example.org/uid-1000");
    private static final WorkloadEntry ROOT = new WorkloadEntry("e-root", ROOT_ID,
            Set.of(new Selector("unix", "uid:0")), Set.of(), "");
    private static final WorkloadEntry NOBODY = new WorkloadEntry("e-nobody", NOBODY_ID,
            Set.of(new Selector("unix", "uid:65534"), new Selector("unix", "user:nobody")), Set.of(), "");
    private static final WorkloadEntry USER = new WorkloadEntry("e-1000", USER_ID,
            Set.of(new Selector("unix", "uid:1000")), Set.of(), "");
    private static final int CALLS_PER_PROCESS = 200;

    @TempDir
    static Path dir;

    private static Path classpathDir;
    private static String classpath;
    private static WorkloadApiHarness agent;

    @BeforeAll
    static void start() throws Exception {
        // Other users must reach the socket and read the probe's classes: the temp dir is 0700 by default.
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        classpathDir = dir.resolve("cp");
        classpath = copyClasspath(classpathDir);
        agent = new WorkloadApiHarness(dir.resolve("agent/api.sock"));
        Files.setPosixFilePermissions(dir.resolve("agent"), PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    @AfterAll
    static void stop() throws Exception {
        agent.close();
    }

    @BeforeEach
    void resetEntries() {
        agent.cache.update(agent.pki.contents(ROOT));
    }

    /** Copies the test classpath to a world-readable place (the Maven repository is under root's 0700 home). */
    private static String copyClasspath(Path target) throws IOException {
        Files.createDirectories(target);
        List<String> entries = new ArrayList<>();
        int index = 0;
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path source = Path.of(entry);
            if (!Files.exists(source)) {
                continue;
            }
            Path copy = target.resolve(index++ + "-" + source.getFileName());
            if (Files.isDirectory(source)) {
                try (Stream<Path> tree = Files.walk(source)) {
                    tree.forEach(p -> copy(p, copy.resolve(source.relativize(p).toString())));
                }
            } else {
                copy(source, copy);
            }
            entries.add(copy.toString());
        }
        return String.join(File.pathSeparator, entries);
    }

    private static void copy(Path from, Path to) {
        try {
            if (Files.isDirectory(from)) {
                Files.createDirectories(to);
                Files.setPosixFilePermissions(to, PosixFilePermissions.fromString("rwxr-xr-x"));
            } else {
                Files.copy(from, to, StandardCopyOption.REPLACE_EXISTING);
                Files.setPosixFilePermissions(to, PosixFilePermissions.fromString("rw-r--r--"));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Starts the probe as {@code uid}:{@code uid} with no supplementary groups. */
    private static Process probe(int uid, int calls) throws IOException {
        String java = ProcessHandle.current().info().command().orElseThrow();
        return new ProcessBuilder(RequiredTool.SETPRIV.path().toString(), "--reuid=" + uid, "--regid=" + uid, "--clear-groups",
                java, "-XX:-UsePerfData", "-XX:TieredStopAtLevel=1", "-Xmx64m", "-cp", classpath,
                WorkloadProbe.class.getName(), agent.socket().toString(), Integer.toString(calls))
                .directory(classpathDir.toFile())
                .redirectErrorStream(false)
                .start();
    }

    /** The probe's lines counted: {@code ID spiffe://...} or {@code STATUS CODE} to how often. */
    private static Map<String, Integer> results(Process process) throws Exception {
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(120, TimeUnit.SECONDS), "probe did not finish");
        assertEquals(0, process.exitValue(), "probe failed: " + err + out);
        List<String> lines = out.lines().collect(Collectors.toList());
        assertEquals("DONE", lines.get(lines.size() - 1), out + err);
        Map<String, Integer> counts = new TreeMap<>();
        lines.subList(0, lines.size() - 1).forEach(l -> counts.merge(l, 1, Integer::sum));
        return counts;
    }

    @Test
    void nobodyWithoutEntry_permissionDenied_whileRootGetsItsOwn() throws Exception {
        Process nobody = probe(65534, 1);
        assertEquals(Map.of("STATUS PERMISSION_DENIED", 1), results(nobody));
        try (RawWorkloadClient client = RawWorkloadClient.withHeader(agent.socket())) {
            X509SVIDResponse response = client.blocking().fetchX509SVID(X509SVIDRequest.getDefaultInstance()).next();
            assertEquals(List.of(ROOT_ID.toString()), response.getSvidsList().stream()
                    .map(s -> s.getSpiffeId()).toList());
        }
    }

    @Test
    void rootsEntry_doesNotMatchAnotherUid() throws Exception {
        // Root's entry selects uid 0 only: a uid-1000 process that matches no entry gets nothing.
        assertEquals(Map.of("STATUS PERMISSION_DENIED", 1), results(probe(1000, 1)));
    }

    @Test
    void concurrentCallersWithDifferentUids_eachGetsOnlyItsOwnSvid() throws Exception {
        agent.cache.update(agent.pki.contents(ROOT, NOBODY, USER));
        Process nobody = probe(65534, CALLS_PER_PROCESS);
        Process user = probe(1000, CALLS_PER_PROCESS);
        Map<String, Integer> rootResults = new TreeMap<>();
        try (RawWorkloadClient client = RawWorkloadClient.withHeader(agent.socket())) {
            // Root calls while the other two run; bounded in count.
            for (int i = 0; i < 2000 && (nobody.isAlive() || user.isAlive() || i < CALLS_PER_PROCESS); i++) {
                try {
                    X509SVIDResponse response = client.blocking()
                            .fetchX509SVID(X509SVIDRequest.getDefaultInstance()).next();
                    rootResults.merge("ID " + response.getSvidsList().stream().map(s -> s.getSpiffeId())
                            .collect(Collectors.joining(",")), 1, Integer::sum);
                } catch (StatusRuntimeException e) {
                    rootResults.merge("STATUS " + Status.fromThrowable(e).getCode(), 1, Integer::sum);
                }
            }
        }
        assertEquals(Map.of("ID " + NOBODY_ID, CALLS_PER_PROCESS), results(nobody));
        assertEquals(Map.of("ID " + USER_ID, CALLS_PER_PROCESS), results(user));
        assertEquals(Set.of("ID " + ROOT_ID), rootResults.keySet());
    }
}
