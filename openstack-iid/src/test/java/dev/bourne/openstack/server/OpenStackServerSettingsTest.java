package dev.bourne.openstack.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bourne.core.config.ConfigError;
import dev.bourne.core.config.ConfigResult;
import dev.bourne.core.config.PluginConfig;
import dev.bourne.core.config.internal.HclParsing;
import dev.bourne.openstack.server.OpenStackServerSettings.ApplicationCredentials;
import dev.bourne.openstack.server.OpenStackServerSettings.JwksFile;
import dev.bourne.openstack.server.OpenStackServerSettings.JwksUrl;
import dev.bourne.openstack.server.OpenStackServerSettings.NovaCheck;
import dev.bourne.openstack.server.OpenStackServerSettings.PasswordCredentials;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code NodeAttestor "openstack_iid"} plugin data on the server: every key, its default, and every error's text. */
class OpenStackServerSettingsTest {

    static final String FILE = "server.conf";
    static final String DATA = "plugins.NodeAttestor.openstack_iid.plugin_data";
    private static final String PROJECT = IidTestSupport.PROJECT;

    static PluginConfig plugin(Map<String, Object> data) {
        return new PluginConfig(FILE, "NodeAttestor", "openstack_iid", true, data);
    }

    static ConfigError error(String key, String reason) {
        return new ConfigError(FILE, key.isEmpty() ? DATA : DATA + "." + key, reason);
    }

    /** The smallest valid plugin data, then {@code keyValues} put over it (a null value removes the key). */
    static Map<String, Object> data(Object... keyValues) {
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("issuer", IidTestSupport.ISSUER);
        data.put("jwks_file", "/etc/bourne/iid-jwks.json");
        data.put("projects", List.of(PROJECT));
        for (int i = 0; i < keyValues.length; i += 2) {
            if (keyValues[i + 1] == null) {
                data.remove((String) keyValues[i]);
            } else {
                data.put((String) keyValues[i], keyValues[i + 1]);
            }
        }
        return data;
    }

