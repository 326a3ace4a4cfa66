package dev.bourne.tpm.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bourne.testing.tpm.Swtpm;
import dev.bourne.testing.tpm.WithSwtpm;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import tss.Tpm;
import tss.TpmDevice;

/** Device names, the TCP device against swtpm, and how opening a wrong device fails. */
@WithSwtpm
class TpmDevicesTest {

    @TempDir
    Path dir;

    @ParameterizedTest
    @CsvSource(delimiter = '|', nullValues = "OK", value = {
        "/dev/tpmrm0 | OK",
        "/dev/tpm0 | OK",
        "tcp://127.0.0.1:2321 | OK",
        "tcp://[::1]:2321 | OK",
        "tcp://swtpm.example:2321 | OK",
        "dev/tpmrm0 | " + TpmDevices.NOT_A_DEVICE,
        "tcp://127.0.0.1 | " + TpmDevices.BAD_TCP_ADDRESS,
        "tcp://127.0.0.1:0 | " + TpmDevices.BAD_TCP_ADDRESS,
        "tcp://:2321 | " + TpmDevices.BAD_TCP_ADDRESS,
        "tcp://127.0.0.1:2321?x=1 | " + TpmDevices.BAD_TCP_ADDRESS,
        "tcp://user@127.0.0.1:2321 | " + TpmDevices.BAD_TCP_ADDRESS})
    void check_names(String device, String problem) {
        assertEquals(Optional.ofNullable(problem), TpmDevices.check(device));
    }

    @Test
    void open_tcp_talksToSwtpm(Swtpm swtpm) throws Exception {
        swtpm.disconnect();
        TpmDevice device = TpmDevices.open("tcp://127.0.0.1:" + swtpm.dataPort());
        try {
            Tpm tpm = new Tpm();
            tpm._setDevice(device);
            assertEquals(16, tpm.GetRandom(16).length);
        } finally {
            device.close();
        }
    }

    @Test
    void open_tcpNothingListening_failsNamingTheDevice() throws Exception {
        int port;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            port = probe.getLocalPort();
        }
        String device = "tcp://127.0.0.1:" + port;
        AgentTpmException e = assertThrows(AgentTpmException.class, () -> TpmDevices.open(device));
        assertTrue(e.getMessage().startsWith("open TPM device " + device + " failed: cannot connect"),
                e.getMessage());
    }

    @Test
    void open_missingDevice_failsNamingIt() {
        String device = dir.resolve("tpmrm9").toString();
        AgentTpmException e = assertThrows(AgentTpmException.class, () -> TpmDevices.open(device));
        assertTrue(e.getMessage().startsWith("open TPM device " + device + " failed: no such device"),
                e.getMessage());
    }

    @Test
    void open_regularFile_refusedAsNotACharacterDevice() throws Exception {
        Path file = Files.createFile(dir.resolve("tpm"));
        AgentTpmException e = assertThrows(AgentTpmException.class, () -> TpmDevices.open(file.toString()));
        assertEquals("open TPM device " + file + " failed: it is not a character device", e.getMessage());
    }

    @Test
    void agentTpm_onACharacterDeviceThatIsNoTpm_failsWithTheCommandName() throws Exception {
        // /dev/null accepts the command and answers nothing: the device reports it, the command is named.
        try (AgentTpm tpm = AgentTpm.open(TpmAgentSettings.defaults("/dev/null"))) {
            AgentTpmException e = assertThrows(AgentTpmException.class, tpm::endorsementKey);
            assertEquals("TPM2_NV_ReadPublic failed: /dev/null returned no response (end of file): it is not a TPM", e.getMessage());
        }
    }
}
