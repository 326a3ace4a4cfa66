package dev.bourne.agent.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bourne.agent.runtime.AgentPlugins;
import dev.bourne.tpm.agent.TpmAgentSettings;
import dev.bourne.tpm.agent.TpmDevices;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Flags are checked before any call: a usage error exits 2 with a message naming the flag. */
class AgentCliFlagsTest {
    @TempDir
    Path dir;

    private static void assertUsage(CliRun run, String message) {
        assertEquals(AgentCli.USAGE, run.code(), run.err());
        assertTrue(run.err().contains(message), run.err());
    }

    @Test
    void help_exitsZero() {
        CliRun run = CliRun.run("-h");
        assertEquals(AgentCli.OK, run.code());
        assertTrue(run.out().contains("healthcheck"));
    }

    @Test
    void noCommand_isAUsageError() {
        assertEquals(AgentCli.USAGE, CliRun.run().code());
    }

    @Test
    void unknownOption_rejected() {
        assertUsage(CliRun.run("api", "fetch", "x509", "-bogus"), "Unknown option: '-bogus'");
    }

    @Test
    void run_withoutConfig_rejected() {
        assertUsage(CliRun.run("run"), "Missing required option: '-config=FILE'");
    }

    @Test
    void fetchJwt_withoutAudience_rejected() {
        assertUsage(CliRun.run("api", "fetch", "jwt"), AgentCli.AUDIENCE_REQUIRED);
    }

    @Test
    void fetchJwt_badSpiffeId_rejected() {
        assertUsage(CliRun.run("api", "fetch", "jwt", "-audience", "a", "-spiffeID", "web"),
                "-spiffeID must be a SPIFFE ID");
    }

    @Test
    void validateJwt_withoutSvid_rejected() {
        assertUsage(CliRun.run("api", "validate", "jwt", "-audience", "a"), AgentCli.SVID_REQUIRED);
    }

    @Test
    void validateJwt_withoutAudience_rejected() {
        assertUsage(CliRun.run("api", "validate", "jwt", "-svid", "x.y.z"), AgentCli.AUDIENCE_REQUIRED);
    }

    @ParameterizedTest
    @ValueSource(strings = {"0s", "-1s", "5x", "abc", "s", "99999999999999h"})
    void badTimeout_rejected(String timeout) {
        assertUsage(CliRun.run("api", "fetch", "x509", "-timeout", timeout), AgentCli.TIMEOUT_NOT_POSITIVE);
    }

    @Test
    void watch_badTimeout_rejected() {
        assertUsage(CliRun.run("api", "watch", "-timeout", "0s"), AgentCli.TIMEOUT_NOT_POSITIVE);
    }

    @Test
    void write_toMissingDirectory_rejected() {
        assertUsage(CliRun.run("api", "fetch", "x509", "-write", dir.resolve("missing").toString()),
                "is not an existing directory");
    }

    @Test
    void noSocketAnywhere_failsWithTheSearchedPaths() {
        CliRun run = CliRun.run("api", "fetch", "x509");
        assertEquals(AgentCli.FAILED, run.code());
        assertTrue(run.err().contains(SocketDiscovery.NOT_FOUND), run.err());
    }

    @Test
    void socketNotServed_failsUnavailable() {
        CliRun run = CliRun.run("api", "fetch", "x509", "-socketPath", dir.resolve("none.sock").toString());
        assertEquals(AgentCli.FAILED, run.code());
        assertTrue(run.err().contains(AgentCli.NO_SOCKET + dir.resolve("none.sock")), run.err());
    }

    @Test
    void validate_sampleConfiguration_isValidWithTheInsecureBootstrapWarning() {
        CliRun run = CliRun.run("validate", "-config", Path.of("../conf/agent/agent.conf").toString());
        assertEquals(AgentCli.OK, run.code(), run.err());
        assertTrue(run.out().contains("Agent configuration file is valid."));
        assertTrue(run.err().contains("insecure_bootstrap"), run.err());
    }

