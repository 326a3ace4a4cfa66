package dev.bourne.appliance.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@code bourne-server run -config} with a broken file: it names the file, key and reason on an {@code Error:} line
 * (journald priority 3 under systemd), exits 1, and starts nothing (no admin socket). The file is the repository's
 * sample with its paths moved into a temporary directory and one edit.
 */
class RunConfigErrorsTest {
    static final Path ROOT = Path.of("").toAbsolutePath().getParent();

    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "bad value|ca_ttl = \"24h\"|ca_ttl = \"a day\"|server.ca_ttl: invalid duration \"a day\": unexpected \"a\" at offset 0",
        "unknown key|ca_ttl = \"24h\"|ca_tll = \"24h\"|server.ca_tll: unknown key (did you mean \"ca_ttl\"?)",
        "bad plugin value|database_type = \"sqlite3\"|database_type = \"oracle\"|plugins.DataStore.sql.plugin_data.database_type: must be one of sqlite3, postgres, got string \"oracle\"",
        "unknown plugin key|keys_path = |key_pth = |plugins.KeyManager.disk.plugin_data.key_pth: unknown key (did you mean \"keys_path\"?)",
    })
    void run_brokenConfiguration_namesKeyAndReasonAndExits1(String name, String from, String to, String expected)
            throws Exception {
        Path socket = dir.resolve("api.sock");
        Path config = dir.resolve("server.conf");
        String sample = Files.readString(ROOT.resolve("conf/server/server.conf"))
                .replace("/tmp/bourne-server/private/api.sock", socket.toString())
                .replace("./.data/server", dir.resolve("data").toString());
        Files.writeString(config, sample.replace(from, to));

        StringWriter err = new StringWriter();
        int code = run(err, "run", "-config", config.toString());

        assertEquals(ServerCli.FAILED, code, err.toString());
        assertEquals("Error: " + config + ": " + expected + "\n", err.toString());
        assertFalse(Files.exists(socket), "the server started despite the error");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {"missing file|missing.conf", "a directory|."})
    void run_unreadableFile_exits1(String name, String file) {
        Path config = dir.resolve(file);
        StringWriter err = new StringWriter();
        assertEquals(ServerCli.FAILED, run(err, "run", "-config", config.toString()), err.toString());
        assertTrue(err.toString().startsWith("Error: " + config + ": "), err.toString());
    }

    static int run(StringWriter err, String... args) {
        return ServerCli.execute(new ServerCli(Map.of(), p -> false, Clock.systemUTC()),
                new PrintWriter(new StringWriter()), new PrintWriter(err), args);
    }
}
