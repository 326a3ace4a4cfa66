package dev.bourne.core.config;

import static dev.bourne.core.config.ConfigTexts.SERVER_PLUGINS;
import static dev.bourne.core.config.ConfigTexts.serverBlock;
import static dev.bourne.core.config.ConfigTexts.serverErrors;
import static dev.bourne.core.config.ConfigTexts.validateServer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The {@code federation} and {@code oidc_discovery} blocks of the server configuration. */
class FederationSettingsTest {

    private static final String ISSUER = "jwt_issuer = \"https://oidc.example.org\"";
    private static final String OIDC = "oidc_discovery {\n cert_file = \"/etc/bourne/oidc.crt\"\n"
            + " key_file = \"/etc/bourne/oidc.key\"\n }";

    private static ServerSettings valid(String... lines) throws ConfigException {
        return validateServer(serverBlock(lines) + SERVER_PLUGINS).orElseThrow();
    }

    @Test
    void validate_emptyFederationBlock_defaults() throws Exception {
        ServerSettings s = valid("federation {\n }");

        assertEquals(new FederationSettings(Optional.empty(), Duration.ofSeconds(30), Duration.ofHours(1)),
                s.federation());
    }

    @Test
    void validate_emptyBundleEndpoint_httpsSpiffeOnDefaults() throws Exception {
        ServerSettings s = valid("federation {\n bundle_endpoint {\n }\n }");

        BundleEndpointSettings endpoint = s.federation().bundleEndpoint().orElseThrow();
        assertEquals(new BundleEndpointSettings("0.0.0.0", 8443, Duration.ofMinutes(5), Optional.empty()), endpoint);
        assertEquals("https_spiffe", endpoint.profile());
    }

    @Test
    void validate_everyFederationKey_read() throws Exception {
        ServerSettings s = valid("federation {\n bundle_endpoint {\n address = \"::1\"\n port = 9443\n"
                + " refresh_hint = \"1m\"\n profile \"https_web\" {\n cert_file = \"/etc/bourne/federation.crt\"\n"
                + " key_file = \"/etc/bourne/federation.key\"\n }\n }\n min_refresh_interval = \"10s\"\n"
                + " max_refresh_interval = \"2h\"\n }");

        assertEquals(new FederationSettings(Optional.of(new BundleEndpointSettings("::1", 9443, Duration.ofMinutes(1),
                Optional.of(new WebServingCertificate(Path.of("/etc/bourne/federation.crt"),
                        Path.of("/etc/bourne/federation.key"))))), Duration.ofSeconds(10), Duration.ofHours(2)),
                s.federation());
        assertEquals("https_web", s.federation().bundleEndpoint().orElseThrow().profile());
    }

    @Test
    void validate_explicitHttpsSpiffeProfile_read() throws Exception {
        ServerSettings s = valid("federation {\n bundle_endpoint {\n profile \"https_spiffe\" {}\n }\n }");

        assertEquals(Optional.empty(), s.federation().bundleEndpoint().orElseThrow().httpsWeb());
    }

    @Test
    void validate_oidcDiscovery_readWithDefaults() throws Exception {
        ServerSettings s = valid(ISSUER, OIDC);

        assertEquals(Optional.of(new OidcDiscoverySettings("0.0.0.0", 8444, Path.of("/etc/bourne/oidc.crt"),
                Path.of("/etc/bourne/oidc.key"))), s.oidcDiscovery());
        assertEquals(Optional.of(URI.create("https://oidc.example.org")), s.jwtIssuer());
    }

    @Test
    void validate_oidcDiscoveryAllKeys_read() throws Exception {
        ServerSettings s = valid("jwt_issuer = \"https://oidc.example.org/bourne\"", "oidc_discovery {\n"
                + " address = \"127.0.0.1\"\n port = 9444\n cert_file = \"c.pem\"\n key_file = \"k.pem\"\n }");

        assertEquals(Optional.of(new OidcDiscoverySettings("127.0.0.1", 9444, Path.of("c.pem"), Path.of("k.pem"))),
                s.oidcDiscovery());
    }

