package dev.bourne.packaging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PackagingToolTest {
    @TempDir
    Path empty;

    @ParameterizedTest
    @CsvSource({
        "RPMBUILD, rpmbuild, rpm, rpm-build",
        "RPMLINT, rpmlint, rpmlint, rpmlint",
        "SYSTEMD_ANALYZE, systemd-analyze, systemd, systemd",
        "SYSTEMD_NSPAWN, systemd-nspawn, systemd-container, systemd-container"})
    void missingMessage_namesTheDebianAndRhelPackages(PackagingTool tool, String command, String debian, String rhel) {
        assertEquals(command, tool.command());
        assertEquals(command + " is not installed: install the Debian package '" + debian + "' (apt-get install "
                + debian + ") or, on RHEL-family systems, '" + rhel + "' (dnf install " + rhel
                + "); bin/test installs every package the tests need", tool.missingMessage());
    }

    @Test
    void pathIn_withoutTheTool_failsNamingThePackage() {
        // rpmbuild lives in /usr/bin, never in the sbin directories searched besides PATH.
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> PackagingTool.RPMBUILD.pathIn(empty.toString()));
        assertTrue(e.getMessage().startsWith("rpmbuild is not installed: install the Debian package 'rpm'"),
                e.getMessage());
    }
}
