package dev.bourne.agent.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bourne.agent.files.PemFiles;
import dev.bourne.testing.tpm.Swtpm;
import dev.bourne.testing.tpm.WithSwtpm;
import dev.bourne.tpm.agent.TpmDevices;
import dev.bourne.tpm.common.EkHash;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code bourne-agent tpm ek} against swtpm: what a security team enrols, checked against the TPM's own NV. */
@WithSwtpm
class AgentCliTpmTest {

    @TempDir
    Path dir;
    private String device;
    private X509Certificate ekCertificate;

    @BeforeEach
    void readTheEkCertificateFromNv(Swtpm swtpm) {
        ekCertificate = swtpm.ekCertificate();
        swtpm.disconnect();
        device = "tcp://127.0.0.1:" + swtpm.dataPort();
    }

    @Test
    void ek_pretty_printsTheHashTypeAndTheNvCertificate() throws Exception {
        CliRun run = CliRun.run("tpm", "ek", "-tpmDevice", device);
        assertEquals(AgentCli.OK, run.code(), run.err());
        String hash = EkHash.of(ekCertificate.getPublicKey());
        assertTrue(run.out().startsWith("EK hash:          " + hash + "\nEK type:          rsa\n"
                + "EK certificate:   NV index 0x01C00002\n"
                + PemFiles.pem("CERTIFICATE", ekCertificate.getEncoded())), run.out());
        assertTrue(run.out().contains("bourne-server tpm enroll -ekHash " + hash), run.out());
        assertFalse(run.out().contains("PUBLIC KEY"), run.out());
    }

    @Test
    void ek_json_forScripts() throws Exception {
        CliRun run = CliRun.run("tpm", "ek", "-tpmDevice", device, "-output", "json");
        assertEquals(AgentCli.OK, run.code(), run.err());
        String expected = "{\"ek_certificate\":" + quoted(PemFiles.pem("CERTIFICATE", ekCertificate.getEncoded()))
                + ",\"ek_hash\":\"" + EkHash.of(ekCertificate.getPublicKey()) + "\""
                + ",\"ek_public_key\":" + quoted(PemFiles.pem("PUBLIC KEY", ekCertificate.getPublicKey()
                        .getEncoded()))
                + ",\"ek_type\":\"rsa\"}\n";
        assertEquals(expected, run.out());
    }

    @Test
    void ek_deviceFromTheConfiguration() throws Exception {
        Path conf = dir.resolve("agent.conf");
        Files.writeString(conf, """
                agent {
                    data_dir = "%s"
                    trust_domain = "example.org"
                    server_address = "127.0.0.1"
                    insecure_bootstrap = true
                }
                plugins {
                    NodeAttestor "tpm" { plugin_data { tpm_device = "%s" } }
                    KeyManager "disk" { plugin_data {} }
                    WorkloadAttestor "unix" { plugin_data {} }
                }
                """.formatted(dir.resolve("data"), device));
        CliRun run = CliRun.run("tpm", "ek", "-config", conf.toString());
        assertEquals(AgentCli.OK, run.code(), run.err());
        assertTrue(run.out().startsWith("EK hash:          " + EkHash.of(ekCertificate.getPublicKey())), run.out());
    }

    @Test
    void ek_unreachableDevice_failsWithTheReason() throws Exception {
        String closed = "tcp://127.0.0.1:" + closedPort();
        CliRun run = CliRun.run("tpm", "ek", "-tpmDevice", closed);
        assertEquals(AgentCli.FAILED, run.code());
        assertTrue(run.err().startsWith("Error: " + TpmCommands.TPM_FAILED + "open TPM device " + closed
                + " failed: cannot connect"), run.err());
    }

    @Test
    void ek_missingCharacterDevice_failsNamingIt() {
        CliRun run = CliRun.run("tpm", "ek", "-tpmDevice", dir.resolve("tpmrm9").toString());
        assertEquals(AgentCli.FAILED, run.code());
        assertTrue(run.err().contains("no such device"), run.err());
    }

    @Test
    void ek_badDeviceName_isAUsageError() {
        CliRun run = CliRun.run("tpm", "ek", "-tpmDevice", "tcp://127.0.0.1");
        assertEquals(AgentCli.USAGE, run.code());
        assertTrue(run.err().contains("-tpmDevice " + TpmDevices.BAD_TCP_ADDRESS), run.err());
    }

    @Test
    void ek_badOutput_isAUsageError() {
        CliRun run = CliRun.run("tpm", "ek", "-tpmDevice", device, "-output", "yaml");
        assertEquals(AgentCli.USAGE, run.code());
        assertTrue(run.err().contains("-output"), run.err());
    }

    @Test
    void ek_invalidConfiguration_failsWithItsErrors() throws Exception {
        Path conf = dir.resolve("bad.conf");
        Files.writeString(conf, """
                agent {
                    data_dir = "%s"
                    trust_domain = "example.org"
                    server_address = "127.0.0.1"
                    insecure_bootstrap = true
                }
                plugins {
                    NodeAttestor "tpm" { plugin_data { seal_pcrs = [] } }
                    KeyManager "disk" { plugin_data {} }
                    WorkloadAttestor "unix" { plugin_data {} }
                }
                """.formatted(dir.resolve("data")));
        CliRun run = CliRun.run("tpm", "ek", "-config", conf.toString());
        assertEquals(AgentCli.FAILED, run.code());
        assertTrue(run.err().contains("seal_pcrs"), run.err());
    }

    private static String quoted(String text) {
        return "\"" + text.replace("\n", "\\n") + "\"";
    }

    private static int closedPort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}