    static Stream<Arguments> singleErrors() {
        return Stream.of(
                Arguments.of("federationNotBlock", new String[] {"federation = true"},
                        "server.federation: expected a block, got bool true"),
                Arguments.of("federatesWithInFile",
                        new String[] {"federation {\n federates_with \"other.org\" {\n }\n }"},
                        "server.federation.federates_with: " + FederationSections.FEDERATES_WITH_IN_FILE),
                Arguments.of("federationUnknownKey", new String[] {"federation {\n min_refresh_intreval = \"1m\"\n }"},
                        "server.federation.min_refresh_intreval: unknown key (did you mean \"min_refresh_interval\"?)"),
                Arguments.of("minAboveMax", new String[] {"federation {\n min_refresh_interval = \"2h\"\n }"},
                        "server.federation.min_refresh_interval: must not be more than max_refresh_interval (1h),"
                                + " got 2h"),
                Arguments.of("minBelowFloor", new String[] {"federation {\n min_refresh_interval = \"500ms\"\n }"},
                        "server.federation.min_refresh_interval: must be between 1s and 24h, got 500ms"),
                Arguments.of("maxAboveCeiling", new String[] {"federation {\n max_refresh_interval = \"25h\"\n }"},
                        "server.federation.max_refresh_interval: must be between 1s and 24h, got 25h"),
                Arguments.of("maxNotDuration", new String[] {"federation {\n max_refresh_interval = 60\n }"},
                        "server.federation.max_refresh_interval: expected a duration string such as \"1h30m\", got"
                                + " number 60"),
                Arguments.of("hintTooShort", new String[] {"federation {\n bundle_endpoint {\n refresh_hint = \"5s\"\n"
                        + " }\n }"},
                        "server.federation.bundle_endpoint.refresh_hint: must be between 10s and 24h, got 5s"),
                Arguments.of("hintTooLong", new String[] {"federation {\n bundle_endpoint {\n refresh_hint = \"48h\"\n"
                        + " }\n }"},
                        "server.federation.bundle_endpoint.refresh_hint: must be between 10s and 24h, got 48h"),
                Arguments.of("hintNegative", new String[] {"federation {\n bundle_endpoint {\n refresh_hint = \"-1m\"\n"
                        + " }\n }"},
                        "server.federation.bundle_endpoint.refresh_hint: must be positive, got \"-1m\""),
                Arguments.of("endpointHostName", new String[] {"federation {\n bundle_endpoint {\n"
                        + " address = \"localhost\"\n }\n }"},
                        "server.federation.bundle_endpoint.address: " + FederationSections.IP_ADDRESS
                                + "\"localhost\""),
                Arguments.of("endpointPortZero", new String[] {"federation {\n bundle_endpoint {\n port = 0\n }\n }"},
                        "server.federation.bundle_endpoint.port: must be between 1 and 65535, got 0"),
                Arguments.of("endpointPortIsBindPort", new String[] {"federation {\n bundle_endpoint {\n"
                        + " port = 8081\n }\n }"},
                        "server.federation.bundle_endpoint.port: is the port of server.bind_port too; each listener"
                                + " needs its own"),
                Arguments.of("endpointUnknownKey", new String[] {"federation {\n bundle_endpoint {\n"
                        + " bind_port = 1\n }\n }"},
                        "server.federation.bundle_endpoint.bind_port: unknown key"),
                Arguments.of("profileUnknown", new String[] {"federation {\n bundle_endpoint {\n"
                        + " profile \"https_spife\" {}\n }\n }"},
                        "server.federation.bundle_endpoint.profile.https_spife: unknown bundle endpoint profile"
                                + " (did you mean \"https_spiffe\"?); known: https_spiffe, https_web"),
                Arguments.of("profileWithoutLabel", new String[] {"federation {\n bundle_endpoint {\n"
                        + " profile {\n cert_file = \"c\"\n key_file = \"k\"\n }\n }\n }"},
                        "server.federation.bundle_endpoint.profile: " + FederationSections.PROFILE_NEEDS_LABEL),
                Arguments.of("profileString", new String[] {"federation {\n bundle_endpoint {\n"
                        + " profile = \"https_web\"\n }\n }"},
                        "server.federation.bundle_endpoint.profile: expected a block, got string \"https_web\""),
                Arguments.of("twoProfiles", new String[] {"federation {\n bundle_endpoint {\n"
                        + " profile \"https_spiffe\" {}\n profile \"https_web\" {\n cert_file = \"c\"\n"
                        + " key_file = \"k\"\n }\n }\n }"},
                        "server.federation.bundle_endpoint.profile: exactly one profile is allowed, found 2"
                                + " (https_spiffe, https_web)"),
                Arguments.of("httpsWebWithoutKey", new String[] {"federation {\n bundle_endpoint {\n"
                        + " profile \"https_web\" {\n cert_file = \"c\"\n }\n }\n }"},
                        "server.federation.bundle_endpoint.profile.https_web.key_file: is required"),
                Arguments.of("httpsWebEmptyCert", new String[] {"federation {\n bundle_endpoint {\n"
                        + " profile \"https_web\" {\n cert_file = \"\"\n key_file = \"k\"\n }\n }\n }"},
                        "server.federation.bundle_endpoint.profile.https_web.cert_file: must not be empty"),
                Arguments.of("httpsSpiffeWithFiles", new String[] {"federation {\n bundle_endpoint {\n"
                        + " profile \"https_spiffe\" {\n endpoint_spiffe_id = \"x\"\n }\n }\n }"},
                        "server.federation.bundle_endpoint.profile.https_spiffe.endpoint_spiffe_id: unknown key"),
                Arguments.of("oidcWithoutIssuer", new String[] {OIDC},
                        "server.oidc_discovery: " + FederationSections.OIDC_NEEDS_ISSUER),
                Arguments.of("oidcHttpIssuer", new String[] {"jwt_issuer = \"http://oidc.example.org\"", OIDC},
                        "server.jwt_issuer: " + FederationSections.OIDC_ISSUER_HTTPS),
                Arguments.of("oidcIssuerQuery", new String[] {"jwt_issuer = \"https://oidc.example.org/?a=b\"", OIDC},
                        "server.jwt_issuer: " + FederationSections.OIDC_ISSUER_PARTS),
                Arguments.of("oidcIssuerFragment", new String[] {"jwt_issuer = \"https://oidc.example.org/#x\"", OIDC},
                        "server.jwt_issuer: " + FederationSections.OIDC_ISSUER_PARTS),
                Arguments.of("oidcIssuerUserInfo", new String[] {"jwt_issuer = \"https://u@oidc.example.org\"", OIDC},
                        "server.jwt_issuer: " + FederationSections.OIDC_ISSUER_PARTS),
                Arguments.of("oidcWithoutCert", new String[] {ISSUER, "oidc_discovery {\n key_file = \"k\"\n }"},
                        "server.oidc_discovery.cert_file: is required"),
                Arguments.of("oidcWithoutKey", new String[] {ISSUER, "oidc_discovery {\n cert_file = \"c\"\n }"},
                        "server.oidc_discovery.key_file: is required"),
                Arguments.of("oidcHostName", new String[] {ISSUER, "oidc_discovery {\n address = \"oidc.example.org\"\n"
                        + " cert_file = \"c\"\n key_file = \"k\"\n }"},
                        "server.oidc_discovery.address: " + FederationSections.IP_ADDRESS + "\"oidc.example.org\""),
                Arguments.of("oidcPortTooLarge", new String[] {ISSUER, "oidc_discovery {\n port = 70000\n"
                        + " cert_file = \"c\"\n key_file = \"k\"\n }"},
                        "server.oidc_discovery.port: must be between 1 and 65535, got 70000"),
                Arguments.of("oidcPortIsBundlePort", new String[] {ISSUER, "oidc_discovery {\n port = 8443\n"
                        + " cert_file = \"c\"\n key_file = \"k\"\n }", "federation {\n bundle_endpoint {}\n }"},
                        "server.oidc_discovery.port: is the port of server.federation.bundle_endpoint.port too; each"
                                + " listener needs its own"),
                Arguments.of("oidcPortIsBindPort", new String[] {ISSUER, "oidc_discovery {\n port = 8081\n"
                        + " cert_file = \"c\"\n key_file = \"k\"\n }"},
                        "server.oidc_discovery.port: is the port of server.bind_port too; each listener needs its own"),
                Arguments.of("oidcUnknownKey", new String[] {ISSUER, "oidc_discovery {\n cert_file = \"c\"\n"
                        + " key_file = \"k\"\n domains = [\"a\"]\n }"},
                        "server.oidc_discovery.domains: unknown key"),
                Arguments.of("oidcTwice", new String[] {ISSUER, "oidc_discovery {\n cert_file = \"c\"\n"
                        + " key_file = \"k\"\n }\n oidc_discovery {\n cert_file = \"c\"\n key_file = \"k\"\n }"},
                        "server.oidc_discovery: is declared 2 times; write it once"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("singleErrors")
    void validate_oneProblem_reportsExactlyIt(String name, String[] lines, String expected) {
        assertEquals(List.of("server.conf: " + expected), serverErrors(serverBlock(lines) + SERVER_PLUGINS));
    }

    @Test
    void validate_severalProblems_allReported() {
        List<String> errors = serverErrors(serverBlock("federation {\n bundle_endpoint {\n port = 0\n"
                + " refresh_hint = \"1s\"\n profile \"ftp\" {}\n }\n max_refresh_interval = \"48h\"\n }", OIDC)
                + SERVER_PLUGINS);

        assertEquals(List.of(
                "server.conf: server.federation.bundle_endpoint.port: must be between 1 and 65535, got 0",
                "server.conf: server.federation.bundle_endpoint.refresh_hint: must be between 10s and 24h, got 1s",
                "server.conf: server.federation.bundle_endpoint.profile.ftp: unknown bundle endpoint profile; known:"
                        + " https_spiffe, https_web",
                "server.conf: server.federation.max_refresh_interval: must be between 1s and 24h, got 48h",
                "server.conf: server.oidc_discovery: " + FederationSections.OIDC_NEEDS_ISSUER), errors);
    }

    @Test
    void clampRefresh_boundsThePeersHint() {
        FederationSettings settings = FederationSettings.DEFAULTS;

        assertEquals(Duration.ofSeconds(30), settings.clampRefresh(Optional.of(Duration.ofSeconds(1))));
        assertEquals(Duration.ofMinutes(5), settings.clampRefresh(Optional.of(Duration.ofMinutes(5))));
        assertEquals(Duration.ofHours(1), settings.clampRefresh(Optional.of(Duration.ofDays(7))));
        assertEquals(Duration.ofHours(1), settings.clampRefresh(Optional.empty()));
    }

    @Test
    void federationSettings_minAboveMax_rejected() {
        assertThrows(IllegalArgumentException.class,
                () -> new FederationSettings(Optional.empty(), Duration.ofHours(2), Duration.ofHours(1)));
    }
}
