package dev.bourne.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RequiredToolTest {

    @Test
    void missingTool_failsNamingThePackages(@TempDir Path empty) {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> RequiredTool.SWTPM_SETUP.pathIn(empty.toString(), List.of()));
        assertEquals("swtpm_setup is not installed: install the Debian package 'swtpm-tools' (apt-get install "
                + "swtpm-tools) or, on RHEL-family systems, 'swtpm-tools' (dnf install swtpm-tools); bin/test "
                + "installs every package the tests need", e.getMessage());
    }

    @Test
    void tool_foundOnlyWhenExecutable(@TempDir Path dir) throws Exception {
        Path tool = Files.createFile(dir.resolve("softhsm2-util"));
        assertThrows(IllegalStateException.class, () -> RequiredTool.SOFTHSM2_UTIL.pathIn(dir.toString(), List.of()));
        Files.setPosixFilePermissions(tool, PosixFilePermissions.fromString("rwx------"));
        assertEquals(tool, RequiredTool.SOFTHSM2_UTIL.pathIn("/nonexistent:" + dir, List.of()));
        assertEquals(tool, RequiredTool.SOFTHSM2_UTIL.pathIn(null, List.of(dir)));
    }
}
