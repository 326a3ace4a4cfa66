package dev.bourne.tpm.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bourne.core.config.ConfigError;
import dev.bourne.core.config.ConfigResult;
import dev.bourne.core.config.PluginConfig;
import dev.bourne.core.config.internal.HclParsing;
import dev.bourne.testing.tpm.RealTpmData;
import dev.bourne.tpm.common.TpmHashAlg;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class TpmServerSettingsTest {

    private static final String FILE = "server.conf";
    private static final String DATA = "plugins.NodeAttestor.tpm.plugin_data";
    private static final String SHA256_A = "a".repeat(64);
    private static final String SHA256_B = "B".repeat(64);

    private static PluginConfig plugin(Map<String, Object> data) {
        return new PluginConfig(FILE, "NodeAttestor", "tpm", true, data);
    }

    private static Map<String, Object> data(Object... keyValues) {
        Map<String, Object> data = new LinkedHashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            data.put((String) keyValues[i], keyValues[i + 1]);
        }
        return data;
    }

    private static ConfigError error(String key, String reason) {
        return new ConfigError(FILE, DATA + "." + key, reason);
    }

    private static Map<String, Object> policy(String index, Object digests) {
        return Map.of("golden", Map.of(index, digests));
    }

    static Stream<Arguments> invalid() {
        return Stream.of(
                Arguments.of(data("ek_trust", "tpm"),
                        List.of(error("ek_trust", "must be one of enrolled, ca, either, both, got string \"tpm\""))),
                Arguments.of(data("ek_trust", "ca"), List.of(error("ek_ca_paths", TpmServerSettings.CA_PATHS_REQUIRED))),
                Arguments.of(data("ek_trust", "both"),
                        List.of(error("ek_ca_paths", TpmServerSettings.CA_PATHS_REQUIRED))),
                Arguments.of(data("ek_trust", "either", "ek_ca_paths", List.of()),
                        List.of(error("ek_ca_paths", "must list at least one file or directory"))),
                Arguments.of(data("ek_trust", "ca", "ek_ca_paths", "/etc/ca"),
                        List.of(error("ek_ca_paths", "expected a list of strings, got string \"/etc/ca\""))),
                Arguments.of(data("ek_trust", "ca", "ek_ca_paths", List.of(1.0)),
                        List.of(error("ek_ca_paths[0]", "expected a string, got number 1"))),
                Arguments.of(data("ek_trust", "ca", "ek_ca_paths", List.of("/etc/ca", "")),
                        List.of(error("ek_ca_paths[1]", TpmServerSettings.PATH_INVALID))),
                Arguments.of(data("pcr_bank", "md5"),
                        List.of(error("pcr_bank", "must be one of sha1, sha256, sha384, sha512, got string \"md5\""))),
                Arguments.of(data("quote_pcrs", List.of()), List.of(error("quote_pcrs", TpmServerSettings.PCR_LIST_EMPTY))),
                Arguments.of(data("quote_pcrs", "0,1"),
                        List.of(error("quote_pcrs", "expected a list of PCR indices, such as [0, 1, 2, 7]"))),
                Arguments.of(data("quote_pcrs", List.of(0.0, 24.0, 1.5, "x", -1.0)),
                        List.of(error("quote_pcrs[1]", TpmServerSettings.PCR_INDEX_INVALID),
                                error("quote_pcrs[2]", TpmServerSettings.PCR_INDEX_INVALID),
                                error("quote_pcrs[3]", TpmServerSettings.PCR_INDEX_INVALID),
                                error("quote_pcrs[4]", TpmServerSettings.PCR_INDEX_INVALID))),
                Arguments.of(data("quote_pcrs", List.of(7.0, "7")),
                        List.of(error("quote_pcrs[1]", TpmServerSettings.PCR_DUPLICATE))),
                Arguments.of(data("pcr_policies", "golden"),
                        List.of(error("pcr_policies", TpmServerSettings.POLICIES_NOT_A_MAP))),
                Arguments.of(data("pcr_policies", Map.of("bad name", Map.of("0", List.of(SHA256_A)))),
                        List.of(error("pcr_policies.bad name", "policy name " + PcrPolicy.NAME_INVALID))),
                Arguments.of(data("pcr_policies", Map.of("golden", List.of(SHA256_A))),
                        List.of(error("pcr_policies.golden", TpmServerSettings.POLICY_NOT_A_MAP))),
                Arguments.of(data("pcr_policies", Map.of("golden", Map.of())),
                        List.of(error("pcr_policies.golden", TpmServerSettings.POLICY_EMPTY))),
                Arguments.of(data("pcr_policies", policy("24", List.of(SHA256_A))),
                        List.of(error("pcr_policies.golden.24", TpmServerSettings.PCR_INDEX_INVALID))),
                Arguments.of(data("pcr_policies", policy("07", List.of(SHA256_A))),
                        List.of(error("pcr_policies.golden.07", TpmServerSettings.PCR_INDEX_INVALID))),
                Arguments.of(data("pcr_policies", policy("0", SHA256_A)),
                        List.of(error("pcr_policies.golden.0", TpmServerSettings.DIGESTS_NOT_A_LIST))),
                Arguments.of(data("pcr_policies", policy("0", List.of())),
                        List.of(error("pcr_policies.golden.0", TpmServerSettings.DIGESTS_EMPTY))),
                Arguments.of(data("pcr_policies", policy("0", List.of(SHA256_A, "zz" + SHA256_A.substring(2), 1.0))),
                        List.of(error("pcr_policies.golden.0[1]", TpmServerSettings.digestInvalid(TpmHashAlg.SHA256)),
                                error("pcr_policies.golden.0[2]", TpmServerSettings.digestInvalid(TpmHashAlg.SHA256)))),
                Arguments.of(data("pcr_bank", "sha1", "pcr_policies", policy("0", List.of(SHA256_A))),
                        List.of(error("pcr_policies.golden.0[0]", "must be a sha1 digest: 40 hex digits"))),
                Arguments.of(data("require_pcr_policy", true),
                        List.of(error("require_pcr_policy", TpmServerSettings.REQUIRE_WITHOUT_POLICIES))),
                Arguments.of(data("evict_on_drift", "yes"),
                        List.of(error("evict_on_drift", "expected true or false, got string \"yes\""))),
                Arguments.of(data("challenge_timeout", "1h"),
                        List.of(error("challenge_timeout", TpmServerSettings.TIMEOUT_TOO_LONG))),
                Arguments.of(data("challenge_timeout", "0s"),
                        List.of(error("challenge_timeout", "must be positive, got \"0s\""))),
                Arguments.of(data("challenge_timeout", 30.0), List.of(error("challenge_timeout",
                        "expected a duration string such as \"1h30m\", got number 30"))),
                Arguments.of(data("ek_ca_path", List.of("/etc/ca")),
                        List.of(error("ek_ca_path", "unknown key (did you mean \"ek_ca_paths\"?)"))),
                // Every error at once.
                Arguments.of(data("ek_trust", "ca", "pcr_bank", "md5", "quote_pcrs", List.of(99.0), "bogus", true),
                        List.of(error("ek_ca_paths", TpmServerSettings.CA_PATHS_REQUIRED),
                                error("pcr_bank", "must be one of sha1, sha256, sha384, sha512, got string \"md5\""),
                                error("quote_pcrs[0]", TpmServerSettings.PCR_INDEX_INVALID),
                                error("bogus", "unknown key"))));
    }

    @ParameterizedTest
    @MethodSource("invalid")
    void validate_invalid_reportsEveryError(Map<String, Object> data, List<ConfigError> expected) {
        ConfigResult<TpmServerSettings> result = TpmServerSettings.validate(plugin(data));
        assertInstanceOf(ConfigResult.Invalid.class, result, () -> "expected errors " + expected);
        assertEquals(expected, result.errors());
    }

    @Test
    void validate_empty_defaults() throws Exception {
        TpmServerSettings settings = TpmServerSettings.validate(plugin(Map.of())).orElseThrow();
        assertEquals(TpmServerSettings.defaults(), settings);
        assertEquals(EkTrustMode.ENROLLED, settings.ekTrust());
        assertEquals(TpmHashAlg.SHA256, settings.pcrBank());
        assertEquals(new TreeSet<>(List.of(0, 1, 2, 3, 4, 5, 6, 7)), settings.quoteSelection());
        assertFalse(settings.pcrPolicies().required());
        assertFalse(settings.evictOnDrift());
        assertEquals(Duration.ofSeconds(30), settings.challengeTimeout());
    }

    @Test
    void validate_caPathsWithEnrolledTrust_warns() throws Exception {
        ConfigResult<TpmServerSettings> result = TpmServerSettings.validate(plugin(data("ek_ca_paths",
                List.of("/etc/ca"))));
        assertEquals(List.of(error("ek_ca_paths", TpmServerSettings.CA_PATHS_UNUSED)),
                ((ConfigResult.Valid<TpmServerSettings>) result).warnings());
    }

    /** The HCL an operator writes, through the parser the server uses: hcl4j hands nested maps over as maps. */
    @Test
    void validate_fromHcl_nestedPolicyMaps() throws Exception {
        String hcl = """
                plugin_data {
                    ek_trust = "either"
                    ek_ca_paths = ["/etc/bourne/tpm-ca", "/etc/bourne/extra.pem"]
                    pcr_bank = "sha256"
                    quote_pcrs = [0, 2, 4]
                    pcr_policies = {
                        "golden-2026" = { "0" = ["%s"], "7" = ["%s", "%s"] }
                        legacy = { "14" = ["%s"] }
                    }
                    evict_on_drift = true
                    challenge_timeout = "45s"
                }
                """.formatted(SHA256_A, SHA256_A, SHA256_B, SHA256_B);
        @SuppressWarnings("unchecked")
        Map<String, Object> data = (Map<String, Object>) HclParsing.parse(hcl).get("plugin_data");
        TpmServerSettings settings = TpmServerSettings.validate(plugin(data)).orElseThrow();
        assertEquals(EkTrustMode.EITHER, settings.ekTrust());
        assertEquals(List.of(Path.of("/etc/bourne/tpm-ca"), Path.of("/etc/bourne/extra.pem")), settings.ekCaPaths());
        assertEquals(new TreeSet<>(List.of(0, 2, 4)), settings.quotePcrs());
        assertEquals(new TreeSet<>(List.of(0, 2, 4, 7, 14)), settings.quoteSelection());
        PcrPolicy golden = settings.pcrPolicies().policies().get("golden-2026");
        assertEquals(Set.of(SHA256_A), golden.allowed().get(0));
        assertEquals(Set.of(SHA256_A, SHA256_B.toLowerCase()), golden.allowed().get(7));
        assertEquals(Set.of(SHA256_B.toLowerCase()), settings.pcrPolicies().policies().get("legacy").allowed().get(14));
        assertTrue(settings.pcrPolicies().required(), "required by default once a policy is configured");
        assertTrue(settings.evictOnDrift());
        assertEquals(Duration.ofSeconds(45), settings.challengeTimeout());
    }

    @Test
    void validate_requireFalse_withPolicies() throws Exception {
        TpmServerSettings settings = TpmServerSettings.validate(plugin(data("pcr_policies",
                policy("7", List.of(SHA256_A)), "require_pcr_policy", false))).orElseThrow();
        assertFalse(settings.pcrPolicies().required());
    }

    @Test
    void loadEkCaStore_vendorDirectory_loads() throws Exception {
        TpmServerSettings settings = TpmServerSettings.validate(plugin(data("ek_trust", "ca", "ek_ca_paths",
                List.of(RealTpmData.vendorEkCa().toString())))).orElseThrow();
        EkCaStore store = settings.loadEkCaStore(plugin(Map.of()), Clock.systemUTC()).orElseThrow();
        assertFalse(store.isEmpty());
    }

    @Test
    void loadEkCaStore_missingFile_errorAtCaPaths() throws Exception {
        TpmServerSettings settings = TpmServerSettings.validate(plugin(data("ek_trust", "ca", "ek_ca_paths",
                List.of("/nonexistent/ca.pem")))).orElseThrow();
        ConfigResult<EkCaStore> result = settings.loadEkCaStore(plugin(Map.of()), Clock.systemUTC());
        assertEquals(List.of(error("ek_ca_paths", "/nonexistent/ca.pem: no such file")), result.errors());
    }
}
