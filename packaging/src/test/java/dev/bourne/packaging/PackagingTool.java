package dev.bourne.packaging;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A program the packaging tests run, with the Debian and RHEL-family packages that provide it. A missing one fails
 * the test with a message naming the package (bin/lib/setup.sh installs them), never a skip.
 */
public enum PackagingTool {
    RPMBUILD("rpmbuild", "rpm", "rpm-build"),
    RPM("rpm", "rpm", "rpm"),
    RPMLINT("rpmlint", "rpmlint", "rpmlint"),
    SYSTEMD_ANALYZE("systemd-analyze", "systemd", "systemd"),
    SYSTEMD_SYSUSERS("systemd-sysusers", "systemd", "systemd"),
    SYSTEMD_NSPAWN("systemd-nspawn", "systemd-container", "systemd-container");

    private static final List<Path> EXTRA_DIRS = List.of(Path.of("/usr/sbin"), Path.of("/sbin"));

    private final String command;
    private final String debianPackage;
    private final String rhelPackage;

    PackagingTool(String command, String debianPackage, String rhelPackage) {
        this.command = command;
        this.debianPackage = debianPackage;
        this.rhelPackage = rhelPackage;
    }

    public String command() {
        return command;
    }

    /** The program's absolute path, or an {@link IllegalStateException} naming the package to install. */
    public Path path() {
        return pathIn(System.getenv("PATH"));
    }

    /** Like {@link #path()} with the given PATH value: lets a test see the missing-tool failure. */
    Path pathIn(String pathEnv) {
        return find(pathEnv).orElseThrow(() -> new IllegalStateException(missingMessage()));
    }

    Optional<Path> find(String pathEnv) {
        List<Path> dirs = new ArrayList<>();
        if (pathEnv != null) {
            for (String dir : pathEnv.split(":")) {
                if (!dir.isEmpty()) {
                    dirs.add(Path.of(dir));
                }
            }
        }
        dirs.addAll(EXTRA_DIRS);
        for (Path dir : dirs) {
            Path candidate = dir.resolve(command);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    String missingMessage() {
        return command + " is not installed: install the Debian package '" + debianPackage + "' (apt-get install "
                + debianPackage + ") or, on RHEL-family systems, '" + rhelPackage + "' (dnf install " + rhelPackage
                + "); bin/test installs every package the tests need";
    }
}
