package dev.bourne.agent.workloadattestor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bourne.core.config.ConfigReader;
import dev.bourne.core.workloadattestor.WorkloadAttestationException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SystemdWorkloadAttestorTest {
    private static final int PID = 4321;

    @TempDir
    Path dir;

    private Path proc;
    private Path etc;
    private Path lib;

    private SystemdWorkloadAttestor attestor(String cgroupSample) throws IOException {
        proc = dir.resolve("proc");
        etc = dir.resolve("etc/systemd/system");
        lib = dir.resolve("usr/lib/systemd/system");
        Files.createDirectories(proc.resolve(Integer.toString(PID)));
        Files.createDirectories(etc);
        Files.createDirectories(lib);
        try (InputStream in = getClass().getResourceAsStream("/proc/cgroup/" + cgroupSample)) {
            Files.write(proc.resolve(PID + "/cgroup"), in.readAllBytes());
        }
        return new SystemdWorkloadAttestor(new SystemdAttestorSettings(List.of(etc, lib)), proc);
    }

    @Test
    void attest_serviceWithUnitFile_idAndFragmentPath() throws Exception {
        SystemdWorkloadAttestor attestor = attestor("v2-service");
        Files.writeString(lib.resolve("nginx.service"), "[Service]\nExecStart=/usr/sbin/nginx\n");
        assertEquals(List.of("id:nginx.service", "fragment_path:" + lib.resolve("nginx.service")),
                attestor.attest(PID, 0, 0));
    }

    @Test
    void attest_overrideInEtc_winsOverLib() throws Exception {
        SystemdWorkloadAttestor attestor = attestor("v1-service");
        Files.writeString(lib.resolve("sshd.service"), "[Service]\n");
        Files.writeString(etc.resolve("sshd.service"), "[Service]\n");
        assertEquals(List.of("id:sshd.service", "fragment_path:" + etc.resolve("sshd.service")),
                attestor.attest(PID, 0, 0));
    }

    @Test
    void attest_templateInstance_fragmentIsTemplate() throws Exception {
        SystemdWorkloadAttestor attestor = attestor("v2-template-instance");
        Files.writeString(lib.resolve("getty@.service"), "[Service]\n");
        assertEquals(List.of("id:getty@tty1.service", "fragment_path:" + lib.resolve("getty@.service")),
                attestor.attest(PID, 0, 0));
    }

    @Test
    void attest_maskedUnit_noFragmentPath() throws Exception {
        SystemdWorkloadAttestor attestor = attestor("v2-service");
        Files.createSymbolicLink(etc.resolve("nginx.service"), Path.of("/dev/null"));
        Files.writeString(lib.resolve("nginx.service"), "[Service]\n");
        assertEquals(List.of("id:nginx.service"), attestor.attest(PID, 0, 0));
    }

    @Test
    void attest_scopeWithoutFile_idOnly() throws Exception {
        assertEquals(List.of("id:session-3.scope"), attestor("v2-session-scope").attest(PID, 0, 0));
    }

    @Test
    void attest_notInUnit_noSelectors() throws Exception {
        assertEquals(List.of(), attestor("v2-root").attest(PID, 0, 0));
    }

    @Test
    void attest_processGone_fails() throws Exception {
        SystemdWorkloadAttestor attestor = attestor("v2-service");
        WorkloadAttestationException e = assertThrows(WorkloadAttestationException.class,
                () -> attestor.attest(PID + 1, 0, 0));
        assertTrue(e.getMessage().startsWith("cannot read the cgroup of pid " + (PID + 1)), e.getMessage());
    }

    @Test
    void attest_thisJvm_readsRealProc() throws Exception {
        // This build machine runs in a container without systemd units: a real read that yields no unit.
        SystemdWorkloadAttestor attestor = new SystemdWorkloadAttestor(SystemdAttestorSettings.DEFAULTS,
                Path.of("/proc"));
        int pid = (int) ProcessHandle.current().pid();
        String cgroup = Files.readString(Path.of("/proc/self/cgroup"));
        List<String> values = attestor.attest(pid, 0, 0);
        assertEquals(cgroup.contains(".service") || cgroup.contains(".scope"), !values.isEmpty(), cgroup);
    }

    @Test
    void settings_relativeDirectory_rejected() {
        ConfigReader reader = ConfigReader.of("agent.conf", "plugins.WorkloadAttestor.systemd.plugin_data",
                Map.of("unit_directories", List.of("etc/systemd")));
        SystemdAttestorSettings.read(reader);
        assertEquals(1, reader.errors().size());
        assertEquals("must be an absolute path", reader.errors().get(0).reason());
    }

    @Test
    void settings_unknownKey_rejected() {
        ConfigReader reader = ConfigReader.of("agent.conf", "plugins.WorkloadAttestor.systemd.plugin_data",
                Map.of("unit_dirs", List.of("/etc")));
        SystemdAttestorSettings.read(reader);
        assertEquals(1, reader.errors().size());
    }
}
