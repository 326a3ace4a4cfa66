package dev.bourne.packaging.nspawn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The container harness on its own, with no Bourne code: a booted systemd starts a hardened {@code Type=simple} unit
 * (the directives the Bourne units use), the hardening holds inside the container, and stopping the unit removes its
 * runtime directory. When this fails, {@link PackagesBootTest}'s failures are about the harness, not the packages.
 */
class NspawnHarnessTest {

    @Test
    void bootsSystemdAndRunsAHardenedUnit() {
        ContainerRun run = new ContainerRun(ContainerRun.workDir("harness"), "probe-driver.sh")
                .withUnit("bourne-probe.service")
                .run(Duration.ofSeconds(90));
        String report = run.report();
        System.out.println("container ran " + run.boot().took().toMillis() + " ms; values " + run.values());
        assertFalse(run.boot().timedOut(), () -> "the container did not power off by itself\n" + report);
        assertEquals("ok", run.status(), () -> report);

        Map<String, String> values = run.values();
        assertTrue(values.get("systemd.version").startsWith("systemd "), () -> report);
        assertEquals("active", values.get("bourne-probe.service.active"), () -> report);
        // DynamicUser=yes: the service ran as a transient user, not root.
        assertFalse(values.get("probe.user").isBlank() || values.get("probe.user").equals("root"), () -> report);
        // ProtectSystem=strict: /usr read-only, the StateDirectory writable; ProtectHome; PrivateTmp writable.
        assertEquals("no", values.get("probe.usr_writable"), () -> report);
        assertEquals("yes", values.get("probe.state_writable"), () -> report);
        assertEquals("no", values.get("probe.home_visible"), () -> report);
        assertEquals("yes", values.get("probe.tmp_writable"), () -> report);
        // systemctl stop: the unit is down and RuntimeDirectory= is gone.
        assertEquals("inactive", values.get("probe.stopped"), () -> report);
        assertEquals("no", values.get("probe.runtime_dir_left"), () -> report);
        assertEquals(0, run.boot().exitCode(), () -> report);
    }

    @Test
    void stopsAContainerAtItsDeadlineAndLeavesNoProcess() throws Exception {
        Path workDir = ContainerRun.workDir("harness-timeout");
        ContainerRun run = new ContainerRun(workDir, "hang-driver.sh").run(Duration.ofSeconds(8));
        String report = run.report();

        assertTrue(run.boot().timedOut(), () -> report);
        assertEquals("failed: hang: the driver did not finish this step", run.status(), () -> report);
        // SIGTERM made nspawn power the container off in order: the driver unit was stopped and saved the journal.
        assertTrue(Files.readString(workDir.resolve("results/journal.txt"))
                .contains("bourne-e2e.service"), () -> report);
        List<String> left = ProcessHandle.allProcesses()
                .map(p -> p.info().commandLine().orElse(""))
                .filter(cmd -> cmd.contains(workDir.toString()) || cmd.contains("systemd.unit=bourne-e2e.target"))
                .toList();
        assertEquals(List.of(), left, () -> "processes left behind\n" + report);
    }
}