    static Map<String, Object> map(Object... keyValues) {
        Map<String, Object> map = new LinkedHashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            map.put((String) keyValues[i], keyValues[i + 1]);
        }
        return map;
    }

    static Map<String, Object> passwordNova(Object... more) {
        Map<String, Object> nova = map("identity_url", "https://keystone.example.org:5000/v3", "auth_method",
                "password", "username", "bourne", "password_file", "/etc/bourne/nova-password", "project", "admin");
        return with(nova, more);
    }

    static Map<String, Object> credentialNova(Object... more) {
        Map<String, Object> nova = map("identity_url", "https://keystone.example.org:5000/v3", "auth_method",
                "application_credential", "application_credential_id", "21dced0fd20347869b93710d2b98aae0",
                "application_credential_secret_file", "/etc/bourne/nova-credential");
        return with(nova, more);
    }

    /** {@code base} with {@code keyValues} put over it (a null value removes the key). */
    static Map<String, Object> with(Map<String, Object> base, Object... keyValues) {
        for (int i = 0; i < keyValues.length; i += 2) {
            if (keyValues[i + 1] == null) {
                base.remove((String) keyValues[i]);
            } else {
                base.put((String) keyValues[i], keyValues[i + 1]);
            }
        }
        return base;
    }

    static Stream<Arguments> invalid() {
        return Stream.of(
                Arguments.of(map(), List.of(error("issuer", "is required"),
                        error("", OpenStackServerSettings.JWKS_REQUIRED), error("projects", "is required"))),
                Arguments.of(data("issuer", 5.0), List.of(error("issuer", "expected a string, got number 5"))),
                Arguments.of(data("issuer", ""), List.of(error("issuer", "must not be empty"))),
                Arguments.of(data("issuer", "https://a\u0000b"),
                        List.of(error("issuer", OpenStackServerSettings.TEXT_INVALID))),
                Arguments.of(data("issuer", "x".repeat(257)),
                        List.of(error("issuer", OpenStackServerSettings.TEXT_INVALID))),
                Arguments.of(data("audience", "a\nb"), List.of(error("audience", OpenStackServerSettings.TEXT_INVALID))),
                Arguments.of(data("jwks_file", null), List.of(error("", OpenStackServerSettings.JWKS_REQUIRED))),
                Arguments.of(data("jwks_url", "https://vendordata.example.org/jwks.json"),
                        List.of(error("jwks_url", OpenStackServerSettings.JWKS_BOTH))),
                Arguments.of(data("jwks_file", null, "jwks_url", "http://vendordata.example.org/jwks.json"),
                        List.of(error("jwks_url", OpenStackServerSettings.URL_NOT_HTTPS))),
                Arguments.of(data("jwks_file", null, "jwks_url", "http://10.0.0.1/jwks.json"),
                        List.of(error("jwks_url", OpenStackServerSettings.URL_NOT_HTTPS))),
                Arguments.of(data("jwks_file", null, "jwks_url", "http://127.0.0.1.attacker.example/jwks.json"),
                        List.of(error("jwks_url", OpenStackServerSettings.URL_NOT_HTTPS))),
                Arguments.of(data("jwks_file", null, "jwks_url", "file:///etc/bourne/jwks.json"),
                        List.of(error("jwks_url", OpenStackServerSettings.URL_INVALID))),
                Arguments.of(data("jwks_file", null, "jwks_url", "ftp://vendordata.example.org/jwks.json"),
                        List.of(error("jwks_url", OpenStackServerSettings.URL_NOT_HTTPS))),
                Arguments.of(data("jwks_file", null, "jwks_url", "https://user:pw@vendordata.example.org/jwks.json"),
                        List.of(error("jwks_url", OpenStackServerSettings.URL_HAS_CREDENTIALS))),
                Arguments.of(data("jwks_file", null, "jwks_url", "not a url"),
                        List.of(error("jwks_url", OpenStackServerSettings.URL_INVALID))),
                Arguments.of(data("jwks_file", null, "jwks_url", "/jwks.json"),
                        List.of(error("jwks_url", OpenStackServerSettings.URL_INVALID))),
                Arguments.of(data("jwks_file", null, "jwks_url", "https://vendordata.example.org/jwks.json#x"),
                        List.of(error("jwks_url", OpenStackServerSettings.URL_INVALID))),
                Arguments.of(data("jwks_ca_file", "/etc/bourne/ca.pem"),
                        List.of(error("jwks_ca_file", OpenStackServerSettings.CA_WITHOUT_URL))),
                Arguments.of(data("jwks_refresh", "10s"),
                        List.of(error("jwks_refresh", OpenStackServerSettings.JWKS_REFRESH_RANGE))),
                Arguments.of(data("jwks_refresh", "25h"),
                        List.of(error("jwks_refresh", OpenStackServerSettings.JWKS_REFRESH_RANGE))),
                Arguments.of(data("jwks_refresh", 600.0), List.of(error("jwks_refresh",
                        "expected a duration string such as \"1h30m\", got number 600"))),
                Arguments.of(data("jwks_min_refresh", "500ms"),
                        List.of(error("jwks_min_refresh", OpenStackServerSettings.JWKS_MIN_REFRESH_RANGE))),
                Arguments.of(data("jwks_min_refresh", "20m"),
                        List.of(error("jwks_min_refresh", OpenStackServerSettings.JWKS_MIN_REFRESH_LONGER))),
                Arguments.of(data("jwks_refresh", "5m", "jwks_min_refresh", "6m"),
                        List.of(error("jwks_min_refresh", OpenStackServerSettings.JWKS_MIN_REFRESH_LONGER))),
                Arguments.of(data("algorithms", List.of()),
                        List.of(error("algorithms", OpenStackServerSettings.ALGORITHMS_EMPTY))),
                Arguments.of(data("algorithms", "ES256"),
                        List.of(error("algorithms", "expected a list of strings, got string \"ES256\""))),
                Arguments.of(data("algorithms", List.of("none")),
                        List.of(error("algorithms[0]", OpenStackServerSettings.ALGORITHM_FORBIDDEN))),
                Arguments.of(data("algorithms", List.of("HS256", "ES256", "EdDSA", "hs512", "es256", "NONE")),
                        List.of(error("algorithms[0]", OpenStackServerSettings.ALGORITHM_FORBIDDEN),
                                error("algorithms[2]", OpenStackServerSettings.ALGORITHM_UNKNOWN),
                                error("algorithms[3]", OpenStackServerSettings.ALGORITHM_FORBIDDEN),
                                error("algorithms[4]", OpenStackServerSettings.ALGORITHM_UNKNOWN),
                                error("algorithms[5]", OpenStackServerSettings.ALGORITHM_FORBIDDEN))),
                Arguments.of(data("projects", List.of()),
                        List.of(error("projects", OpenStackServerSettings.PROJECTS_EMPTY))),
                Arguments.of(data("projects", PROJECT),
                        List.of(error("projects", "expected a list of strings, got string \"" + PROJECT + "\""))),
                Arguments.of(data("projects", List.of("a/b", 7.0, PROJECT, "x".repeat(65))),
                        List.of(error("projects[1]", "expected a string, got number 7"),
                                error("projects[0]", OpenStackServerSettings.PROJECT_INVALID),
                                error("projects[3]", OpenStackServerSettings.PROJECT_INVALID))),
                Arguments.of(data("metadata_keys", List.of("role", "", "a\tb")),
                        List.of(error("metadata_keys[1]", OpenStackServerSettings.METADATA_KEY_INVALID),
                                error("metadata_keys[2]", OpenStackServerSettings.METADATA_KEY_INVALID))),
                Arguments.of(data("max_clock_skew", "10m"),
                        List.of(error("max_clock_skew", OpenStackServerSettings.SKEW_TOO_LONG))),
                Arguments.of(data("nova_check", "yes"),
                        List.of(error("nova_check", "expected true or false, got string \"yes\""))),
                Arguments.of(data("nova_check", true), List.of(error("nova", OpenStackServerSettings.NOVA_REQUIRED))),
                Arguments.of(data("nova_check", true, "nova", List.of(passwordNova(), passwordNova())),
                        List.of(error("nova", "is declared 2 times; write it once"))),
                Arguments.of(data("nova_check", true, "nova", map()),
                        List.of(error("nova.identity_url", "is required"), error("nova.auth_method", "is required"))),
                Arguments.of(data("nova_check", true, "nova", passwordNova("password", "hunter2",
                        "password_file", null)),
                        List.of(error("nova.password", String.format(OpenStackServerSettings.INLINE_SECRET,
                                "password_file")),
                                error("nova.password_file", OpenStackServerSettings.REQUIRED_FOR_PASSWORD))),
                Arguments.of(data("nova_check", true, "nova", credentialNova("application_credential_secret", "s3cr3t")),
                        List.of(error("nova.application_credential_secret", String.format(
                                OpenStackServerSettings.INLINE_SECRET, "application_credential_secret_file")))),
                Arguments.of(data("nova_check", true, "nova", passwordNova("auth_method", "token")),
                        List.of(error("nova.auth_method",
                                "must be one of password, application_credential, got string \"token\""))),
                Arguments.of(data("nova_check", true, "nova",
                        passwordNova("identity_url", "https://keystone.example.org:5000/v2.0")),
                        List.of(error("nova.identity_url", OpenStackServerSettings.IDENTITY_NOT_V3))),
                Arguments.of(data("nova_check", true, "nova",
                        passwordNova("identity_url", "http://keystone.example.org:5000/v3")),
                        List.of(error("nova.identity_url", OpenStackServerSettings.URL_NOT_HTTPS))),
                Arguments.of(data("nova_check", true, "nova", passwordNova("username", null, "project", null)),
                        List.of(error("nova.username", OpenStackServerSettings.REQUIRED_FOR_PASSWORD),
                                error("nova.project", OpenStackServerSettings.REQUIRED_FOR_PASSWORD))),
                Arguments.of(data("nova_check", true, "nova", passwordNova("application_credential_id", "x")),
                        List.of(error("nova.application_credential_id",
                                OpenStackServerSettings.ONLY_FOR_APPLICATION_CREDENTIAL))),
                Arguments.of(data("nova_check", true, "nova", credentialNova("username", "bourne", "user_domain", "d")),
                        List.of(error("nova.username", OpenStackServerSettings.ONLY_FOR_PASSWORD),
                                error("nova.user_domain", OpenStackServerSettings.ONLY_FOR_PASSWORD))),
                Arguments.of(data("nova_check", true, "nova", credentialNova("application_credential_secret_file",
                        null)), List.of(error("nova.application_credential_secret_file",
                                OpenStackServerSettings.REQUIRED_FOR_APPLICATION_CREDENTIAL))),
                Arguments.of(data("nova_check", true, "nova", passwordNova("interface", "private")),
                        List.of(error("nova.interface", "must be one of public, internal, admin, got string "
                                + "\"private\""))),
                Arguments.of(data("nova_check", true, "nova", passwordNova("timeout", "2m")),
                        List.of(error("nova.timeout", OpenStackServerSettings.NOVA_TIMEOUT_TOO_LONG))),
                Arguments.of(data("nova_check", true, "nova", passwordNova("compute_url", "http://nova:8774/v2.1")),
                        List.of(error("nova.compute_url", OpenStackServerSettings.URL_NOT_HTTPS))),
                Arguments.of(data("nova_check", true, "nova", passwordNova("region", "r".repeat(256))),
                        List.of(error("nova.region", OpenStackServerSettings.NAME_INVALID))),
                Arguments.of(data("nova_check", true, "nova", passwordNova("regoin", "RegionOne")),
                        List.of(error("nova.regoin", "unknown key (did you mean \"region\"?)"))),
                Arguments.of(data("jwks_uri", "https://x/jwks"),
                        List.of(error("jwks_uri", "unknown key (did you mean \"jwks_url\"?)"))),
                // Every error at once.
                Arguments.of(data("issuer", null, "algorithms", List.of("none"), "max_clock_skew", "1h", "bogus", 1.0),
                        List.of(error("issuer", "is required"),
                                error("algorithms[0]", OpenStackServerSettings.ALGORITHM_FORBIDDEN),
                                error("max_clock_skew", OpenStackServerSettings.SKEW_TOO_LONG),
                                error("bogus", "unknown key"))));
    }

    @ParameterizedTest
    @MethodSource("invalid")
    void validate_invalid_reportsEveryError(Map<String, Object> data, List<ConfigError> expected) {
        ConfigResult<OpenStackServerSettings> result = OpenStackServerSettings.validate(plugin(data),
                IidTestSupport.TD);
        assertInstanceOf(ConfigResult.Invalid.class, result, () -> "expected errors " + expected);
        assertEquals(expected, result.errors());
    }

    @Test
    void validate_inlineSecret_neverQuoted() {
        ConfigResult<OpenStackServerSettings> result = OpenStackServerSettings.validate(plugin(data("nova_check",
                true, "nova", passwordNova("password", "hunter2"))), IidTestSupport.TD);

        assertFalse(result.errors().toString().contains("hunter2"), result.errors().toString());
    }

    @Test
    void validate_minimal_defaults() throws Exception {
        OpenStackServerSettings settings = OpenStackServerSettings.validate(plugin(data()), IidTestSupport.TD)
                .orElseThrow();

        assertEquals(IidTestSupport.ISSUER, settings.issuer());
        assertEquals("spiffe://example.org/spire/server", settings.audience());
        assertEquals(new JwksFile(Path.of("/etc/bourne/iid-jwks.json")), settings.jwks());
        assertEquals(Optional.empty(), settings.jwksCaFile());
        assertEquals(Duration.ofMinutes(10), settings.jwksRefresh());
        assertEquals(Duration.ofSeconds(30), settings.jwksMinRefresh());
        assertEquals(Set.of(IidSignatureAlgorithm.ES256, IidSignatureAlgorithm.ES384, IidSignatureAlgorithm.PS256,
                IidSignatureAlgorithm.RS256), settings.algorithms());
        assertEquals(Set.of(PROJECT), settings.projects());
        assertEquals(List.of(), settings.metadataKeys());
        assertEquals(Duration.ofSeconds(30), settings.maxClockSkew());
        assertFalse(settings.novaCheck());
    }

    @ParameterizedTest
    @ValueSource(strings = {"http://127.0.0.1:8443/jwks.json", "http://localhost/jwks.json",
            "http://[::1]:8080/jwks.json", "HTTPS://vendordata.example.org:8443/v1/jwks.json?x=1"})
    void validate_acceptedJwksUrl(String url) throws Exception {
        OpenStackServerSettings settings = OpenStackServerSettings.validate(plugin(data("jwks_file", null,
                "jwks_url", url)), IidTestSupport.TD).orElseThrow();

        assertEquals(new JwksUrl(URI.create(url)), settings.jwks());
    }

    @Test
    void validate_novaBlockWithoutNovaCheck_warnsAndIgnores() throws Exception {
        ConfigResult<OpenStackServerSettings> result = OpenStackServerSettings.validate(plugin(data("nova",
                passwordNova())), IidTestSupport.TD);

        assertInstanceOf(ConfigResult.Valid.class, result);
        ConfigResult.Valid<OpenStackServerSettings> valid = (ConfigResult.Valid<OpenStackServerSettings>) result;
        assertEquals(List.of(error("nova", OpenStackServerSettings.NOVA_UNUSED)), valid.warnings());
        assertFalse(valid.settings().novaCheck());
    }

    /** The HCL an operator writes, through the parser the server uses. */
    @Test
    void validate_fromHcl_everyKey() throws Exception {
        String hcl = """
                plugin_data {
                    issuer           = "https://vendordata.example.org"
                    audience         = "spiffe://example.org/custom"
                    jwks_url         = "https://vendordata.example.org:8443/jwks.json"
                    jwks_ca_file     = "/etc/bourne/vendordata-ca.pem"
                    jwks_refresh     = "5m"
                    jwks_min_refresh = "10s"
                    algorithms       = ["ES384", "PS512"]
                    projects         = ["%s", "other_project-2"]
                    metadata_keys    = ["role", "tier"]
                    max_clock_skew   = "1m"
                    nova_check       = true
                    nova {
                        identity_url  = "https://keystone.example.org:5000/v3/"
                        auth_method   = "application_credential"
                        application_credential_id          = "21dced0fd20347869b93710d2b98aae0"
                        application_credential_secret_file = "/etc/bourne/nova-credential"
                        region        = "RegionOne"
                        interface     = "public"
                        compute_url   = "https://nova.example.org:8774/v2.1"
                        ca_file       = "/etc/bourne/openstack-ca.pem"
                        timeout       = "3s"
                    }
                }
                """.formatted(PROJECT);
        @SuppressWarnings("unchecked")
        Map<String, Object> data = (Map<String, Object>) HclParsing.parse(hcl).get("plugin_data");

        OpenStackServerSettings settings = OpenStackServerSettings.validate(plugin(data), IidTestSupport.TD)
                .orElseThrow();

        assertEquals("spiffe://example.org/custom", settings.audience());
        assertEquals(new JwksUrl(URI.create("https://vendordata.example.org:8443/jwks.json")), settings.jwks());
        assertEquals(Optional.of(Path.of("/etc/bourne/vendordata-ca.pem")), settings.jwksCaFile());
        assertEquals(Duration.ofMinutes(5), settings.jwksRefresh());
        assertEquals(Duration.ofSeconds(10), settings.jwksMinRefresh());
        assertEquals(Set.of(IidSignatureAlgorithm.ES384, IidSignatureAlgorithm.PS512), settings.algorithms());
        assertEquals(Set.of(PROJECT, "other_project-2"), settings.projects());
        assertEquals(List.of("role", "tier"), settings.metadataKeys());
        assertEquals(Duration.ofMinutes(1), settings.maxClockSkew());
        assertEquals(Optional.of(new NovaCheck(URI.create("https://keystone.example.org:5000/v3"),
                new ApplicationCredentials("21dced0fd20347869b93710d2b98aae0", Path.of("/etc/bourne/nova-credential")),
                Optional.of("RegionOne"), "public", Optional.of(URI.create("https://nova.example.org:8774/v2.1")),
                Optional.of(Path.of("/etc/bourne/openstack-ca.pem")), Duration.ofSeconds(3))), settings.nova());
    }

    @Test
    void validate_passwordNova_defaults() throws Exception {
        OpenStackServerSettings settings = OpenStackServerSettings.validate(plugin(data("nova_check", true, "nova",
                passwordNova())), IidTestSupport.TD).orElseThrow();

        assertTrue(settings.novaCheck());
        NovaCheck nova = settings.nova().orElseThrow();
        assertEquals(new PasswordCredentials("bourne", "Default", Path.of("/etc/bourne/nova-password"), "admin",
                "Default"), nova.credentials());
        assertEquals("internal", nova.endpointInterface());
        assertEquals(Optional.empty(), nova.region());
        assertEquals(Optional.empty(), nova.computeUrl());
        assertEquals(Optional.empty(), nova.caFile());
        assertEquals(Duration.ofSeconds(5), nova.timeout());
    }
}
