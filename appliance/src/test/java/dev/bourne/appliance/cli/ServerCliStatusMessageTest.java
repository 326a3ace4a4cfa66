package dev.bourne.appliance.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.grpc.Status;
import java.io.IOException;
import org.junit.jupiter.api.Test;

/** What the CLI prints for an admin API call that failed before the server answered. */
class ServerCliStatusMessageTest {

    @Test
    void socketRefusedByTheFileSystem_namesTheGroup() {
        // What grpc-netty reports when connect(2) on the socket fails with EACCES (a user outside group bourne).
        Status status = Status.UNAVAILABLE.withDescription("io exception").withCause(new IOException(
                "Unable to connect", new IOException("connect(..) failed: Permission denied")));
        assertEquals("permission denied on the server's admin socket: run as root or as a member of group bourne",
                ServerCli.statusMessage(status));
    }

    @Test
    void otherConnectFailures_keepTheirRootCause() {
        Status status = Status.UNAVAILABLE.withDescription("io exception").withCause(new IOException(
                "Unable to connect", new IOException("connect(..) failed: Connection refused")));
        assertEquals("the server's admin API is unavailable: io exception (connect(..) failed: Connection refused)",
                ServerCli.statusMessage(status));
    }

    @Test
    void unavailableWithoutCause_saysSo() {
        assertEquals("the server's admin API is unavailable: shutting down",
                ServerCli.statusMessage(Status.UNAVAILABLE.withDescription("shutting down")));
    }
}
