package dev.bourne.packaging.nspawn;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One boot of a test container running a driver script: {@code bourne-e2e.target} starts
 * {@code bourne-e2e.service}, which runs the driver (with {@code lib.sh}) from {@code /e2e} and powers the container
 * off. After {@link #run}, the driver's verdict, facts, log and the container's journal are available here, and
 * {@link #report()} puts them in one text for a failure message.
 */
final class ContainerRun {

    private static final String RESOURCES = "/dev/bourne/packaging/nspawn/";

    private final NspawnContainer container;
    private final Path e2eDir;
    private NspawnContainer.Boot boot;

    /**
     * A fresh scratch directory for one test's container, {@code packaging/target/nspawn/<name>}: kept after the test
     * (unlike a JUnit temporary directory) so that a failure's whole journal and logs can be read afterwards; emptied
     * when the test runs again. Nothing stays mounted there: the container's mounts live in its own mount namespace.
     */
    static Path workDir(String name) {
        Path dir = Path.of("target", "nspawn", name).toAbsolutePath();
        try {
            if (Files.exists(dir)) {
                try (var walk = Files.walk(dir)) {
                    for (Path p : (Iterable<Path>) walk.sorted(Comparator.reverseOrder())::iterator) {
                        Files.delete(p);
                    }
                }
            }
            return Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare " + dir, e);
        }
    }

    /** A container under {@code workDir} that will run the driver script resource {@code driverResource}. */
    ContainerRun(Path workDir, String driverResource) {
        this.e2eDir = workDir.resolve("e2e");
        copyResource("lib.sh", e2eDir.resolve("lib.sh"));
        copyResource(driverResource, e2eDir.resolve("driver.sh"));
        Path target = copyResource("bourne-e2e.target", workDir.resolve("units/bourne-e2e.target"));
        Path service = copyResource("bourne-e2e.service", workDir.resolve("units/bourne-e2e.service"));
        this.container = new NspawnContainer("bourne-e2e", workDir, "bourne-e2e.target")
                .unit(target)
                .unit(service)
                .bindReadOnly(e2eDir, "/e2e");
    }

    /** The container, to add binds or units before {@link #run}. */
    NspawnContainer container() {
        return container;
    }

    /** Copies a resource of this package next to the driver, to {@code /e2e/<name>} in the container. */
    ContainerRun withFile(String resource) {
        copyResource(resource, e2eDir.resolve(resource));
        return this;
    }

    /** Installs a unit file resource of this package into the container's {@code /etc/systemd/system}. */
    ContainerRun withUnit(String resource) {
        container.unit(copyResource(resource, e2eDir.getParent().resolve("units").resolve(resource)));
        return this;
    }

    ContainerRun run(Duration timeout) {
        boot = container.boot(timeout);
        return this;
    }

    NspawnContainer.Boot boot() {
        return boot;
    }

    /** The driver's verdict: "ok", or "failed: step: reason". */
    String status() {
        return NspawnContainer.read(container.resultsDir().resolve("status")).strip();
    }

    /** The facts the driver recorded (key=value lines; a later value of a key wins). */
    Map<String, String> values() {
        Map<String, String> values = new LinkedHashMap<>();
        for (String line : NspawnContainer.read(container.resultsDir().resolve("values")).split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                values.put(line.substring(0, eq), line.substring(eq + 1));
            }
        }
        return values;
    }

    /** The seconds since the driver's start at which each step began. */
    String steps() {
        return NspawnContainer.read(container.resultsDir().resolve("steps"));
    }

    /** Everything needed to understand a failure: boot outcome, status, steps, driver log, journal, console. */
    String report() {
        StringBuilder text = new StringBuilder();
        if (boot != null) {
            text.append("container: nspawn exit ").append(boot.exitCode())
                    .append(boot.timedOut() ? ", TIMED OUT and was stopped" : "")
                    .append(", ran ").append(boot.took().toMillis()).append(" ms\n");
        }
        text.append("status: ").append(status().isEmpty() ? "(none: the driver never started)" : status()).append('\n');
        text.append("---- steps (seconds since the driver started)\n").append(steps());
        text.append("---- driver.log\n").append(tail(NspawnContainer.read(container.resultsDir().resolve("driver.log")), 300));
        text.append("---- container journal (last lines; whole file: ").append(container.resultsDir().resolve("journal.txt"))
                .append(")\n").append(tail(NspawnContainer.read(container.resultsDir().resolve("journal.txt")), 250));
        if (boot != null) {
            text.append("---- nspawn console (last lines)\n").append(tail(boot.console(), 60));
        }
        return text.toString();
    }

    private static String tail(String text, int lines) {
        List<String> all = text.lines().toList();
        List<String> last = all.subList(Math.max(0, all.size() - lines), all.size());
        return (all.size() > lines ? "(" + (all.size() - lines) + " lines before)\n" : "") + String.join("\n", last) + "\n";
    }

    private static Path copyResource(String name, Path destination) {
        try (InputStream in = ContainerRun.class.getResourceAsStream(RESOURCES + name)) {
            if (in == null) {
                throw new IllegalStateException("test resource " + RESOURCES + name + " is missing");
            }
            Files.createDirectories(destination.getParent());
            Files.copy(in, destination);
            return destination;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
