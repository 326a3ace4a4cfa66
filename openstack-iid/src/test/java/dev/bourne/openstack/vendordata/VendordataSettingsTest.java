package dev.bourne.openstack.vendordata;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import dev.bourne.core.config.ConfigError;
import dev.bourne.core.config.ConfigResult;
import dev.bourne.core.config.LogLevel;
import dev.bourne.core.keymanager.KeyType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The {@code vendordata} block and its plugins: defaults, and every error with its exact message, all at once. */
class VendordataSettingsTest {
    static final String BLOCK = """
            vendordata {
                data_dir = "/var/lib/bourne/vendordata"
                issuer = "https://vendordata.example.org"
                audience = ["spiffe://example.org/spire/server"]
                tls_cert_file = "/etc/bourne/vendordata/tls.crt"
                tls_key_file = "/etc/bourne/vendordata/tls.key"
                auth_token_file = "/etc/bourne/vendordata/token"
            %s}
            """;
    static final String MEMORY = """
            plugins {
                KeyManager "memory" {
                    plugin_data {
                    }
                }
            }
            """;

    @TempDir
    Path dir;

    private ConfigResult<VendordataSettings> load(String text) throws Exception {
        Path file = dir.resolve("vendordata.conf");
        Files.writeString(file, text);
        return VendordataSettings.load(file);
    }

    private List<String> errors(String text) throws Exception {
        ConfigResult<VendordataSettings> result = load(text);
        return result.errors().stream().map(ConfigError::toString)
                .map(line -> line.substring(dir.resolve("vendordata.conf").toString().length() + 2)).toList();
    }

    /** The base block with {@code lines} added inside it, and {@code rest} after it. */
    static String config(String lines, String rest) {
        return String.format(BLOCK, lines) + rest;
    }

    @Test
    void minimal_defaults() throws Exception {
        VendordataSettings settings = load(config("", MEMORY)).orElseThrow();

        assertEquals("0.0.0.0", settings.bindAddress());
        assertEquals(8443, settings.bindPort());
        assertEquals(Path.of("/var/lib/bourne/vendordata"), settings.dataDir());
        assertEquals("https://vendordata.example.org", settings.issuer());
        assertEquals(List.of("spiffe://example.org/spire/server"), settings.audience());
        assertEquals(Duration.ofMinutes(5), settings.documentTtl());
        assertEquals(KeyType.EC_P256, settings.keyType());
        assertEquals(Duration.ofHours(24), settings.keyLifetime());
        assertEquals(Optional.empty(), settings.clientCaFile());
        assertEquals(Optional.of(Path.of("/etc/bourne/vendordata/token")), settings.authTokenFile());
        assertEquals(LogLevel.INFO, settings.logLevel());
        assertEquals("memory", settings.keyManager().name());
    }

    @Test
    void everySetting_read() throws Exception {
        VendordataSettings settings = load(config("""
                bind_address = "::"
                bind_port = "9443"
                document_ttl = "10m"
                key_type = "rsa-2048"
                key_lifetime = "1h"
                client_ca_file = "/etc/bourne/vendordata/nova-ca.pem"
                log_level = "debug"
                """, MEMORY)).orElseThrow();

        assertEquals("::", settings.bindAddress());
        assertEquals(9443, settings.bindPort());
        assertEquals(Duration.ofMinutes(10), settings.documentTtl());
        assertEquals(KeyType.RSA_2048, settings.keyType());
        assertEquals(Duration.ofHours(1), settings.keyLifetime());
        assertEquals(Optional.of(Path.of("/etc/bourne/vendordata/nova-ca.pem")), settings.clientCaFile());
        assertEquals(LogLevel.DEBUG, settings.logLevel());
    }

    @Test
    void clientCaWithoutToken_valid() throws Exception {
        String text = config("", MEMORY).replace("auth_token_file = \"/etc/bourne/vendordata/token\"",
                "client_ca_file = \"/etc/bourne/vendordata/nova-ca.pem\"");

        VendordataSettings settings = load(text).orElseThrow();

        assertEquals(Optional.empty(), settings.authTokenFile());
    }

