package dev.bourne.agent.workloadattestor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bourne.core.config.ConfigReader;
import dev.bourne.core.workloadattestor.WorkloadAttestationException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UnixWorkloadAttestorTest {
    private static final Path PROC = Path.of("/proc");
    private static final int SELF = (int) ProcessHandle.current().pid();

    @TempDir
    Path dir;

    private static UnixWorkloadAttestor system(boolean discover, long limit) {
        return new UnixWorkloadAttestor(new UnixAttestorSettings(discover, limit), PROC, Path.of("/etc/passwd"),
                Path.of("/etc/group"));
    }

    private static String run(String... command) throws Exception {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertTrue(process.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, process.exitValue(), out);
        return out;
    }

    @Test
    void attest_thisJvm_matchesIdTool() throws Exception {
        int uid = Integer.parseInt(run("id", "-u"));
        int gid = Integer.parseInt(run("id", "-g"));
        List<String> values = system(false, 0).attest(SELF, uid, gid);
        assertEquals("uid:" + uid, values.get(0));
        assertEquals("user:" + run("id", "-un"), values.get(1));
        assertEquals("gid:" + gid, values.get(2));
        assertEquals("group:" + run("id", "-gn"), values.get(3));
        // id -G lists the effective gid and the supplementary groups; every supplementary gid must be one of them.
        List<String> idGroups = Arrays.asList(run("id", "-G").split(" "));
        values.stream().filter(v -> v.startsWith("supplementary_gid:"))
                .forEach(v -> assertTrue(idGroups.contains(v.substring("supplementary_gid:".length())), v));
        assertFalse(values.stream().anyMatch(v -> v.startsWith("path:") || v.startsWith("sha256:")),
                "path and sha256 are opt-in: " + values);
    }

    @Test
    void attest_recordedStatus_supplementaryGroupsWithNames() throws Exception {
        Path proc = dir.resolve("proc");
        Files.createDirectories(proc.resolve("77"));
        Files.writeString(proc.resolve("77/status"), "Name:\tapp\nUid:\t1000\t1000\t1000\t1000\n"
                + "Gid:\t1000\t1000\t1000\t1000\nGroups:\t4 27 999 \nNSpid:\t77\n");
        Files.writeString(dir.resolve("passwd"), "root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n");
        Files.writeString(dir.resolve("group"), "adm:x:4:alice\nsudo:x:27:alice\nalice:x:1000:\n");
        UnixWorkloadAttestor attestor = new UnixWorkloadAttestor(UnixAttestorSettings.DEFAULTS, proc,
                dir.resolve("passwd"), dir.resolve("group"));
        assertEquals(List.of("uid:1000", "user:alice", "gid:1000", "group:alice",
                "supplementary_gid:4", "supplementary_group:adm",
                "supplementary_gid:27", "supplementary_group:sudo",
                "supplementary_gid:999"), attestor.attest(77, 1000, 1000));
    }

    @Test
    void attest_uidWithoutAccount_idsOnly() throws Exception {
        Path proc = dir.resolve("proc");
        Files.createDirectories(proc.resolve("78"));
        Files.writeString(proc.resolve("78/status"), "Groups:\t\n");
        UnixWorkloadAttestor attestor = new UnixWorkloadAttestor(UnixAttestorSettings.DEFAULTS, proc,
                dir.resolve("no-passwd"), dir.resolve("no-group"));
        assertEquals(List.of("uid:4294967294", "gid:123456"), attestor.attest(78, -2, 123456));
    }

    @Test
    void attest_discoverWorkloadPath_pathAndSha256OfTheRunningBinary() throws Exception {
        String command = ProcessHandle.current().info().command().orElseThrow();
        String expectedHash = run("sha256sum", command).split(" ")[0];
        List<String> values = system(true, 0).attest(SELF, 0, 0);
        assertTrue(values.contains("path:" + command), values.toString());
        assertTrue(values.contains("sha256:" + expectedHash), values.toString());
    }

    @Test
    void attest_sizeLimit_belowBinarySize_refused() throws Exception {
        long size = Files.size(Path.of(ProcessHandle.current().info().command().orElseThrow()));
        WorkloadAttestationException e = assertThrows(WorkloadAttestationException.class,
                () -> system(true, size - 1).attest(SELF, 0, 0));
        assertEquals(UnixWorkloadAttestor.BINARY_TOO_LARGE, e.getMessage());
        assertTrue(system(true, size).attest(SELF, 0, 0).stream().anyMatch(v -> v.startsWith("sha256:")));
    }

    @Test
    void attest_negativeSizeLimit_pathWithoutHash() throws Exception {
        List<String> values = system(true, -1).attest(SELF, 0, 0);
        assertTrue(values.stream().anyMatch(v -> v.startsWith("path:")));
        assertFalse(values.stream().anyMatch(v -> v.startsWith("sha256:")), values.toString());
    }

    @Test
    void attest_binaryReplacedAfterStart_hashesWhatTheProcessRuns() throws Exception {
        Path binary = dir.resolve("workload-sleep");
        Files.copy(Path.of("/bin/sleep"), binary);
        Files.setPosixFilePermissions(binary, PosixFilePermissions.fromString("rwxr-xr-x"));
        String original = run("sha256sum", binary.toString()).split(" ")[0];
        Process child = new ProcessBuilder(binary.toString(), "300").start();
        try {
            int pid = (int) child.pid();
            waitForExec(pid, binary);
            // Swap the file on disk: an attacker's binary now sits at the path the link shows.
            Files.delete(binary);
            Files.writeString(binary, "#!/bin/sh\necho impostor\n");
            List<String> values = system(true, 0).attest(pid, 0, 0);
            assertTrue(values.contains("sha256:" + original), values.toString());
            assertTrue(values.contains("path:" + binary + " (deleted)"), values.toString());
        } finally {
            child.destroyForcibly();
            child.waitFor(30, TimeUnit.SECONDS);
        }
    }

    /** Waits (bounded) until the child has exec'd the binary, so /proc/<pid>/exe no longer points at the JVM. */
    private static void waitForExec(int pid, Path binary) throws IOException, InterruptedException {
        for (int i = 0; i < 5000; i++) {
            if (Files.readSymbolicLink(PROC.resolve(pid + "/exe")).equals(binary)) {
                return;
            }
            Thread.onSpinWait();
            Thread.yield();
        }
        throw new AssertionError("child " + pid + " did not exec " + binary);
    }

    @Test
    void attest_processGone_fails() throws Exception {
        Process child = new ProcessBuilder("true").start();
        assertTrue(child.waitFor(30, TimeUnit.SECONDS));
        int pid = (int) child.pid();
        WorkloadAttestationException e = assertThrows(WorkloadAttestationException.class,
                () -> system(false, 0).attest(pid, 0, 0));
        assertTrue(e.getMessage().startsWith("cannot read the supplementary groups of pid " + pid), e.getMessage());
    }

    @Test
    void settings_fromPluginData() {
        ConfigReader reader = ConfigReader.of("agent.conf", "plugins.WorkloadAttestor.unix.plugin_data",
                Map.of("discover_workload_path", true, "workload_size_limit", 1048576.0));
        assertEquals(new UnixAttestorSettings(true, 1048576), UnixAttestorSettings.read(reader));
        assertEquals(List.of(), reader.errors());
    }

    @Test
    void settings_badValues_reported() {
        ConfigReader reader = ConfigReader.of("agent.conf", "plugins.WorkloadAttestor.unix.plugin_data",
                Map.of("discover_workload_path", "yes", "workload_size_limit", -5.0, "other", 1.0));
        UnixAttestorSettings.read(reader);
        assertEquals(3, reader.errors().size(), reader.errors().toString());
    }
}
