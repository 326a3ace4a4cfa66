package dev.bourne.core.config;

import dev.bourne.core.keymanager.KeyType;
import static dev.bourne.core.config.ConfigTexts.AGENT_PLUGINS;
import static dev.bourne.core.config.ConfigTexts.agentBlock;
import static dev.bourne.core.config.ConfigTexts.agentErrors;
import static dev.bourne.core.config.ConfigTexts.strings;
import static dev.bourne.core.config.ConfigTexts.validateAgent;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class AgentSettingsTest {

    @Test
    void validate_minimalConfig_appliesSpireDefaults() throws Exception {
        AgentSettings a = validateAgent(agentBlock() + AGENT_PLUGINS).orElseThrow();

        assertEquals(Path.of("./.data"), a.dataDir());
        assertEquals(LogLevel.INFO, a.logLevel());
        assertEquals(LogFormat.TEXT, a.logFormat());
        assertEquals("127.0.0.1", a.serverAddress());
        assertEquals(8081, a.serverPort());
        assertEquals(Path.of("/tmp/bourne-agent/public/api.sock"), a.socketPath());
        assertEquals(Optional.of(Path.of("./conf/agent/bundle.pem")), a.trustBundlePath());
        assertEquals(Optional.empty(), a.trustBundleUrl());
        assertFalse(a.insecureBootstrap());
        assertEquals("example.org", a.trustDomain().name());
        assertEquals(Optional.empty(), a.joinToken());
        assertEquals(KeyType.EC_P256, a.workloadX509SvidKeyType());
        assertEquals(Optional.empty(), a.adminSocketPath());
        assertEquals(List.of("KeyManager memory", "NodeAttestor join_token", "WorkloadAttestor unix"),
                a.plugins().stream().map(p -> p.type() + " " + p.name()).collect(Collectors.toList()));
    }

    @Test
    void validate_spireSampleAgentConf_valid() throws Exception {
        // The structure of SPIRE's conf/agent/agent.conf.
        String text = """
                agent {
                        data_dir = "./.data"
                        log_level = "DEBUG"
                        trust_domain = "example.org"
                        server_address = "localhost"
                        server_port = 8081
                        socket_path ="/tmp/spire-agent/public/api.sock"
                        trust_bundle_path = "./conf/agent/dummy_root_ca.crt"
                }

                plugins {
                        KeyManager "disk" {
                                plugin_data {
                                        directory = "./.data"
                                }
                        }

                        NodeAttestor "join_token" {
                                plugin_data {
                                }
                        }

                        WorkloadAttestor "unix" {
                                plugin_data {
                                }
                        }
                }
                """;

        AgentSettings a = validateAgent(text).orElseThrow();

        assertEquals("localhost", a.serverAddress());
        assertEquals(Path.of("/tmp/spire-agent/public/api.sock"), a.socketPath());
        assertEquals(3, a.plugins().size());
    }

    @Test
    void validate_joinToken_neverPrinted() throws Exception {
        String token = "6a1fe5c8-0b49-4a0d-9c53-8e1d1cfb9f11";
        ConfigResult<AgentSettings> result = validateAgent(agentBlock("join_token = \"" + token + "\"") + AGENT_PLUGINS);

        AgentSettings a = result.orElseThrow();
        assertEquals(token, a.joinToken().orElseThrow().reveal());
        assertFalse(a.toString().contains(token), a.toString());
        assertFalse(result.toString().contains(token));
    }

    @Test
    void validate_joinTokenWrongType_valueRedacted() {
        assertEquals(List.of("agent.conf: agent.join_token: expected a string, got number [redacted]"),
                agentErrors(agentBlock("join_token = 123456") + AGENT_PLUGINS));
    }

    @Test
    void validate_insecureBootstrap_validWithWarning() throws Exception {
        ConfigResult<AgentSettings> result = validateAgent(
                agentBlock("-trust_bundle_path", "insecure_bootstrap = true") + AGENT_PLUGINS);

        assertEquals(true, result.orElseThrow().insecureBootstrap());
        assertEquals(List.of("agent.conf: agent.insecure_bootstrap: the agent will trust the first server it reaches; "
                + "use only for development"), strings(((ConfigResult.Valid<AgentSettings>) result).warnings()));
    }

    static Stream<Arguments> singleErrors() {
        return Stream.of(
                Arguments.of("validate_missingTrustDomain_reported", new String[] {"-trust_domain"},
                        "agent.trust_domain: is required"),
                Arguments.of("validate_missingDataDir_reported", new String[] {"-data_dir"}, "agent.data_dir: is required"),
                Arguments.of("validate_missingServerAddress_reported", new String[] {"-server_address"},
                        "agent.server_address: is required"),
                Arguments.of("validate_serverAddressUrl_reported", new String[] {"server_address = \"https://server\""},
                        "agent.server_address: must be a host name or IP address, not a URL"),
                Arguments.of("validate_serverPortNotNumber_reported", new String[] {"server_port = \"abc\""},
                        "agent.server_port: expected a number, got string \"abc\""),
                Arguments.of("validate_noTrustBundle_reported", new String[] {"-trust_bundle_path"},
                        "agent.trust_bundle_path: is required unless trust_bundle_url is set or insecure_bootstrap = true"),
                Arguments.of("validate_trustBundleAndInsecure_reported", new String[] {"insecure_bootstrap = true"},
                        "agent: only one of trust_bundle_path, trust_bundle_url and insecure_bootstrap = true may be set"),
                Arguments.of("validate_trustBundleUrlNotHttps_reported",
                        new String[] {"-trust_bundle_path", "trust_bundle_url = \"http://bundle.example.org\""},
                        "agent.trust_bundle_url: must be an https URL with a host"),
                Arguments.of("validate_insecureBootstrapNotBool_reported", new String[] {"insecure_bootstrap = \"maybe\""},
                        "agent.insecure_bootstrap: expected true or false, got string \"maybe\""),
                Arguments.of("validate_workloadKeyTypeUnknown_reported",
                        new String[] {"workload_x509_svid_key_type = \"ed25519\""},
                        "agent.workload_x509_svid_key_type: must be one of ec-p256, ec-p384, rsa-2048, rsa-4096, got string "
                                + "\"ed25519\""),
                Arguments.of("validate_adminSocketBesideWorkloadSocket_reported",
                        new String[] {"admin_socket_path = \"/tmp/bourne-agent/public/admin.sock\""},
                        "agent.admin_socket_path: must not be in the same directory as socket_path"),
                Arguments.of("validate_unknownKey_suggestsClosest", new String[] {"server_adress = \"x\""},
                        "agent.server_adress: unknown key (did you mean \"server_address\"?)"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("singleErrors")
    void validate_oneProblem_reportsExactlyIt(String name, String[] lines, String expected) {
        assertEquals(List.of("agent.conf: " + expected), agentErrors(agentBlock(lines) + AGENT_PLUGINS));
    }

    static Stream<Arguments> pluginProblems() {
        String keyManager = "  KeyManager \"memory\" {\n    plugin_data {}\n  }\n";
        String joinToken = "  NodeAttestor \"join_token\" {\n    plugin_data {}\n  }\n";
        String unix = "  WorkloadAttestor \"unix\" {\n    plugin_data {}\n  }\n";
        return Stream.of(
                Arguments.of("validate_noPluginsBlock_reportsEachRequiredType", "", List.of(
                        "plugins.KeyManager: exactly one KeyManager plugin is required, found none",
                        "plugins.NodeAttestor: exactly one NodeAttestor plugin is required, found none",
                        "plugins.WorkloadAttestor: at least one WorkloadAttestor plugin is required, found none")),
                Arguments.of("validate_twoNodeAttestors_reported", "plugins {\n" + keyManager + joinToken
                        + "  NodeAttestor \"tpm\" {\n  }\n" + unix + "}\n", List.of(
                        "plugins.NodeAttestor: exactly one NodeAttestor plugin is required, found 2 (join_token, tpm)")),
                Arguments.of("validate_twoWorkloadAttestors_valid", "plugins {\n" + keyManager + joinToken + unix
                        + "  WorkloadAttestor \"systemd\" {\n  }\n}\n", List.of()),
                Arguments.of("validate_serverOnlyPluginType_rejected", "plugins {\n" + keyManager + joinToken + unix
                        + "  DataStore \"sql\" {\n  }\n}\n", List.of(
                        "plugins.DataStore: unknown plugin type for the agent; known types: KeyManager, NodeAttestor, "
                                + "WorkloadAttestor")),
                Arguments.of("validate_unknownWorkloadAttestor_listsKnownNames", "plugins {\n" + keyManager + joinToken
                        + "  WorkloadAttestor \"docker\" {\n  }\n}\n", List.of(
                        "plugins.WorkloadAttestor.docker: unknown WorkloadAttestor plugin; known: systemd, unix",
                        "plugins.WorkloadAttestor: at least one WorkloadAttestor plugin is required, found none")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("pluginProblems")
    void validate_pluginProblem_reported(String name, String plugins, List<String> expected) {
        assertEquals(expected.stream().map(e -> "agent.conf: " + e).collect(Collectors.toList()),
                agentErrors(agentBlock() + plugins));
    }

    @Test
    void validate_serverFileAsAgent_hintsAtMixUp() {
        assertEquals(List.of(
                "agent.conf: agent: is required (this file has a server block: is it a server configuration?)",
                "agent.conf: server: unknown key"),
                agentErrors("server {\n  data_dir = \"x\"\n}\n" + AGENT_PLUGINS));
    }
}
