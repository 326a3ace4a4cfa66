package dev.bourne.core.config;

import dev.bourne.core.keymanager.KeyType;
import static dev.bourne.core.config.ConfigTexts.SERVER_PLUGINS;
import static dev.bourne.core.config.ConfigTexts.serverBlock;
import static dev.bourne.core.config.ConfigTexts.serverErrors;
import static dev.bourne.core.config.ConfigTexts.strings;
import static dev.bourne.core.config.ConfigTexts.validateServer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ServerSettingsTest {

    @Test
    void validate_minimalConfig_appliesSpireDefaults() throws Exception {
        ServerSettings s = validateServer(serverBlock() + SERVER_PLUGINS).orElseThrow();

        assertEquals("0.0.0.0", s.bindAddress());
        assertEquals(8081, s.bindPort());
        assertEquals(Path.of("/tmp/bourne-server/private/api.sock"), s.socketPath());
        assertEquals("example.org", s.trustDomain().name());
        assertEquals(Path.of("./.data"), s.dataDir());
        assertEquals(LogLevel.INFO, s.logLevel());
        assertEquals(LogFormat.TEXT, s.logFormat());
        assertEquals(Duration.ofHours(24), s.caTtl());
        assertEquals(Duration.ofHours(1), s.defaultX509SvidTtl());
        assertEquals(Duration.ofMinutes(5), s.defaultJwtSvidTtl());
        assertEquals(Duration.ofHours(1), s.agentTtl());
        assertEquals(KeyType.EC_P256, s.caKeyType());
        assertEquals(KeyType.EC_P256, s.jwtKeyType());
        assertEquals(Optional.empty(), s.jwtIssuer());
        assertEquals(Optional.empty(), s.caSubject());
        assertEquals(false, s.auditLogEnabled());
        assertEquals(HealthCheckSettings.DEFAULTS, s.healthChecks());
        assertEquals(Optional.empty(), s.prometheus());
        assertEquals(FederationSettings.DEFAULTS, s.federation());
        assertEquals(Optional.empty(), s.oidcDiscovery());
        assertEquals(List.of("DataStore sql", "KeyManager memory", "NodeAttestor join_token"),
                s.plugins().stream().map(p -> p.type() + " " + p.name()).collect(Collectors.toList()));
        assertEquals(List.of(), ((ConfigResult.Valid<ServerSettings>) validateServer(serverBlock() + SERVER_PLUGINS))
                .warnings());
    }

    @Test
    void validate_allKeysSet_readsEveryValue() throws Exception {
        String text = """
                server {
                    bind_address = "::"
                    bind_port = 9081
                    socket_path = "/run/bourne/server/private/api.sock"
                    trust_domain = "prod.example.org"
                    data_dir = "/var/lib/bourne/server"
                    log_level = "warn"
                    log_format = "json"
                    ca_ttl = "168h"
                    default_x509_svid_ttl = "2h"
                    default_jwt_svid_ttl = "10m"
                    agent_ttl = "30m"
                    ca_key_type = "rsa-4096"
                    jwt_key_type = "ec-p384"
                    jwt_issuer = "https://oidc.example.org"
                    audit_log_enabled = true
                    ca_subject {
                        country = ["DE"]
                        organization = ["Example"]
                        common_name = "Example CA"
                    }
                }
                health_checks {
                    listener_enabled = true
                    bind_address = "127.0.0.1"
                    bind_port = 8080
                    live_path = "/alive"
                    ready_path = "/readyz"
                }
                telemetry {
                    Prometheus {
                        host = "127.0.0.1"
                        port = 9988
                    }
                }
                """ + SERVER_PLUGINS;

        ServerSettings s = validateServer(text).orElseThrow();

        assertEquals(new ServerSettings("::", 9081, Path.of("/run/bourne/server/private/api.sock"), dev.bourne.core.spiffeid.TrustDomain.parse("prod.example.org"),
                Path.of("/var/lib/bourne/server"), LogLevel.WARN, LogFormat.JSON, Duration.ofHours(168), Duration.ofHours(2),
                Duration.ofMinutes(10), Duration.ofMinutes(30), KeyType.RSA_4096, KeyType.EC_P384,
                Optional.of(URI.create("https://oidc.example.org")),
                Optional.of(new CaSubject(List.of("DE"), List.of("Example"), "Example CA")), true,
                new HealthCheckSettings(true, "127.0.0.1", 8080, "/alive", "/readyz"),
                Optional.of(new PrometheusSettings("127.0.0.1", 9988)), s.plugins(), FederationSettings.DEFAULTS,
                Optional.empty()), s);
    }

    @Test
    void validate_spireSampleServerConf_valid() throws Exception {
        // The structure of SPIRE's conf/server/server.conf, with its quoted port and upstream authority.
        String text = """
                server {
                        bind_address = "127.0.0.1"
                        bind_port = "8081"
                        socket_path = "/tmp/spire-server/private/api.sock"
                        trust_domain = "example.org"
                        data_dir = "./.data"
                        log_level = "DEBUG"
                        ca_ttl = "168h"
                        default_x509_svid_ttl = "48h"
                        ca_subject {
                                country = ["US"]
                                organization = ["SPIFFE"]
                                common_name = ""
                        }
                }

                plugins {
                        DataStore "sql" {
                                plugin_data {
                                        database_type = "sqlite3"
                                        connection_string = "./.data/datastore.sqlite3"
                                }
                        }

                        NodeAttestor "join_token" {
                                plugin_data {
                                }
                        }

                        KeyManager "memory" {
                                plugin_data = {}
                        }

                        UpstreamAuthority "disk" {
                                plugin_data {
                                        key_file_path = "./conf/server/dummy_upstream_ca.key"
                                        cert_file_path = "./conf/server/dummy_upstream_ca.crt"
                                }
                        }
                }

                health_checks {
                        listener_enabled = true
                        bind_address = "0.0.0.0"
                        bind_port = "8080"
                        live_path = "/live"
                        ready_path = "/ready"
                }
                """;

        ConfigResult<ServerSettings> result = validateServer(text);

        ServerSettings s = result.orElseThrow();
        assertEquals(8081, s.bindPort());
        assertEquals(LogLevel.DEBUG, s.logLevel());
        assertEquals(Duration.ofHours(48), s.defaultX509SvidTtl());
        assertEquals(4, s.plugins().size());
        assertEquals(List.of("server.conf: server.ca_ttl: is less than 6 times default_x509_svid_ttl (48h): SVIDs issued"
                + " near a CA rotation get shorter lifetimes; set ca_ttl to 288h or more"),
                strings(((ConfigResult.Valid<ServerSettings>) result).warnings()));
    }

    static Stream<Arguments> singleErrors() {
        return Stream.of(
                Arguments.of("validate_missingTrustDomain_reported", new String[] {"-trust_domain"},
                        "server.trust_domain: is required"),
                Arguments.of("validate_missingDataDir_reported", new String[] {"-data_dir"}, "server.data_dir: is required"),
                Arguments.of("validate_bindPortNotNumber_reported", new String[] {"bind_port = \"abc\""},
                        "server.bind_port: expected a number, got string \"abc\""),
                Arguments.of("validate_bindPortZero_reported", new String[] {"bind_port = 0"},
                        "server.bind_port: must be between 1 and 65535, got 0"),
                Arguments.of("validate_bindPortTooLarge_reported", new String[] {"bind_port = \"70000\""},
                        "server.bind_port: must be between 1 and 65535, got 70000"),
                Arguments.of("validate_bindPortFraction_reported", new String[] {"bind_port = 80.5"},
                        "server.bind_port: expected a whole number, got number 80.5"),
                Arguments.of("validate_bindPortBool_reported", new String[] {"bind_port = true"},
                        "server.bind_port: expected a number, got bool true"),
                Arguments.of("validate_bindAddressHostName_reported", new String[] {"bind_address = \"localhost\""},
                        "server.bind_address: must be an IP address such as \"0.0.0.0\" or \"::\", got string \"localhost\""),
                Arguments.of("validate_trustDomainUppercase_reported", new String[] {"trust_domain = \"Example.org\""},
                        "server.trust_domain: is not a valid trust domain name: trust domain must be lowercase"),
                Arguments.of("validate_trustDomainWithPort_reported", new String[] {"trust_domain = \"example.org:443\""},
                        "server.trust_domain: is not a valid trust domain name: trust domain must not contain a port"),
                Arguments.of("validate_trustDomainSpiffeId_reported", new String[] {"trust_domain = \"spiffe://example.org\""},
                        "server.trust_domain: must be a trust domain name such as \"example.org\", not a SPIFFE ID"),
                Arguments.of("validate_trustDomainUnquoted_reported", new String[] {"trust_domain = example"},
                        "server.trust_domain: expected a string, got unquoted expression \"example\" (quote strings)"),
                Arguments.of("validate_trustDomainNumber_reported", new String[] {"trust_domain = 5"},
                        "server.trust_domain: expected a string, got number 5"),
                Arguments.of("validate_trustDomainEmpty_reported", new String[] {"trust_domain = \"\""},
                        "server.trust_domain: must not be empty"),
                Arguments.of("validate_logLevelUnknown_reported", new String[] {"log_level = \"verbose\""},
                        "server.log_level: must be one of DEBUG, INFO, WARN, ERROR, got string \"verbose\""),
                Arguments.of("validate_logFormatUnknown_reported", new String[] {"log_format = \"xml\""},
                        "server.log_format: must be one of text, json, got string \"xml\""),
                Arguments.of("validate_caKeyTypeUnknown_reported", new String[] {"ca_key_type = \"ec-p521\""},
                        "server.ca_key_type: must be one of ec-p256, ec-p384, rsa-2048, rsa-4096, got string \"ec-p521\""),
                Arguments.of("validate_jwtKeyTypeWrongCase_reported", new String[] {"jwt_key_type = \"EC-P256\""},
                        "server.jwt_key_type: must be one of ec-p256, ec-p384, rsa-2048, rsa-4096, got string \"EC-P256\""),
                Arguments.of("validate_caTtlNumber_reported", new String[] {"ca_ttl = 3600"},
                        "server.ca_ttl: expected a duration string such as \"1h30m\", got number 3600"),
                Arguments.of("validate_agentTtlZero_reported", new String[] {"agent_ttl = \"0s\""},
                        "server.agent_ttl: must be positive, got \"0s\""),
                Arguments.of("validate_svidTtlNotBelowCaTtl_reported", new String[] {"default_x509_svid_ttl = \"24h\""},
                        "server.default_x509_svid_ttl: must be less than ca_ttl (24h), got 24h"),
                Arguments.of("validate_jwtIssuerNotUrl_reported", new String[] {"jwt_issuer = \"oidc.example.org\""},
                        "server.jwt_issuer: must be an https or http URL with a host, such as \"https://oidc.example.org\""),
                Arguments.of("validate_jwtIssuerNoHost_reported", new String[] {"jwt_issuer = \"https:///path\""},
                        "server.jwt_issuer: must be an https or http URL with a host, such as \"https://oidc.example.org\""),
                Arguments.of("validate_auditLogNotBool_reported", new String[] {"audit_log_enabled = \"yes\""},
                        "server.audit_log_enabled: expected true or false, got string \"yes\""),
                Arguments.of("validate_unknownKey_suggestsClosest", new String[] {"trust_domian = \"example.org\""},
                        "server.trust_domian: unknown key (did you mean \"trust_domain\"?)"),
                Arguments.of("validate_unknownKeyFarFromAll_reportedWithoutHint", new String[] {"zzzz = true"},
                        "server.zzzz: unknown key"),
                Arguments.of("validate_caSubjectCountryNotList_reported", new String[] {"ca_subject {\n country = \"US\"\n }"},
                        "server.ca_subject.country: expected a list of strings, got string \"US\""),
                Arguments.of("validate_caSubjectOrganizationElement_reported",
                        new String[] {"ca_subject {\n organization = [\"a\", 2]\n }"},
                        "server.ca_subject.organization[1]: expected a string, got number 2"),
                Arguments.of("validate_caSubjectUnknownKey_reported",
                        new String[] {"ca_subject {\n contry = [\"US\"]\n }"},
                        "server.ca_subject.contry: unknown key (did you mean \"country\"?)"),
                Arguments.of("validate_caSubjectNotBlock_reported", new String[] {"ca_subject = \"US\""},
                        "server.ca_subject: expected a block, got string \"US\""),
                Arguments.of("validate_socketPathTooLong_reported", new String[] {"socket_path = \"/" + "s".repeat(107) + "\""},
                        "server.socket_path: is longer than the 107 bytes a Unix socket path may have"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("singleErrors")
    void validate_oneProblem_reportsExactlyIt(String name, String[] lines, String expected) {
        assertEquals(List.of("server.conf: " + expected), serverErrors(serverBlock(lines) + SERVER_PLUGINS));
    }

    static Stream<Arguments> durations() {
        return Stream.of(
                Arguments.of("\"\"", "server.ca_ttl: must not be empty"),
                Arguments.of("\"5\"", "server.ca_ttl: invalid duration \"5\": missing unit (ns, us, ms, s, m, h)"),
                Arguments.of("\"1d\"", "server.ca_ttl: invalid duration \"1d\": unknown unit \"d\" (ns, us, ms, s, m, h)"),
                Arguments.of("\"-5m\"", "server.ca_ttl: must be positive, got \"-5m\""),
                Arguments.of("\"1h-5m\"", "server.ca_ttl: invalid duration \"1h-5m\": unexpected \"-\" at offset 2"),
                Arguments.of("\"999999999999h\"", "server.ca_ttl: invalid duration \"999999999999h\": out of range"));
    }

    @ParameterizedTest(name = "ca_ttl = {0}")
    @MethodSource("durations")
    void validate_invalidDuration_reported(String value, String expected) {
        assertEquals(List.of("server.conf: " + expected), serverErrors(serverBlock("ca_ttl = " + value) + SERVER_PLUGINS));
    }

    static Stream<Arguments> validDurations() {
        return Stream.of(
                Arguments.of("1h", Duration.ofHours(1)),
                Arguments.of("5m", Duration.ofMinutes(5)),
                Arguments.of("30s", Duration.ofSeconds(30)),
                Arguments.of("1h30m", Duration.ofMinutes(90)),
                Arguments.of("500ms", Duration.ofMillis(500)));
    }

    @ParameterizedTest(name = "default_jwt_svid_ttl = {0}")
    @MethodSource("validDurations")
    void validate_validDuration_parsed(String value, Duration expected) throws Exception {
        ServerSettings s = validateServer(serverBlock("default_jwt_svid_ttl = \"" + value + "\"") + SERVER_PLUGINS)
                .orElseThrow();

        assertEquals(expected, s.defaultJwtSvidTtl());
    }

    @Test
    void validate_fiveProblems_reportsAllFive() {
        String text = serverBlock("-trust_domain", "bind_port = \"abc\"", "log_level = \"loud\"", "ca_tll = \"1h\"")
                + """
                plugins {
                    KeyManager "memory" {
                        plugin_data {}
                    }
                    NodeAttestor "join_token" {
                        plugin_data {}
                    }
                }
                """;

        assertEquals(List.of(
                "server.conf: server.bind_port: expected a number, got string \"abc\"",
                "server.conf: server.trust_domain: is required",
                "server.conf: server.log_level: must be one of DEBUG, INFO, WARN, ERROR, got string \"loud\"",
                "server.conf: server.ca_tll: unknown key (did you mean \"ca_ttl\"?)",
                "server.conf: plugins.DataStore: exactly one DataStore plugin is required, found none"),
                serverErrors(text));
    }

    @Test
    void validate_invalid_throwsConfigExceptionListingEveryError() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> validateServer(serverBlock("-trust_domain", "-data_dir") + SERVER_PLUGINS).orElseThrow());

        assertEquals("server.conf: server.trust_domain: is required\nserver.conf: server.data_dir: is required",
                e.getMessage());
        assertEquals(2, e.errors().size());
    }

    @Test
    void validate_missingServerBlock_reportedOnce() {
        assertEquals(List.of("server.conf: server: is required"), serverErrors(SERVER_PLUGINS));
    }

    @Test
    void validate_agentFileAsServer_hintsAtMixUp() {
        assertEquals(List.of(
                "server.conf: server: is required (this file has an agent block: is it an agent configuration?)",
                "server.conf: agent: unknown key"),
                serverErrors("agent {\n  data_dir = \"x\"\n}\n" + SERVER_PLUGINS));
    }

    @Test
    void validate_serverBlockTwice_reported() {
        assertEquals(List.of("server.conf: server: is declared 2 times; write it once"),
                serverErrors(serverBlock() + serverBlock() + SERVER_PLUGINS));
    }

    @Test
    void validate_unknownTopLevelKey_suggestsClosest() {
        assertEquals(List.of("server.conf: health_check: unknown key (did you mean \"health_checks\"?)"),
                serverErrors(serverBlock() + "health_check {\n  listener_enabled = true\n}\n" + SERVER_PLUGINS));
    }

    @Test
    void validate_healthChecksProblems_reported() {
        String text = serverBlock() + SERVER_PLUGINS + """
                health_checks {
                    listener_enabled = 1
                    bind_port = 0
                    live_path = "live"
                    readypath = "/ready"
                }
                """;

        assertEquals(List.of(
                "server.conf: health_checks.listener_enabled: expected true or false, got number 1",
                "server.conf: health_checks.bind_port: must be between 1 and 65535, got 0",
                "server.conf: health_checks.live_path: must start with \"/\"",
                "server.conf: health_checks.readypath: unknown key (did you mean \"ready_path\"?)"),
                serverErrors(text));
    }

    @Test
    void validate_telemetryProblems_reported() {
        String text = serverBlock() + SERVER_PLUGINS + """
                telemetry {
                    Prometheus {
                        host = "127.0.0.1"
                    }
                    DogStatsd {
                        address = "localhost:8125"
                    }
                }
                """;

        assertEquals(List.of(
                "server.conf: telemetry.Prometheus.port: is required",
                "server.conf: telemetry.DogStatsd: unknown key"),
                serverErrors(text));
    }

    static Stream<Arguments> pluginProblems() {
        String dataStore = """
                    DataStore "sql" {
                        plugin_data {
                            database_type = "sqlite3"
                            connection_string = "./.data/datastore.sqlite3"
                        }
                    }
                """;
        String keyManager = "  KeyManager \"memory\" {\n    plugin_data {}\n  }\n";
        String joinToken = "  NodeAttestor \"join_token\" {\n    plugin_data {}\n  }\n";
        return Stream.of(
                Arguments.of("validate_noPluginsBlock_reportsEachRequiredType", "", List.of(
                        "plugins.DataStore: exactly one DataStore plugin is required, found none",
                        "plugins.KeyManager: exactly one KeyManager plugin is required, found none",
                        "plugins.NodeAttestor: at least one NodeAttestor plugin is required, found none")),
                Arguments.of("validate_twoKeyManagers_reported",
                        "plugins {\n" + dataStore + keyManager + joinToken + "  KeyManager \"disk\" {\n  }\n}\n", List.of(
                        "plugins.KeyManager: exactly one KeyManager plugin is required, found 2 (memory, disk)")),
                Arguments.of("validate_noNodeAttestor_reported", "plugins {\n" + dataStore + keyManager + "}\n", List.of(
                        "plugins.NodeAttestor: at least one NodeAttestor plugin is required, found none")),
                Arguments.of("validate_twoUpstreamAuthorities_reported", "plugins {\n" + dataStore + keyManager + joinToken
                        + "  UpstreamAuthority \"disk\" {\n  }\n  UpstreamAuthority \"pkcs11\" {\n  }\n}\n", List.of(
                        "plugins.UpstreamAuthority: at most one UpstreamAuthority plugin is allowed, found 2 (disk, pkcs11)")),
                Arguments.of("validate_unknownPluginType_listsKnownTypes",
                        "plugins {\n" + dataStore + keyManager + joinToken + "  Notifier \"k8sbundle\" {\n  }\n}\n", List.of(
                        "plugins.Notifier: unknown plugin type for the server; known types: DataStore, KeyManager, "
                                + "NodeAttestor, UpstreamAuthority")),
                Arguments.of("validate_misspeltPluginType_suggestsClosest",
                        "plugins {\n" + dataStore + keyManager + joinToken + "  NodeAtestor \"tpm\" {\n  }\n}\n", List.of(
                        "plugins.NodeAtestor: unknown plugin type for the server (did you mean \"NodeAttestor\"?); known types: "
                                + "DataStore, KeyManager, NodeAttestor, UpstreamAuthority")),
                Arguments.of("validate_unknownPluginName_listsKnownNames",
                        "plugins {\n" + dataStore + joinToken + "  KeyManager \"hsm\" {\n  }\n}\n", List.of(
                        "plugins.KeyManager.hsm: unknown KeyManager plugin; known: disk, memory, pkcs11",
                        "plugins.KeyManager: exactly one KeyManager plugin is required, found none")),
                Arguments.of("validate_misspeltPluginName_suggestsClosest",
                        "plugins {\n" + dataStore + keyManager + "  NodeAttestor \"join-token\" {\n  }\n}\n", List.of(
                        "plugins.NodeAttestor.join-token: unknown NodeAttestor plugin (did you mean \"join_token\"?); known: "
                                + "join_token, openstack_iid, tpm",
                        "plugins.NodeAttestor: at least one NodeAttestor plugin is required, found none")),
                Arguments.of("validate_externalPlugin_rejected", "plugins {\n" + dataStore + keyManager + joinToken
                        + "  NodeAttestor \"tpm\" {\n    plugin_cmd = \"/usr/bin/tpm-plugin\"\n    plugin_checksum = \"ab\"\n"
                        + "  }\n}\n", List.of(
                        "plugins.NodeAttestor.tpm.plugin_cmd: external plugins are not supported; Bourne's plugins are built in",
                        "plugins.NodeAttestor.tpm.plugin_checksum: external plugins are not supported; Bourne's plugins are "
                                + "built in")),
                Arguments.of("validate_samePluginTwice_reported",
                        "plugins {\n" + dataStore + keyManager + keyManager + joinToken + "}\n", List.of(
                        "plugins.KeyManager.memory: is declared 2 times; write it once",
                        "plugins.KeyManager: exactly one KeyManager plugin is required, found none")),
                Arguments.of("validate_pluginWithoutLabel_reported",
                        "plugins {\n" + dataStore + joinToken + "  KeyManager {\n    plugin_data {}\n  }\n}\n", List.of(
                        "plugins.KeyManager: a plugin block needs a name label, such as KeyManager \"disk\" { plugin_data { ..."
                                + " } }",
                        "plugins.KeyManager: exactly one KeyManager plugin is required, found none")),
                Arguments.of("validate_pluginUnknownKey_reported", "plugins {\n" + dataStore + joinToken
                        + "  KeyManager \"memory\" {\n    plugin_dat {}\n  }\n}\n", List.of(
                        "plugins.KeyManager.memory.plugin_dat: unknown key (did you mean \"plugin_data\"?)")),
                Arguments.of("validate_pluginDataNotBlock_reported", "plugins {\n" + dataStore + joinToken
                        + "  KeyManager \"memory\" {\n    plugin_data = \"x\"\n  }\n}\n", List.of(
                        "plugins.KeyManager.memory.plugin_data: expected a block, got string \"x\"")),
                Arguments.of("validate_pluginEnabledNotBool_reported", "plugins {\n" + dataStore + joinToken
                        + "  KeyManager \"memory\" {\n    enabled = \"no\"\n  }\n}\n", List.of(
                        "plugins.KeyManager.memory.enabled: expected true or false, got string \"no\"")),
                Arguments.of("validate_sqlDatabaseTypeUnknown_reported", "plugins {\n" + keyManager + joinToken
                        + "  DataStore \"sql\" {\n    plugin_data {\n      database_type = \"mysql\"\n"
                        + "      connection_string = \"x\"\n    }\n  }\n}\n", List.of(
                        "plugins.DataStore.sql.plugin_data.database_type: must be one of sqlite3, postgres, got string "
                                + "\"mysql\"")),
                Arguments.of("validate_sqlSettingsMissing_reported", "plugins {\n" + keyManager + joinToken
                        + "  DataStore \"sql\" {\n  }\n}\n", List.of(
                        "plugins.DataStore.sql.plugin_data.database_type: is required",
                        "plugins.DataStore.sql.plugin_data.connection_string: is required")),
                Arguments.of("validate_sqlConnectionStringWrongType_valueRedacted", "plugins {\n" + keyManager + joinToken
                        + "  DataStore \"sql\" {\n    plugin_data {\n      database_type = \"postgres\"\n"
                        + "      connection_string = 5432\n    }\n  }\n}\n", List.of(
                        "plugins.DataStore.sql.plugin_data.connection_string: expected a string, got number [redacted]")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("pluginProblems")
    void validate_pluginProblem_reported(String name, String plugins, List<String> expected) {
        assertEquals(expected.stream().map(e -> "server.conf: " + e).collect(Collectors.toList()),
                serverErrors(serverBlock() + plugins));
    }

    @Test
    void validate_disabledPlugin_skipped() throws Exception {
        String text = serverBlock() + SERVER_PLUGINS.replace("plugins {", """
                plugins {
                    KeyManager "disk" {
                        enabled = false
                        plugin_data {
                            keys_path = "./.data/keys.json"
                        }
                    }
                """);

        ServerSettings s = validateServer(text).orElseThrow();

        assertEquals(List.of("sql", "memory", "join_token"),
                s.plugins().stream().map(PluginConfig::name).collect(Collectors.toList()));
    }

    @Test
    void validate_pluginData_keptAsImmutableRawValues() throws Exception {
        String text = serverBlock() + SERVER_PLUGINS.replace("plugins {", """
                plugins {
                    NodeAttestor "tpm" {
                        plugin_data {
                            ek_trust = "enrolled"
                            pcrs = [0, 7]
                            policy {
                                name = "boot"
                            }
                        }
                    }
                """);

        PluginConfig tpm = validateServer(text).orElseThrow().plugins().stream()
                .filter(p -> p.name().equals("tpm")).findFirst().orElseThrow();

        assertEquals("plugins.NodeAttestor.tpm.plugin_data", tpm.keyPath());
        assertEquals(Map.of("ek_trust", "enrolled", "pcrs", List.of(0.0, 7.0), "policy", Map.of("name", "boot")),
                tpm.pluginData());
        assertThrows(UnsupportedOperationException.class, () -> tpm.pluginData().put("x", 1));
        assertInstanceOf(ConfigResult.Valid.class, validateServer(text));
    }
}