    @Test
    void pkcs11_valid() throws Exception {
        assertInstanceOf(ConfigResult.Valid.class, load(config("", """
                plugins {
                    KeyManager "pkcs11" {
                        plugin_data {
                            library = "/usr/lib64/pkcs11/libsofthsm2.so"
                            token_label = "bourne-vendordata"
                            pin_file = "/etc/bourne/vendordata/hsm-pin"
                        }
                    }
                }
                """)));
    }

    static Stream<Arguments> invalid() {
        return Stream.of(
                Arguments.of(MEMORY, List.of("vendordata: is required")),
                Arguments.of("server {\n}\n" + MEMORY, List.of(
                        "vendordata: is required (this file has a server or agent block: is it the server's or the"
                                + " agent's configuration?)",
                        "server: unknown key")),
                Arguments.of(config("", MEMORY).replace("data_dir = \"/var/lib/bourne/vendordata\"", ""),
                        List.of("vendordata.data_dir: is required")),
                Arguments.of(config("", MEMORY).replace("issuer = \"https://vendordata.example.org\"", ""),
                        List.of("vendordata.issuer: is required")),
                Arguments.of(config("", MEMORY).replace("issuer = \"https://vendordata.example.org\"",
                        "issuer = \"" + "i".repeat(257) + "\""),
                        List.of("vendordata.issuer: " + VendordataSettings.ISSUER_BOUNDS)),
                Arguments.of(config("", MEMORY).replace("audience = [\"spiffe://example.org/spire/server\"]", ""),
                        List.of("vendordata.audience: is required")),
                Arguments.of(config("", MEMORY).replace("[\"spiffe://example.org/spire/server\"]", "[]"),
                        List.of("vendordata.audience: " + VendordataSettings.AUDIENCE_REQUIRED)),
                Arguments.of(config("", MEMORY).replace("[\"spiffe://example.org/spire/server\"]",
                        "[\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\"]"),
                        List.of("vendordata.audience: " + VendordataSettings.AUDIENCE_TOO_MANY)),
                Arguments.of(config("", MEMORY).replace("[\"spiffe://example.org/spire/server\"]", "[\"a\", \"a\"]"),
                        List.of("vendordata.audience[1]: " + VendordataSettings.AUDIENCE_DUPLICATE)),
                Arguments.of(config("", MEMORY).replace("[\"spiffe://example.org/spire/server\"]", "[\"a\", \"\"]"),
                        List.of("vendordata.audience[1]: " + VendordataSettings.AUDIENCE_BOUNDS)),
                Arguments.of(config("", MEMORY).replace("[\"spiffe://example.org/spire/server\"]", "[\"a\", 1]"),
                        List.of("vendordata.audience[1]: expected a string, got number 1")),
                Arguments.of(config("document_ttl = \"11m\"\n", MEMORY),
                        List.of("vendordata.document_ttl: " + VendordataSettings.DOCUMENT_TTL_BOUNDS)),
                Arguments.of(config("document_ttl = \"1500ms\"\n", MEMORY),
                        List.of("vendordata.document_ttl: " + VendordataSettings.DOCUMENT_TTL_BOUNDS)),
                Arguments.of(config("document_ttl = 300\n", MEMORY),
                        List.of("vendordata.document_ttl: expected a duration string such as \"1h30m\", got number"
                                + " 300")),
                Arguments.of(config("key_lifetime = \"30m\"\n", MEMORY),
                        List.of("vendordata.key_lifetime: " + VendordataSettings.KEY_LIFETIME_BOUNDS)),
                Arguments.of(config("key_lifetime = \"9000h\"\n", MEMORY),
                        List.of("vendordata.key_lifetime: " + VendordataSettings.KEY_LIFETIME_BOUNDS)),
                Arguments.of(config("key_type = \"ed25519\"\n", MEMORY),
                        List.of("vendordata.key_type: must be one of ec-p256, ec-p384, rsa-2048, rsa-4096, got string"
                                + " \"ed25519\"")),
                Arguments.of(config("bind_address = \"localhost\"\n", MEMORY),
                        List.of("vendordata.bind_address: " + VendordataSettings.BIND_ADDRESS_NOT_IP)),
                Arguments.of(config("bind_port = 70000\n", MEMORY),
                        List.of("vendordata.bind_port: must be between 1 and 65535, got 70000")),
                Arguments.of(config("", MEMORY).replace("auth_token_file = \"/etc/bourne/vendordata/token\"", ""),
                        List.of("vendordata.auth_token_file: " + VendordataSettings.AUTHENTICATION_REQUIRED)),
                Arguments.of(config("", MEMORY).replace("tls_key_file = \"/etc/bourne/vendordata/tls.key\"", ""),
                        List.of("vendordata.tls_key_file: is required")),
                Arguments.of(config("tls_ca = \"/etc/ca.pem\"\n", MEMORY),
                        List.of("vendordata.tls_ca: unknown key")),
                Arguments.of(config("auth_token = \"s3cret-token\"\n", MEMORY),
                        List.of("vendordata.auth_token: unknown key")),
                Arguments.of(config("log_level = \"verbose\"\n", MEMORY),
                        List.of("vendordata.log_level: must be one of DEBUG, INFO, WARN, ERROR, got string"
                                + " \"verbose\"")),
                Arguments.of(config("", ""),
                        List.of("plugins.KeyManager: exactly one KeyManager plugin is required, found none")),
                Arguments.of(config("", """
                        plugins {
                            KeyManager "memory" { plugin_data {} }
                            KeyManager "disk" { plugin_data {} }
                        }
                        """), List.of("plugins.KeyManager: exactly one KeyManager plugin is required, found 2 (memory,"
                                + " disk)")),
                Arguments.of(config("", """
                        plugins {
                            KeyManager "memory" { plugin_data {} }
                            NodeAttestor "join_token" { plugin_data {} }
                        }
                        """), List.of("plugins.NodeAttestor: unknown plugin type for the vendordata service; known"
                                + " types: KeyManager")),
                Arguments.of(config("", """
                        plugins {
                            KeyManager "pkcs11" {
                                plugin_data {
                                    library = "/usr/lib64/pkcs11/libsofthsm2.so"
                                    pin = "1234"
                                }
                            }
                        }
                        """), List.of("plugins.KeyManager.pkcs11.plugin_data.token_label: is required",
                                "plugins.KeyManager.pkcs11.plugin_data.pin: "
                                        + dev.bourne.keymanager.pkcs11.Pkcs11Settings.INLINE_PIN,
                                "plugins.KeyManager.pkcs11.plugin_data: "
                                        + dev.bourne.keymanager.pkcs11.Pkcs11Settings.PIN_SOURCE_REQUIRED)),
                Arguments.of(config("", MEMORY + "health_checks {\n}\n"), List.of("health_checks: unknown key")),
                Arguments.of(config("document_ttl = \"1h\"\nkey_type = \"dsa\"\nbind_port = 0\n", ""), List.of(
                        "vendordata.bind_port: must be between 1 and 65535, got 0",
                        "vendordata.document_ttl: " + VendordataSettings.DOCUMENT_TTL_BOUNDS,
                        "vendordata.key_type: must be one of ec-p256, ec-p384, rsa-2048, rsa-4096, got string \"dsa\"",
                        "plugins.KeyManager: exactly one KeyManager plugin is required, found none")));
    }

    @ParameterizedTest
    @MethodSource("invalid")
    void invalid_everyErrorExactly(String text, List<String> expected) throws Exception {
        assertEquals(expected, errors(text));
    }

    @Test
    void secretLookingValue_neverQuoted() throws Exception {
        List<String> errors = errors(config("", MEMORY).replace("auth_token_file = \"/etc/bourne/vendordata/token\"",
                "auth_token_file = 12345"));

        assertEquals(1, errors.size());
        assertEquals(false, errors.get(0).contains("12345"), errors.get(0));
    }
}
