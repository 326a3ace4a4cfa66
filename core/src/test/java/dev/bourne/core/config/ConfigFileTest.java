package dev.bourne.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigFileTest {

    @TempDir
    Path dir;

    private List<String> loadErrors(Path file) {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigFile.load(file));
        return ConfigTexts.strings(e.errors());
    }

    @Test
    void load_validFile_parsesTopLevelBlocks() throws Exception {
        Path file = Files.writeString(dir.resolve("server.conf"), "server {\n  trust_domain = \"example.org\"\n}\n");

        ConfigFile config = ConfigFile.load(file);

        assertEquals(file, config.path());
        assertEquals(Map.of("server", Map.of("trust_domain", "example.org")), config.root());
        assertThrows(UnsupportedOperationException.class, () -> config.root().put("x", 1));
    }

    @Test
    void load_byteOrderMark_skipped() throws Exception {
        Path file = Files.write(dir.resolve("server.conf"),
                ("\uFEFFserver {\n  a = \"caf\u00e9\"\n}\n").getBytes(StandardCharsets.UTF_8));

        assertEquals(Map.of("server", Map.of("a", "caf\u00e9")), ConfigFile.load(file).root());
    }

    @Test
    void load_oversizedFile_rejectedNamingLimit() throws Exception {
        Path file = Files.writeString(dir.resolve("big.conf"), "# " + "x".repeat(ConfigFile.MAX_BYTES) + "\n");

        assertEquals(List.of(file + ": file is larger than the limit of 1 MiB (1048576 bytes)"), loadErrors(file));
    }

    @Test
    void load_exactlyAtLimit_accepted() throws Exception {
        String body = "server {\n}\n";
        Path file = Files.writeString(dir.resolve("full.conf"), body + "#".repeat(ConfigFile.MAX_BYTES - body.length()));

        assertEquals(Map.of("server", Map.of()), ConfigFile.load(file).root());
    }

    @Test
    void load_nonUtf8_rejectedWithLine() throws Exception {
        byte[] latin1 = "server {\n  a = \"caf\u00e9\"\n}\n".getBytes(StandardCharsets.ISO_8859_1);
        Path file = Files.write(dir.resolve("latin1.conf"), latin1);

        assertEquals(List.of(file + ": not valid UTF-8 (line 2, byte offset 19)"), loadErrors(file));
    }

    @Test
    void load_syntaxError_namesLineAndColumn() throws Exception {
        Path file = Files.writeString(dir.resolve("server.conf"), "server {\n  trust_domain = \"example.org\"\n"
                + "  bind_port = = 8081\n}\n");

        assertEquals(List.of(file + ": syntax error at line 3, column 15: unexpected \"=\""), loadErrors(file));
    }

    @Test
    void load_unclosedBlock_namesWhereItOpened() throws Exception {
        Path file = Files.writeString(dir.resolve("server.conf"), "server {\n  trust_domain = \"example.org\"\n\n"
                + "plugins {\n}\n");

        assertEquals(List.of(file + ": syntax error at line 1, column 8: '{' is never closed"), loadErrors(file));
    }

    @Test
    void load_missingFile_reported() {
        Path file = dir.resolve("absent.conf");

        assertEquals(List.of(file + ": no such file"), loadErrors(file));
    }

    @Test
    void load_directory_reported() {
        assertEquals(List.of(dir + ": is a directory, not a file"), loadErrors(dir));
    }

    @Test
    void serverSettingsLoad_fileProblem_becomesInvalidResult() {
        Path file = dir.resolve("absent.conf");

        assertEquals(List.of(new ConfigError(file.toString(), "", "no such file")), ServerSettings.load(file).errors());
    }

    @Test
    void toString_secretValues_notShown() throws Exception {
        ConfigFile config = ConfigFile.parse(Path.of("agent.conf"), "agent {\n  join_token = \"s3cr3t\"\n}\n");

        assertFalse(config.toString().contains("s3cr3t"), config.toString());
        assertFalse(AgentConfig.of(config).toString().contains("s3cr3t"));
    }
}
