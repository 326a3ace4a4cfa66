package dev.bourne.testing.tpm;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The real TPM device data in {@code shared/testdata/tpm/} beside the repository (its README says where each file comes
 * from): boot event logs from real firmware, a real vTPM quote, manufacturer EK CA certificates. It is never copied
 * into the repository, and a missing directory fails the test: a skipped real-data test looks exactly like a passing
 * one. Found by walking up from the module's base directory, so a clone next to {@code shared/} finds it.
 */
public final class RealTpmData {
    public static final String MISSING = "real TPM test data not found: expected shared/testdata/tpm beside the "
            + "repository (searched upwards from %s)";

    private RealTpmData() {
    }

    /** {@code shared/testdata/tpm}. */
    public static Path root() {
        Path start = Path.of(System.getProperty("basedir", System.getProperty("user.dir"))).toAbsolutePath();
        for (Path dir = start; dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve("shared").resolve("testdata").resolve("tpm");
            if (Files.isDirectory(candidate.resolve("eventlogs"))) {
                return candidate;
            }
        }
        throw new AssertionError(String.format(MISSING, start));
    }

    /** The manufacturer EK CA certificates ({@code vendor-ek-ca/}). */
    public static Path vendorEkCa() {
        return existingDirectory(root().resolve("vendor-ek-ca"));
    }

    /** Every {@code *.bin} event log in {@code eventlogs/}, sorted; fails when there is none. */
    public static List<Path> eventLogs() {
        Path dir = existingDirectory(root().resolve("eventlogs"));
        try (Stream<Path> files = Files.list(dir)) {
            List<Path> logs = files.filter(f -> f.getFileName().toString().endsWith(".bin")).sorted()
                    .collect(Collectors.toList());
            if (logs.isEmpty()) {
                throw new AssertionError("no *.bin event logs in " + dir);
            }
            return logs;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
    }

    /** The real GCP shielded VM quote (go-attestation's {@code windows_gcp_shielded_vm.json}). */
    public static Path gcpQuote() {
        return root().resolve("real-quotes").resolve("gcp-shielded-vm-windows.json");
    }

    public static byte[] read(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    private static Path existingDirectory(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new AssertionError(dir + " is missing");
        }
        return dir;
    }
}
