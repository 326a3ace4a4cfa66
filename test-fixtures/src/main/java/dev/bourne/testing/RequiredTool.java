package dev.bourne.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * An external program a fixture needs, with the Debian and RHEL-family packages that provide it.
 *
 * <p>A missing tool fails the test with a message naming the package, never a silent skip: a skipped hardware test
 * looks exactly like a passing one in a CI summary.
 */
public enum RequiredTool {
    SOFTHSM2_UTIL("softhsm2-util", "softhsm2", "softhsm"),
    PKCS11_TOOL("pkcs11-tool", "opensc", "opensc"),
    SWTPM("swtpm", "swtpm", "swtpm"),
    SWTPM_SETUP("swtpm_setup", "swtpm-tools", "swtpm-tools"),
    SWTPM_IOCTL("swtpm_ioctl", "swtpm-tools", "swtpm-tools"),
    TPM2_GETCAP("tpm2_getcap", "tpm2-tools", "tpm2-tools"),
    TPM2_EVENTLOG("tpm2_eventlog", "tpm2-tools", "tpm2-tools"),
    PSQL("psql", "postgresql-client", "postgresql"),
    PG_CTLCLUSTER("pg_ctlcluster", "postgresql-common", "postgresql-server"),
    PG_LSCLUSTERS("pg_lsclusters", "postgresql-common", "postgresql-server"),
    RUNUSER("runuser", "util-linux", "util-linux"),
    SETPRIV("setpriv", "util-linux", "util-linux"),
    PYTHON3("python3", "python3", "python3");

    private static final List<Path> EXTRA_DIRS = List.of(
            Path.of("/usr/sbin"), Path.of("/sbin"), Path.of("/usr/local/sbin"), Path.of("/usr/share/swtpm"));

    private final String command;
    private final String debianPackage;
    private final String rhelPackage;

    RequiredTool(String command, String debianPackage, String rhelPackage) {
        this.command = command;
        this.debianPackage = debianPackage;
        this.rhelPackage = rhelPackage;
    }

    public String command() {
        return command;
    }

    public String debianPackage() {
        return debianPackage;
    }

    /** The absolute path of the program, or an {@link IllegalStateException} naming the package to install. */
    public Path path() {
        return find().orElseThrow(() -> new IllegalStateException(missingMessage()));
    }

    /** The program's path if it is installed. */
    public Optional<Path> find() {
        return findIn(System.getenv("PATH"), EXTRA_DIRS);
    }

    /** The program's path in the directories of {@code pathEnv} (a PATH value) and {@code extraDirs}. */
    Optional<Path> findIn(String pathEnv, List<Path> extraDirs) {
        List<Path> dirs = new ArrayList<>();
        if (pathEnv != null) {
            for (String dir : pathEnv.split(":")) {
                if (!dir.isEmpty()) {
                    dirs.add(Path.of(dir));
                }
            }
        }
        dirs.addAll(extraDirs);
        for (Path dir : dirs) {
            Path candidate = dir.resolve(command);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    /** Like {@link #path()}, searching only the given directories: lets a test see the missing-tool failure. */
    Path pathIn(String pathEnv, List<Path> extraDirs) {
        return findIn(pathEnv, extraDirs).orElseThrow(() -> new IllegalStateException(missingMessage()));
    }

    String missingMessage() {
        return command + " is not installed: install the Debian package '" + debianPackage
                + "' (apt-get install " + debianPackage + ") or, on RHEL-family systems, '" + rhelPackage
                + "' (dnf install " + rhelPackage + "); bin/test installs every package the tests need";
    }
}
