package dev.bourne.testing.tpm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class SwtpmLifecycleTest {

    @Test
    void close_running_stopsSwtpmFreesPortsAndDeletesState() throws Exception {
        Swtpm swtpm = Swtpm.start();
        Path state = swtpm.stateDir();
        int dataPort = swtpm.dataPort();
        assertTrue(swtpm.isRunning());
        assertTrue(Files.isRegularFile(state.resolve("tpm2-00.permall")));

        swtpm.close();
        swtpm.close(); // idempotent

        assertFalse(swtpm.isRunning());
        assertFalse(Files.exists(state.getParent()), "the instance directory must be deleted");
        InetAddress loopback = InetAddress.getByAddress(new byte[] {127, 0, 0, 1});
        try (ServerSocket data = new ServerSocket(dataPort, 1, loopback);
                ServerSocket ctrl = new ServerSocket(dataPort + 1, 1, loopback)) {
            assertTrue(data.isBound() && ctrl.isBound());
        }
        IllegalStateException e = assertThrows(IllegalStateException.class, swtpm::tpm);
        assertTrue(e.getMessage().endsWith("is closed"), e.getMessage());
    }

    @Test
    void start_twice_runsIndependentInstancesOnDistinctPorts() {
        try (Swtpm first = Swtpm.start(); Swtpm second = Swtpm.start()) {
            assertNotEquals(first.dataPort(), second.dataPort());
            assertNotEquals(first.stateDir(), second.stateDir());
            assertEquals(16, first.tpm().GetRandom(16).length);
            assertEquals(16, second.tpm().GetRandom(16).length);
        }
    }
}