    @Test
    void validate_reportsEveryPluginErrorAtOnce() throws IOException {
        Path conf = dir.resolve("agent.conf");
        Files.writeString(conf, """
                agent {
                    data_dir = "./data"
                    trust_domain = "example.org"
                    server_address = "127.0.0.1"
                    insecure_bootstrap = true
                }
                plugins {
                    NodeAttestor "openstack_iid" {
                        plugin_data { timeout = "2h" }
                    }
                    KeyManager "memory" {
                        plugin_data { bogus = 1 }
                    }
                    WorkloadAttestor "unix" {
                        plugin_data { discover_workload_path = "maybe" }
                    }
                }
                """);
        CliRun run = CliRun.run("validate", "-config", conf.toString());
        assertEquals(AgentCli.FAILED, run.code());
        assertTrue(run.err().contains("plugins.NodeAttestor.openstack_iid.plugin_data.timeout")
                && run.err().contains(dev.bourne.openstack.agent.OpenStackAgentSettings.TIMEOUT_TOO_LONG), run.err());
        assertTrue(run.err().contains("bogus"), run.err());
        assertTrue(run.err().contains("discover_workload_path"), run.err());
        assertEquals(3, run.err().lines().filter(l -> l.startsWith("Error: ")).count(), run.err());
    }

    @Test
    void validate_tpmPluginErrors_nameTheKeyAndReason() throws IOException {
        Path conf = dir.resolve("agent.conf");
        Files.writeString(conf, """
                agent {
                    data_dir = "./data"
                    trust_domain = "example.org"
                    server_address = "127.0.0.1"
                    insecure_bootstrap = true
                    join_token = "abc"
                }
                plugins {
                    NodeAttestor "tpm" {
                        plugin_data {
                            tpm_device = "tpmrm0"
                            ak_handle = "0x01C00002"
                            seal_pcrs = [0, 24, 0]
                            seal_pcr_bank = "md5"
                            colour = "blue"
                        }
                    }
                    KeyManager "disk" {
                        plugin_data {}
                    }
                    WorkloadAttestor "unix" {
                        plugin_data {}
                    }
                }
                """);
        CliRun run = CliRun.run("validate", "-config", conf.toString());
        assertEquals(AgentCli.FAILED, run.code());
        String prefix = "plugins.NodeAttestor.tpm.plugin_data.";
        for (String expected : List.of(
                prefix + "tpm_device: " + TpmDevices.NOT_A_DEVICE,
                prefix + "ak_handle: " + TpmAgentSettings.AK_HANDLE_INVALID,
                prefix + "seal_pcrs[1]: " + TpmAgentSettings.SEAL_PCR_INVALID,
                prefix + "seal_pcrs[2]: " + TpmAgentSettings.SEAL_PCR_DUPLICATE,
                prefix + "seal_pcr_bank: " + TpmAgentSettings.SEAL_PCR_BANK_INVALID,
                prefix + "colour",
                "agent.join_token: " + AgentPlugins.JOIN_TOKEN_WITH_TPM)) {
            assertTrue(run.err().contains(expected), expected + " in\n" + run.err());
        }
        assertEquals(7, run.err().lines().filter(l -> l.startsWith("Error: ")).count(), run.err());
    }

    @Test
    void validate_tpmWithDiskKeyManager_isValid() throws IOException {
        Path conf = dir.resolve("agent.conf");
        Files.writeString(conf, """
                agent {
                    data_dir = "./data"
                    trust_domain = "example.org"
                    server_address = "127.0.0.1"
                    trust_bundle_path = "/etc/bourne/bootstrap.pem"
                }
                plugins {
                    NodeAttestor "tpm" {
                        plugin_data {
                            tpm_device = "tcp://127.0.0.1:2321"
                            seal_pcrs = [0, 2, 4, 7]
                        }
                    }
                    KeyManager "disk" {
                        plugin_data {}
                    }
                    WorkloadAttestor "unix" {
                        plugin_data {}
                    }
                }
                """);
        CliRun run = CliRun.run("validate", "-config", conf.toString());
        assertEquals(AgentCli.OK, run.code(), run.err());
    }

    @Test
    void validate_missingFile_fails() {
        CliRun run = CliRun.run("validate", "-config", dir.resolve("absent.conf").toString());
        assertEquals(AgentCli.FAILED, run.code());
        assertTrue(run.err().startsWith("Error: "), run.err());
    }
}
