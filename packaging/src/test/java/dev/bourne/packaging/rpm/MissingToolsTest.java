package dev.bourne.packaging.rpm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bourne.packaging.Rpms;
import dev.bourne.testing.Exec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** packaging/rpm/build on a machine without rpmbuild: a clear error naming the package, before anything is done. */
class MissingToolsTest {
    @TempDir
    Path temp;

    @Test
    void build_withoutRpmbuild_namesThePackage() throws IOException {
        // A PATH with only what the script needs before its rpmbuild check.
        Path bin = Files.createDirectories(temp.resolve("bin"));
        for (String tool : List.of("bash", "dirname", "mkdir")) {
            Path real = List.of(Path.of("/usr/bin", tool), Path.of("/bin", tool)).stream().filter(Files::isExecutable)
                    .findFirst().orElseThrow();
            Files.createSymbolicLink(bin.resolve(tool), real);
        }
        Exec.Result result = Exec.run(List.of("/usr/bin/env", "PATH=" + bin, Rpms.BUILD_SCRIPT.toString(),
                "--skip-maven", "--out", temp.resolve("out").toString()), Map.of(), Duration.ofMinutes(1));
        assertEquals(1, result.exitCode(), result.toString());
        assertEquals("build: rpmbuild is missing: install the package rpm (Debian, Ubuntu) or rpm-build (RHEL, Fedora)",
                result.stderr().strip());
    }
}
