package dev.bourne.agent.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@code bourne-agent run -config} with a broken file: it names the file, key and reason on an {@code Error:} line
 * (journald priority 3 under systemd), exits 1, and starts nothing (no Workload API socket).
 */
class RunConfigErrorsTest {
    static final Path ROOT = Path.of("").toAbsolutePath().getParent();

    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "bad value|server_port = \"8081\"|server_port = \"eighty\"|agent.server_port: expected a number, got string \"eighty\"",
        "unknown key|server_port = \"8081\"|server_prot = \"8081\"|agent.server_prot: unknown key (did you mean \"server_port\"?)",
    })
    void run_brokenConfiguration_namesKeyAndReasonAndExits1(String name, String from, String to, String expected)
            throws Exception {
        Path socket = dir.resolve("api.sock");
        Path config = dir.resolve("agent.conf");
        String sample = Files.readString(ROOT.resolve("conf/agent/agent.conf"))
                .replace("/tmp/bourne-agent/public/api.sock", socket.toString())
                .replace("./.data/agent", dir.resolve("data").toString());
        Files.writeString(config, sample.replace(from, to));

        CliRun run = CliRun.run("run", "-config", config.toString());

        assertEquals(AgentCli.FAILED, run.code(), run.err());
        assertEquals("Error: " + config + ": " + expected + "\n", run.err());
        assertFalse(Files.exists(socket), "the agent started despite the error");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {"missing file|missing.conf", "a directory|."})
    void run_unreadableFile_exits1(String name, String file) {
        Path config = dir.resolve(file);
        CliRun run = CliRun.run("run", "-config", config.toString());
        assertEquals(AgentCli.FAILED, run.code(), run.err());
        assertTrue(run.err().startsWith("Error: " + config + ": "), run.err());
    }
}
