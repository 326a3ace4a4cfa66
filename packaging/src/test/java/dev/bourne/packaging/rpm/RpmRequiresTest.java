package dev.bourne.packaging.rpm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bourne.packaging.PackagingTool;
import dev.bourne.packaging.Rpms;
import dev.bourne.testing.Exec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * rpm's own dependency resolution of the Java requirement ({@code rpm --test -i} into an empty root), against
 * packages that provide {@code jre-headless} the way Fedora's and RHEL's OpenJDK packages do: epoch 1 and the major
 * version ({@code java-17-openjdk-headless} provides {@code jre-headless = 1:17}; Java 8's {@code 1:1.8.0}).
 */
class RpmRequiresTest {
    @TempDir
    static Path temp;

    private static Path root;
    private static Path base;

    @BeforeAll
    static void setUp() throws IOException {
        root = Files.createDirectories(temp.resolve("root"));
        Commands.runOk(PackagingTool.RPM, "--root", root.toString(), "--initdb");
        // What every RHEL host has (systemd and the shells) in one package, so only the Java requirement is tested.
        base = provider("host-base", "1", "Provides: systemd /bin/sh /usr/bin/bash");
    }

    @ParameterizedTest
    @CsvSource({
        "java-1.8.0-openjdk-headless, 1.8.0.412, 1:1.8.0, false",
        "java-11-openjdk-headless, 11.0.23, 1:11, false",
        "java-17-openjdk-headless, 17.0.11, 1:17, true",
        "java-21-openjdk-headless, 21.0.3, 1:21, true",
        "java-25-openjdk-headless, 25.0.1, 1:25, true"})
    void javaRequirement_resolvedByRpm(String name, String version, String provides, boolean satisfies)
            throws IOException {
        Path jre = provider(name, version, "Epoch: 1\nProvides: jre-headless = " + provides);
        for (Path rpm : Rpms.get().all()) {
            Exec.Result result = Commands.run(PackagingTool.RPM, "--root", root.toString(), "--test", "-i",
                    "--noscripts", rpm.toString(), base.toString(), jre.toString());
            String output = result.stdout() + result.stderr();
            if (satisfies) {
                assertEquals(0, result.exitCode(), output);
            } else {
                assertTrue(output.contains("Failed dependencies:") && output.contains(
                        "jre-headless >= 1:17 is needed by " + rpm.getFileName().toString().replace(".rpm", "")),
                        output);
                // Nothing else is missing.
                assertEquals(1, output.lines().filter(l -> l.contains(" is needed by ")).count(), output);
            }
        }
    }

    /** A noarch package with no files and the given extra header lines, built with rpmbuild. */
    private static Path provider(String name, String version, String headers) throws IOException {
        Path top = temp.resolve("rpmbuild-" + name);
        Path spec = Files.createDirectories(top).resolve(name + ".spec");
        Files.writeString(spec, String.join("\n",
                "Name: " + name, "Version: " + version, "Release: 1", "Summary: stands for " + name,
                "License: MIT", "BuildArch: noarch", headers, "%description", "Provides what " + name + " does.",
                "%files", ""));
        List<String> args = new ArrayList<>(List.of("-bb", "--quiet", "--define", "_topdir " + top, spec.toString()));
        Commands.run(PackagingTool.RPMBUILD, Map.of(), args.toArray(String[]::new)).requireSuccess();
        try (var rpms = Files.list(top.resolve("RPMS/noarch"))) {
            return rpms.findFirst().orElseThrow();
        }
    }
}
