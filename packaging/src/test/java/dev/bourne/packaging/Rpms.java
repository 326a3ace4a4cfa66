package dev.bourne.packaging;

import dev.bourne.testing.Exec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The bourne-server, bourne-agent and bourne-vendordata RPMs, built by {@code packaging/rpm/build --skip-maven} at most once per JVM and
 * release number, for every test class that needs them (building takes a few seconds; the jars come from this Maven
 * reactor: the packaging module depends on the appliance and the agent, so they are packaged before its tests run).
 */
public final class Rpms {
    /** The repository root (tests run in packaging/). */
    public static final Path ROOT = Path.of("").toAbsolutePath().getParent();
    public static final Path BUILD_SCRIPT = ROOT.resolve("packaging/rpm/build");

    private static final Map<Integer, Built> BUILT = new ConcurrentHashMap<>();

    /** The RPMs of one build. */
    public record Built(Path server, Path agent, Path vendordata) {
        /** The server and the agent. */
        public List<Path> both() {
            return List.of(server, agent);
        }

        /** All three. */
        public List<Path> all() {
            return List.of(server, agent, vendordata);
        }
    }

    private Rpms() {
    }

    /** The RPMs with release 1 (Release 0.1.snapshot for a -SNAPSHOT version). */
    public static Built get() {
        return get(1);
    }

    /** The RPMs with the given release number (an upgrade test builds release 2 to upgrade release 1). */
    public static Built get(int release) {
        return BUILT.computeIfAbsent(release, Rpms::build);
    }

    private static Built build(int release) {
        return build(release, ROOT.resolve("packaging/rpm"), ROOT.resolve("packaging/target/rpm-test/release-" + release));
    }

    /**
     * Builds the RPMs now from the spec, units and configs in {@code sources} (a changed copy of packaging/rpm, for
     * an upgrade test) into {@code out}, which is emptied first.
     */
    public static Built build(int release, Path sources, Path out) {
        PackagingTool.RPMBUILD.path();
        try {
            if (Files.isDirectory(out)) {
                try (var old = Files.list(out)) {
                    for (Path p : (Iterable<Path>) old::iterator) {
                        Files.delete(p);
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot empty " + out, e);
        }
        Exec.Result result = Exec.run(
                List.of(BUILD_SCRIPT.toString(), "--skip-maven", "--out", out.toString(),
                        "--release", Integer.toString(release), "--sources", sources.toString()),
                Map.of(), Duration.ofMinutes(5)).requireSuccess();
        List<Path> paths = new ArrayList<>();
        for (String line : result.stdout().split("\n")) {
            if (!line.isBlank()) {
                paths.add(Path.of(line.strip()));
            }
        }
        Path server = paths.stream().filter(p -> p.getFileName().toString().startsWith("bourne-server-"))
                .findFirst().orElseThrow(() -> new IllegalStateException("no bourne-server RPM in: " + result));
        Path agent = paths.stream().filter(p -> p.getFileName().toString().startsWith("bourne-agent-"))
                .findFirst().orElseThrow(() -> new IllegalStateException("no bourne-agent RPM in: " + result));
        Path vendordata = paths.stream().filter(p -> p.getFileName().toString().startsWith("bourne-vendordata-"))
                .findFirst().orElseThrow(() -> new IllegalStateException("no bourne-vendordata RPM in: " + result));
        Built built = new Built(server, agent, vendordata);
        if (paths.size() != 3 || !built.all().stream().allMatch(Files::isRegularFile)) {
            throw new IllegalStateException("packaging/rpm/build printed " + paths + ", expected three RPM files");
        }
        return built;
    }
}
