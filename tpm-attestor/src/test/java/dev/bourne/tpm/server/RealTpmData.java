package dev.bourne.tpm.server;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The real device data of {@code <repo>/../shared/testdata/tpm} (its README says where each file comes from), found by
 * walking up from the working directory. Missing data fails the test: it is never copied into the repository and
 * never silently skipped.
 */
final class RealTpmData {

    private RealTpmData() {
    }

    static Path root() {
        Path dir = Path.of("").toAbsolutePath();
        for (Path d = dir; d != null; d = d.getParent()) {
            Path candidate = d.resolve("shared").resolve("testdata").resolve("tpm");
            if (Files.isDirectory(candidate)) {
                return candidate;
            }
        }
        throw new AssertionError("shared/testdata/tpm not found beside the repository (searched upwards from " + dir
                + "): the real TPM test data must be there");
    }

    /** The 51 manufacturer EK CA certificates. */
    static Path vendorEkCa() {
        Path dir = root().resolve("vendor-ek-ca");
        if (!Files.isDirectory(dir)) {
            throw new AssertionError(dir + " is missing");
        }
        return dir;
    }
}
