package dev.bourne.packaging.rpm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bourne.packaging.PackagingTool;
import dev.bourne.packaging.Rpms;
import dev.bourne.testing.Exec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The installed units, checked by systemd itself: {@code systemd-analyze verify} in a root holding the installed
 * packages (so ExecStart's /usr/bin/bourne-* exists) and this host's own units (the targets the units name), and
 * {@code systemd-analyze security --offline=true} under a threshold as tight as each unit achieves.
 */
class SystemdUnitsTest {
    /**
     * Exposure scores ({@code systemd-analyze security}, 0 best to 10) measured with systemd 252, times ten as
     * --threshold takes them: server 1.3, agent 1.7 (the agent cannot have ProtectProc, ProcSubset, PrivateDevices
     * or PrivateUsers: see its unit), vendordata 1.3. A weaker unit fails here.
     */
    static final Map<String, Integer> THRESHOLDS = Map.of(
            "bourne-server.service", 13, "bourne-agent.service", 17, "bourne-vendordata.service", 13);

    private static final Pattern EXPOSURE = Pattern.compile("Overall exposure level for ([a-z.-]+): ([0-9.]+) ");

    @TempDir
    static Path temp;

    private static RpmRoot root;

    @BeforeAll
    static void install() throws IOException {
        root = RpmRoot.install(temp, Rpms.get().all());
        // The host's units (targets, sockets) beside ours, none replaced: verify loads what the units refer to.
        Exec.run(java.util.List.of("cp", "-an", "/usr/lib/systemd/system/.",
                root.path("/usr/lib/systemd/system").toString()), Map.of(), java.time.Duration.ofMinutes(1))
                .requireSuccess();
        // Masked units are links to /dev/null: not needed, and JUnit warns about each when cleaning up.
        try (var units = Files.list(root.path("/usr/lib/systemd/system"))) {
            for (Path unit : (Iterable<Path>) units::iterator) {
                if (Files.isSymbolicLink(unit) && Files.readSymbolicLink(unit).toString().equals("/dev/null")) {
                    Files.delete(unit);
                }
            }
        }
    }

    @ParameterizedTest
    @CsvSource({"bourne-server.service", "bourne-agent.service", "bourne-vendordata.service"})
    void verify_printsNothing(String unit) {
        Exec.Result result = Commands.run(PackagingTool.SYSTEMD_ANALYZE, "verify", "--root=" + root.dir(), unit);
        assertEquals(0, result.exitCode(), result.toString());
        assertEquals("", result.stdout() + result.stderr(), "systemd-analyze verify " + unit);
    }

    @Test
    void verify_catchesAnUnknownKey_soAnEmptyOutputMeansSomething() throws IOException {
        Path unit = root.path("/usr/lib/systemd/system/bourne-broken.service");
        Files.writeString(unit, Files.readString(root.path("/usr/lib/systemd/system/bourne-server.service"))
                .replace("Type=notify", "Type=notify\nProtectSytem=strict"));
        try {
            Exec.Result result = Commands.run(PackagingTool.SYSTEMD_ANALYZE, "verify", "--root=" + root.dir(),
                    "bourne-broken.service");
            assertTrue((result.stdout() + result.stderr()).contains("Unknown key 'ProtectSytem'"), result.toString());
        } finally {
            Files.delete(unit);
        }
    }

    @ParameterizedTest
    @CsvSource({"bourne-server.service", "bourne-agent.service", "bourne-vendordata.service"})
    void security_underThreshold(String unit) {
        int threshold = THRESHOLDS.get(unit);
        Exec.Result result = Commands.run(PackagingTool.SYSTEMD_ANALYZE, "security", "--offline=true",
                "--root=" + root.dir(), "--threshold=" + threshold, unit);
        assertEquals(0, result.exitCode(), result.toString());
        Matcher m = EXPOSURE.matcher(result.stdout());
        assertTrue(m.find(), result.stdout());
        double score = Double.parseDouble(m.group(2));
        System.out.println("systemd-analyze security " + unit + ": " + score);
        assertTrue(score * 10 <= threshold + 1e-9, unit + " scores " + score);
        // One notch tighter fails: the threshold is as tight as the unit achieves.
        Exec.Result tighter = Commands.run(PackagingTool.SYSTEMD_ANALYZE, "security", "--offline=true",
                "--root=" + root.dir(), "--threshold=" + (threshold - 1), unit);
        assertEquals(1, tighter.exitCode(), tighter.toString());
    }

    @Test
    void units_neverDenyWriteExecute_andRunAsTheirUsers() throws IOException {
        String server = Files.readString(root.path("/usr/lib/systemd/system/bourne-server.service"));
        String agent = Files.readString(root.path("/usr/lib/systemd/system/bourne-agent.service"));
        for (String unit : new String[] {server, agent}) {
            assertFalse(Pattern.compile("(?m)^MemoryDenyWriteExecute=").matcher(unit).find(), "the JIT needs W+X memory");
            assertTrue(unit.contains("\nType=notify\n") && unit.contains("\nNotifyAccess=main\n"));
            assertTrue(unit.contains("\nRestart=on-failure\n"));
            assertTrue(unit.contains("\nCapabilityBoundingSet=\n") && unit.contains("\nAmbientCapabilities=\n"));
        }
        assertTrue(server.contains("\nUser=bourne-server\n") && server.contains("\nGroup=bourne\n"));
        assertTrue(server.contains("\nExecStart=/usr/bin/bourne-server run -config /etc/bourne/server.conf\n"));
        assertTrue(server.contains("\nProtectProc=invisible\n") && server.contains("\nPrivateDevices=yes\n"));
        assertTrue(agent.contains("\nUser=bourne-agent\n") && agent.contains("\nSupplementaryGroups=bourne tss\n"));
        assertTrue(agent.contains("\nExecStart=/usr/bin/bourne-agent run -config /etc/bourne/agent.conf\n"));
        assertTrue(agent.contains("\nDeviceAllow=/dev/tpmrm0 rw\n"));
        // Workload attestation reads other users' /proc/<pid> and trusts SO_PEERCRED ids: none of these may be set.
        for (String forbidden : new String[] {"\nProtectProc=", "\nProcSubset=", "\nPrivateUsers=", "\nPrivateDevices="}) {
            assertFalse(agent.contains(forbidden), forbidden.strip());
        }
        assertTrue(agent.contains("\nInaccessiblePaths=-/run/bourne/server "), "the agent could reach the admin socket");
        String vendordata = Files.readString(root.path("/usr/lib/systemd/system/bourne-vendordata.service"));
        assertFalse(Pattern.compile("(?m)^MemoryDenyWriteExecute=").matcher(vendordata).find());
        assertTrue(vendordata.contains("\nUser=bourne-vendordata\n") && vendordata.contains("\nSupplementaryGroups=bourne\n"));
        assertTrue(vendordata.contains(
                "\nExecStart=/usr/bin/bourne-vendordata run -config /etc/bourne/vendordata.conf\n"));
        assertTrue(vendordata.contains("\nInaccessiblePaths=-/run/bourne/server "));
    }
}
