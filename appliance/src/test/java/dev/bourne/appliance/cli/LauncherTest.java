package dev.bourne.appliance.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs the repository's {@code bin/bourne-server} launcher as a user would, from the repository root, on the build
 * this test belongs to (target/classes and target/lib exist before the tests run).
 */
class LauncherTest {
    /** The repository root: surefire runs in the module directory. */
    static final Path ROOT = Path.of("").toAbsolutePath().getParent();

    @TempDir
    Path dir;

    record Outcome(int code, String out, String err) {
    }

    Outcome launch(String... args) throws Exception {
        Path out = dir.resolve("out.txt");
        Path err = dir.resolve("err.txt");
        List<String> command = new java.util.ArrayList<>(List.of(ROOT.resolve("bin/bourne-server").toString()));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).directory(ROOT.toFile())
                .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        // A safety net against a hung JVM, not a timing assertion.
        assertTrue(process.waitFor(5, TimeUnit.MINUTES), "bin/bourne-server did not finish");
        return new Outcome(process.exitValue(), Files.readString(out), Files.readString(err));
    }

    @Test
    void validate_sampleConfiguration_exits0() throws Exception {
        Outcome outcome = launch("validate", "-config", "conf/server/server.conf");
        assertEquals(0, outcome.code(), outcome.err());
        assertEquals(ServerCommands.VALID + "\n", outcome.out());
    }

    @Test
    void validate_brokenConfiguration_exits1NamingTheKey() throws Exception {
        Path broken = dir.resolve("server.conf");
        Files.writeString(broken, Files.readString(ROOT.resolve("conf/server/server.conf"))
                .replace("ca_ttl = \"24h\"", "ca_ttl = \"a day\""));
        Outcome outcome = launch("validate", "-config", broken.toString());
        assertEquals(1, outcome.code(), outcome.err());
        assertTrue(outcome.err().startsWith(broken + ": server.ca_ttl: "), outcome.err());
    }

    @Test
    void badFlag_exits2() throws Exception {
        Outcome outcome = launch("token", "generate", "-ttl", "never");
        assertEquals(2, outcome.code(), outcome.err());
        assertTrue(outcome.err().startsWith("Invalid value for option '-ttl'"), outcome.err());
    }
}
