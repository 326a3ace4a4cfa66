package dev.bourne.packaging.nspawn;

import dev.bourne.packaging.PackagingTool;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A throwaway system container: this machine's own root file system, booted with its own systemd in
 * {@code systemd-nspawn}, so that tests can install packages and start units as an operator would.
 *
 * <p>How it is set up, and why:
 * <ul>
 *   <li><b>Root file system.</b> nspawn refuses {@code -D /} except with {@code --volatile=yes|state}, and those keep
 *       {@code /usr} read-only (an RPM installs there) and {@code /etc} empty (no users, no Java alternatives). So
 *       the container gets an overlay of the host's {@code /} (read-only lower layer) with a tmpfs upper layer:
 *       writes anywhere, all discarded at exit. The overlay and the tmpfs are mounted in a private mount namespace
 *       ({@code unshare --mount}) that {@code systemd-nspawn} is then exec'ed in: when nspawn exits the namespace,
 *       and with it every mount, goes away, even if this JVM is killed. The host's mounts are never touched.</li>
 *   <li><b>Boot.</b> {@code -b} boots the host's systemd as PID 1 of the container, on the kernel command line
 *       {@code systemd.unit=<target>}: a target that pulls in {@code basic.target} and the test's driver unit only,
 *       so services the host enables (databases, timers) do not start in the container.</li>
 *   <li><b>Test files.</b> Unit files are bind-mounted read-only into {@code /etc/systemd/system}; inputs (RPMs,
 *       scripts) read-only; one results directory read-write. The driver unit writes its results there and powers
 *       the container off ({@code SuccessAction=}/{@code FailureAction=}).</li>
 *   <li><b>Network.</b> {@code --private-network}: the container has only its own loopback, so nothing it runs can
 *       send traffic off the machine.</li>
 *   <li><b>Bounded.</b> {@link #boot} waits at most the given time; then it asks nspawn to stop the container
 *       (SIGTERM: an orderly poweroff), and after a grace period kills nspawn and every process it started.
 *       {@code --register=no --keep-unit}: nothing is registered with the host's machined or systemd.</li>
 * </ul>
 */
final class NspawnContainer {

    /** The mount point of the results directory inside the container. */
    static final String RESULTS = "/results";

    private static final Duration STOP_GRACE = Duration.ofSeconds(20);

    private final String machineName;
    private final Path workDir;
    private final String bootTarget;
    private final Map<String, Path> readOnlyBinds = new LinkedHashMap<>();
    private final List<String> kernelArguments = new ArrayList<>();

    /**
     * A container whose scratch files (mount points, console log, results) go under {@code workDir}, booting
     * {@code bootTarget}, which must be one of the units added with {@link #unit}.
     */
    NspawnContainer(String machineName, Path workDir, String bootTarget) {
        this.machineName = machineName;
        this.workDir = workDir;
        this.bootTarget = bootTarget;
    }

    /** Installs {@code unitFile} as {@code /etc/systemd/system/<its file name>} in the container. */
    NspawnContainer unit(Path unitFile) {
        return bindReadOnly(unitFile, "/etc/systemd/system/" + unitFile.getFileName());
    }

    /** Makes {@code hostPath} (a file or a directory) visible, read-only, at {@code containerPath}. */
    NspawnContainer bindReadOnly(Path hostPath, String containerPath) {
        if (!Files.exists(hostPath)) {
            throw new IllegalArgumentException("cannot bind " + hostPath + " into the container: it does not exist");
        }
        readOnlyBinds.put(containerPath, hostPath.toAbsolutePath());
        return this;
    }

    /** Adds a word to the container's kernel command line (seen by its systemd), for example {@code systemd.mask=x}. */
    NspawnContainer kernelArgument(String argument) {
        kernelArguments.add(argument);
        return this;
    }

    /** The host directory mounted read-write at {@link #RESULTS} in the container. */
    Path resultsDir() {
        return workDir.resolve("results");
    }

    /** What a boot left behind. */
    record Boot(int exitCode, boolean timedOut, Duration took, String console) {
    }

    /**
     * Boots the container and waits until it powers itself off, at most {@code timeout}. Returns what happened;
     * never leaves a process behind.
     */
    Boot boot(Duration timeout) {
        requireRoot();
        Path nspawn = PackagingTool.SYSTEMD_NSPAWN.path();
        Path unshare = requireTool("unshare", "util-linux", "util-linux");
        Path mount = requireTool("mount", "mount", "util-linux");
        Path overlay = workDir.resolve("overlay");
        Path console = workDir.resolve("console.log");
        try {
            Files.createDirectories(overlay);
            Files.createDirectories(resultsDir());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }

        List<String> command = new ArrayList<>(List.of(
                unshare.toString(), "--mount", "--propagation", "private", "--",
                "/bin/sh", "-euc", """
                        ovl="$1"; mount="$2"; shift 2
                        "$mount" -t tmpfs -o mode=0755 bourne-nspawn "$ovl"
                        mkdir "$ovl/upper" "$ovl/work" "$ovl/root"
                        "$mount" -t overlay bourne-nspawn \
                            -o "lowerdir=/,upperdir=$ovl/upper,workdir=$ovl/work" "$ovl/root"
                        exec "$@"
                        """,
                "sh", overlay.toString(), mount.toString(),
                nspawn.toString(),
                "--quiet",
                "--directory=" + overlay.resolve("root"),
                "--machine=" + machineName,
                "--register=no",
                "--keep-unit",
                "--private-network",
                "--bind=" + resultsDir() + ":" + RESULTS));
        readOnlyBinds.forEach((inside, host) -> command.add("--bind-ro=" + host + ":" + inside));
        command.add("--boot");
        command.add("systemd.firstboot=no");
        command.add("systemd.unit=" + bootTarget);
        command.addAll(kernelArguments);

        ProcessBuilder builder = new ProcessBuilder(command)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectErrorStream(true)
                .redirectOutput(console.toFile());
        long start = System.nanoTime();
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start systemd-nspawn", e);
        }
        // If the test JVM is told to exit (Ctrl-C, surefire's timeout) while the container runs, stop it too.
        Thread onExit = new Thread(() -> stop(process), "nspawn-stop-on-exit");
        Runtime.getRuntime().addShutdownHook(onExit);
        boolean timedOut = false;
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                timedOut = true;
                stop(process);
            }
        } catch (InterruptedException e) {
            stop(process);
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while the container ran", e);
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(onExit);
            } catch (IllegalStateException alreadyExiting) {
                // The JVM is shutting down and the hook is running or has run: nothing to undo.
            }
        }
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        return new Boot(process.exitValue(), timedOut, took, read(console));
    }

    /**
     * SIGTERM to nspawn makes it power the container off in order; if that does not end it within the grace period,
     * every process below nspawn (the container's PID 1 first: killing it ends its whole PID namespace) and nspawn
     * itself are killed.
     */
    private static void stop(Process process) {
        if (!process.isAlive()) {
            return;
        }
        List<ProcessHandle> descendants = process.descendants().toList();
        process.destroy();
        try {
            if (process.waitFor(STOP_GRACE.toMillis(), TimeUnit.MILLISECONDS)) {
                return;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        descendants.forEach(ProcessHandle::destroyForcibly);
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        try {
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static String read(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            return "(cannot read " + file + ": " + e + ")";
        }
    }

    private static void requireRoot() {
        String user = System.getProperty("user.name");
        Optional<String> uid = readUid();
        if (uid.isPresent() && !uid.get().equals("0")) {
            throw new IllegalStateException("booting a systemd-nspawn container needs root; this test runs as "
                    + user + " (uid " + uid.get() + ")");
        }
    }

    private static Optional<String> readUid() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) {
                    return Optional.of(line.substring(4).trim().split("\\s+")[1]);
                }
            }
        } catch (IOException | RuntimeException e) {
            // Unknown: nspawn itself will say it needs root.
        }
        return Optional.empty();
    }

    /** The program's path, or a failure naming the Debian and RHEL-family packages that provide it. */
    static Path requireTool(String command, String debianPackage, String rhelPackage) {
        List<String> dirs = new ArrayList<>(List.of(System.getenv().getOrDefault("PATH", "").split(":")));
        dirs.addAll(List.of("/usr/bin", "/bin", "/usr/sbin", "/sbin"));
        for (String dir : dirs) {
            if (dir.isEmpty()) {
                continue;
            }
            Path candidate = Path.of(dir, command);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        throw new IllegalStateException(command + " is not installed: install the Debian package '" + debianPackage
                + "' (apt-get install " + debianPackage + ") or, on RHEL-family systems, '" + rhelPackage
                + "' (dnf install " + rhelPackage + "); bin/test installs every package the tests need");
    }
}
