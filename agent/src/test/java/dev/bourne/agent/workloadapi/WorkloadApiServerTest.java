package dev.bourne.agent.workloadapi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bourne.agent.cache.WorkloadEntry;
import dev.bourne.core.selector.Selector;
import dev.bourne.core.spiffeid.SpiffeId;
import dev.bourne.workload.v1.X509SVIDRequest;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The socket's lifecycle: path checks, permissions, lock, refusing a live socket, stale socket cleanup. */
class WorkloadApiServerTest {
    @TempDir
    Path dir;

    private static WorkloadEntry rootEntry() {
        return new WorkloadEntry("e-root", SpiffeId.parse("spiffe://example.org/root"),
                Set.of(new Selector("unix", "uid:0")), Set.of(), "");
    }

    @Test
    void start_createsParentsAndMakesSocketWorldConnectable() throws Exception {
        Path socket = dir.resolve("run/bourne/agent/public/api.sock");
        try (WorkloadApiHarness agent = new WorkloadApiHarness(socket)) {
            assertEquals("rwxrwxrwx", PosixFilePermissions.toString(
                    Files.getPosixFilePermissions(socket, LinkOption.NOFOLLOW_LINKS)));
            assertEquals("unix://" + socket, agent.server.endpointAddress());
            assertTrue(WorkloadApiServer.answers(socket));
        }
        assertFalse(Files.exists(socket, LinkOption.NOFOLLOW_LINKS), "socket removed on close");
    }

    @Test
    void start_secondServerOnSamePath_refusedAndFirstKeepsServing() throws Exception {
        Path socket = dir.resolve("api.sock");
        try (WorkloadApiHarness first = new WorkloadApiHarness(socket)) {
            first.cache.update(first.pki.contents(rootEntry()));
            IOException e = assertThrows(IOException.class, () -> new WorkloadApiHarness(socket));
            assertTrue(e.getMessage().startsWith(WorkloadApiServer.ALREADY_LOCKED), e.getMessage());
            try (RawWorkloadClient client = RawWorkloadClient.withHeader(socket)) {
                assertEquals("spiffe://example.org/root", client.blocking()
                        .fetchX509SVID(X509SVIDRequest.getDefaultInstance()).next().getSvids(0).getSpiffeId());
            }
        }
    }

    @Test
    void start_foreignServerAnswering_refused() throws Exception {
        Path socket = dir.resolve("api.sock");
        try (ServerSocketChannel foreign = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            foreign.bind(UnixDomainSocketAddress.of(socket));
            IOException e = assertThrows(IOException.class, () -> new WorkloadApiHarness(socket));
            assertEquals(WorkloadApiServer.ALREADY_SERVING + ": " + socket, e.getMessage());
            assertTrue(Files.exists(socket, LinkOption.NOFOLLOW_LINKS), "a live socket is never removed");
        }
    }

    @Test
    void start_staleSocket_removedAndReplaced() throws Exception {
        Path socket = dir.resolve("api.sock");
        try (ServerSocketChannel crashed = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            crashed.bind(UnixDomainSocketAddress.of(socket));
        }
        assertTrue(Files.exists(socket, LinkOption.NOFOLLOW_LINKS), "the JDK leaves the socket file behind");
        assertFalse(WorkloadApiServer.answers(socket));
        try (WorkloadApiHarness agent = new WorkloadApiHarness(socket)) {
            agent.cache.update(agent.pki.contents(rootEntry()));
            try (RawWorkloadClient client = RawWorkloadClient.withHeader(socket)) {
                assertEquals(1, client.blocking().fetchX509SVID(X509SVIDRequest.getDefaultInstance()).next()
                        .getSvidsCount());
            }
        }
    }

    @Test
    void start_regularFileAtPath_refusedAndLeftAlone() throws Exception {
        Path socket = dir.resolve("api.sock");
        Files.writeString(socket, "not a socket");
        IOException e = assertThrows(IOException.class, () -> new WorkloadApiHarness(socket));
        assertEquals(WorkloadApiServer.NOT_A_SOCKET + ": " + socket, e.getMessage());
        assertEquals("not a socket", Files.readString(socket));
    }

    @Test
    void start_pathLongerThanSunPath_refused() {
        Path socket = dir.resolve("d".repeat(100)).resolve("api.sock");
        IOException e = assertThrows(IOException.class, () -> new WorkloadApiHarness(socket));
        assertEquals(WorkloadApiServer.PATH_TOO_LONG + ": " + socket, e.getMessage());
        assertFalse(Files.exists(socket.getParent()), "nothing created for a refused path");
    }

    @Test
    void close_thenRestart_lockReleased() throws Exception {
        Path socket = dir.resolve("api.sock");
        new WorkloadApiHarness(socket).close();
        try (WorkloadApiHarness again = new WorkloadApiHarness(socket)) {
            assertTrue(WorkloadApiServer.answers(socket));
        }
    }
}
