package dev.bourne.tpm.common;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Real device data from {@code <repo>/../shared/testdata/tpm} (its README says where each file comes from): found by
 * walking up from the module directory, never copied into the repository. Missing data fails the test, it never skips.
 */
final class TestData {

    private TestData() {
    }

    static Path tpm() {
        Path start = Path.of("").toAbsolutePath();
        for (Path dir = start; dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve("shared").resolve("testdata").resolve("tpm");
            if (Files.isDirectory(candidate)) {
                return candidate;
            }
        }
        throw new IllegalStateException("shared/testdata/tpm not found beside the repository, above " + start
                + ": the real device data the TPM tests need is missing");
    }
}
