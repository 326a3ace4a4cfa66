package dev.bourne.tpm.common.eventlog;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The real device data in {@code shared/testdata/tpm/} beside the repository (its README says where each file comes
 * from). Never copied into the repository; a missing directory fails the test, because a skipped real-data test looks
 * exactly like a passing one.
 */
final class RealDeviceData {
    static final String MISSING = "real TPM test data not found: expected shared/testdata/tpm beside the repository"
            + " (searched upwards from %s)";

    private RealDeviceData() {
    }

    /** {@code shared/testdata/tpm}, found by walking up from the module's base directory. */
    static Path root() {
        Path start = Path.of(System.getProperty("basedir", System.getProperty("user.dir"))).toAbsolutePath();
        for (Path dir = start; dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve("shared").resolve("testdata").resolve("tpm");
            if (Files.isDirectory(candidate.resolve("eventlogs"))) {
                return candidate;
            }
        }
        throw new IllegalStateException(String.format(MISSING, start));
    }

    /** Every {@code *.bin} event log in {@code eventlogs/}, sorted; fails when there is none. */
    static List<Path> eventLogs() {
        Path dir = root().resolve("eventlogs");
        try (Stream<Path> files = Files.list(dir)) {
            List<Path> logs = files.filter(f -> f.getFileName().toString().endsWith(".bin")).sorted()
                    .collect(Collectors.toList());
            if (logs.isEmpty()) {
                throw new IllegalStateException("no *.bin event logs in " + dir);
            }
            return logs;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
    }

    static byte[] read(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    /** The real GCP shielded VM quote (go-attestation's windows_gcp_shielded_vm.json). */
    static Path gcpQuote() {
        return root().resolve("real-quotes").resolve("gcp-shielded-vm-windows.json");
    }
}
