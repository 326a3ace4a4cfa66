package dev.bourne.appliance.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bourne.core.config.ConfigError;
import dev.bourne.core.config.ConfigException;
import dev.bourne.core.config.ServerSettings;
import dev.bourne.tpm.server.TpmServerSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code NodeAttestor "tpm"} in the server configuration as {@code bourne-server validate} and {@code run} check it
 * ({@link BourneServer#validate}): each error names the file, the full key and the reason; the commented example in
 * {@code conf/server/server.conf} is valid once uncommented, and so is the reference example in docs/server.md.
 */
class TpmServerConfigTest {
    private static final String KEY = "plugins.NodeAttestor.tpm.plugin_data.";

    @TempDir
    Path dir;

    private ServerSettings withTpm(String pluginData) throws Exception {
        return TestServers.settings(dir, """
                DataStore "sql" {
                    plugin_data {
                        database_type = "sqlite3"
                        connection_string = "%s"
                    }
                }
                KeyManager "memory" {
                    plugin_data {
                    }
                }
                NodeAttestor "tpm" {
                    plugin_data {
                %s
                    }
                }
                """.formatted(dir.resolve("data/datastore.sqlite3"), pluginData));
    }

    static Stream<Arguments> invalid() {
        return Stream.of(
                Arguments.of("ek_trust = \"vendor\"", "ek_trust",
                        "must be one of enrolled, ca, either, both, got string \"vendor\""),
                Arguments.of("ek_trust = \"ca\"", "ek_ca_paths", TpmServerSettings.CA_PATHS_REQUIRED),
                Arguments.of("ek_trust = \"both\"\nek_ca_paths = [\"\"]", "ek_ca_paths[0]",
                        TpmServerSettings.PATH_INVALID),
                Arguments.of("quote_pcrs = []", "quote_pcrs", TpmServerSettings.PCR_LIST_EMPTY),
                Arguments.of("quote_pcrs = [0, 24]", "quote_pcrs[1]", TpmServerSettings.PCR_INDEX_INVALID),
                Arguments.of("quote_pcrs = [7, 7]", "quote_pcrs[1]", TpmServerSettings.PCR_DUPLICATE),
                Arguments.of("pcr_policies = { \"golden\" = { \"7\" = [\"abcd\"] } }", "pcr_policies.golden.7[0]",
                        "must be a sha256 digest: 64 hex digits"),
                Arguments.of("pcr_policies = { \"golden\" = { \"99\" = [\"" + "0".repeat(64) + "\"] } }",
                        "pcr_policies.golden.99", TpmServerSettings.PCR_INDEX_INVALID),
                Arguments.of("pcr_policies = { \"golden\" = { \"7\" = [] } }", "pcr_policies.golden.7",
                        TpmServerSettings.DIGESTS_EMPTY),
                Arguments.of("pcr_policies = { \"golden\" = [1] }", "pcr_policies.golden",
                        TpmServerSettings.POLICY_NOT_A_MAP),
                Arguments.of("require_pcr_policy = true", "require_pcr_policy",
                        TpmServerSettings.REQUIRE_WITHOUT_POLICIES),
                Arguments.of("challenge_timeout = \"11m\"", "challenge_timeout", TpmServerSettings.TIMEOUT_TOO_LONG),
                Arguments.of("evict_on_drif = true", "evict_on_drif",
                        "unknown key (did you mean \"evict_on_drift\"?)"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalid")
    void validate_invalidPluginData_errorNamesFileKeyAndReason(String pluginData, String key, String reason)
            throws Exception {
        ServerSettings settings = withTpm(pluginData);
        ConfigException e = assertThrows(ConfigException.class, () -> BourneServer.validate(settings));
        assertEquals(List.of(new ConfigError(dir.resolve("server.conf").toString(), KEY + key, reason)), e.errors());
    }

    @Test
    void validate_caFilesUnreadable_namedUnderEkCaPaths_withEveryProblem() throws Exception {
        Path missing = dir.resolve("no-such-ca.pem");
        Path notPem = Files.writeString(dir.resolve("not-a-certificate.pem"), "hello\n");
        ServerSettings settings = withTpm("ek_trust = \"either\"\nek_ca_paths = [\"" + missing + "\", \"" + notPem
                + "\"]");
        ConfigException e = assertThrows(ConfigException.class, () -> BourneServer.validate(settings));
        assertEquals(2, e.errors().size(), e.errors().toString());
        assertEquals(new ConfigError(dir.resolve("server.conf").toString(), KEY + "ek_ca_paths",
                missing + ": no such file"), e.errors().get(0));
        ConfigError unparsable = e.errors().get(1);
        assertEquals(KEY + "ek_ca_paths", unparsable.key());
        assertTrue(unparsable.reason().startsWith(notPem + ": neither the JDK nor BouncyCastle can parse the"
                + " certificate"), unparsable.reason());
    }

    @Test
    void validate_severalErrors_allReportedAtOnce_besideOtherPlugins() throws Exception {
        ServerSettings settings = withTpm("ek_trust = \"ca\"\nquote_pcrs = [25]\nchallenge_timeout = \"1h\"");
        ConfigException e = assertThrows(ConfigException.class, () -> BourneServer.validate(settings));
        List<String> keys = e.errors().stream().map(ConfigError::key).toList();
        assertEquals(List.of(KEY + "ek_ca_paths", KEY + "quote_pcrs[0]", KEY + "challenge_timeout"), keys);
    }

    @Test
    void validate_fullValidConfiguration_passes() throws Exception {
        Path ca = dir.resolve("tpm-ca");
        Files.createDirectories(ca);
        Files.write(ca.resolve("root.der"), dev.bourne.testing.pki.TestCa.root("tpm-root.example").certificate()
                .getEncoded());
        BourneServer.validate(withTpm("""
                ek_trust = "either"
                ek_ca_paths = ["%s"]
                pcr_bank = "sha256"
                quote_pcrs = [0, 7]
                pcr_policies = {
                    "golden-2026" = { "0" = ["%s"], "7" = ["%s", "%s"] }
                    "lab" = { "16" = ["%s"] }
                }
                require_pcr_policy = true
                evict_on_drift = true
                challenge_timeout = "1m"
                """.formatted(ca, "ab".repeat(32), "cd".repeat(32), "EF".repeat(32), "00".repeat(32))));
    }

    /** The example in conf/server/server.conf, with its leading "# " removed, is a valid configuration. */
    @Test
    void sampleConfiguration_commentedTpmExample_isValidOnceUncommented() throws Exception {
        Path sample = repositoryRoot().resolve("conf/server/server.conf");
        List<String> block = new ArrayList<>();
        boolean inside = false;
        for (String line : Files.readAllLines(sample)) {
            String stripped = line.strip();
            if (stripped.equals("# NodeAttestor \"tpm\" {")) {
                inside = true;
            }
            if (inside) {
                assertTrue(stripped.startsWith("#"), line);
                block.add(stripped.equals("#") ? "" : stripped.substring(2));
                if (stripped.equals("# }")) {
                    break;
                }
            }
        }
        assertTrue(block.size() > 5, "the example is in " + sample);
        String pluginData = String.join("\n", block.subList(2, block.size() - 2));
        BourneServer.validate(withTpm(pluginData));
    }

    /** The reference example in docs/server.md (section "`tpm`") is valid, its CA directory pointed at a real one. */
    @Test
    void docsExample_isValid() throws Exception {
        String doc = Files.readString(repositoryRoot().resolve("docs/server.md"));
        int section = doc.indexOf("### `tpm`");
        assertTrue(section >= 0, "docs/server.md has a tpm section");
        int start = doc.indexOf("```hcl\n", section) + "```hcl\n".length();
        String block = doc.substring(start, doc.indexOf("```", start));
        List<String> lines = block.strip().lines().toList();
        assertEquals("NodeAttestor \"tpm\" {", lines.get(0));
        Path ca = Files.createDirectories(dir.resolve("tpm-ca"));
        Files.write(ca.resolve("root.der"), dev.bourne.testing.pki.TestCa.root("tpm-root.example").certificate()
                .getEncoded());
        String pluginData = String.join("\n", lines.subList(2, lines.size() - 2))
                .replace("/etc/bourne/tpm-ca", ca.toString());
        BourneServer.validate(withTpm(pluginData));
    }

    private static Path repositoryRoot() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.exists(dir.resolve("conf/server/server.conf"))) {
            dir = dir.getParent();
        }
        assertTrue(dir != null, "repository root with conf/server/server.conf not found");
        return dir;
    }
}
