package dev.bourne.testing.tpm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import tss.Tpm;

@WithSwtpm
class TcpTpmDeviceTest {

    private static final int CALLS = 50;

    @Test
    void device_connected_hasTcpNoDelay(Swtpm swtpm) {
        TcpTpmDevice device = swtpm.device();

        assertTrue(device.isConnected());
        assertTrue(device.tcpNoDelay(), "TCP_NODELAY must be set on the socket to swtpm");
        assertEquals(swtpm.dataPort(), device.address().getPort());
    }

    @Test
    void getRandom_manyCallsOnOneConnection_distinctAnswers(Swtpm swtpm) {
        // Speed is a benchmark's business, not a unit test's: the latency numbers (about 0.1 ms per command with this
        // device, 44 ms through TpmFactory.remoteTpm) are in TcpTpmDevice's Javadoc and docs/testing-tpm.md.
        Tpm tpm = swtpm.tpm();
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < CALLS; i++) {
            byte[] random = tpm.GetRandom(32);
            assertEquals(32, random.length);
            seen.add(java.util.HexFormat.of().formatHex(random));
        }
        assertEquals(CALLS, seen.size(), "GetRandom repeated itself");
    }

    @Test
    void constructor_nonLoopbackAddress_rejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new TcpTpmDevice(new InetSocketAddress("192.0.2.1", 2321)));

        assertTrue(e.getMessage().startsWith("swtpm must be reached on a loopback address"), e.getMessage());
    }
}
