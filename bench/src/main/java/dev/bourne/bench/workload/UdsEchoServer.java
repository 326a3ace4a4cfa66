package dev.bourne.bench.workload;

import java.io.EOFException;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The bare baseline: a JDK Unix-domain echo server ({@link UnixDomainSocketAddress}, Java 16+), one blocking thread per
 * connection writing back whatever it reads. A round trip through it is the least any local IPC on this machine can
 * cost: two context switches and two socket copies each way, no framing, no protocol.
 */
final class UdsEchoServer implements AutoCloseable {
    private final Path path;
    private final ServerSocketChannel server;
    private final Thread acceptor;
    private final List<SocketChannel> connections = new CopyOnWriteArrayList<>();

    UdsEchoServer(Path path) throws IOException {
        this.path = path;
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(path));
        acceptor = new Thread(this::accept, "uds-echo-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    Path path() {
        return path;
    }

    private void accept() {
        while (server.isOpen()) {
            SocketChannel connection;
            try {
                connection = server.accept();
            } catch (IOException e) {
                return; // closed
            }
            connections.add(connection);
            Thread echo = new Thread(() -> echo(connection), "uds-echo");
            echo.setDaemon(true);
            echo.start();
        }
    }

    private static void echo(SocketChannel connection) {
        ByteBuffer buffer = ByteBuffer.allocateDirect(4096);
        try (connection) {
            while (true) {
                buffer.clear();
                if (connection.read(buffer) < 0) {
                    return;
                }
                buffer.flip();
                while (buffer.hasRemaining()) {
                    connection.write(buffer);
                }
            }
        } catch (IOException e) {
            // The client went away or the server is closing: the connection is done either way.
        }
    }

    /** One client connection that times round trips of a fixed-size message. */
    static final class Client implements AutoCloseable {
        private final SocketChannel channel;
        private final ByteBuffer out;
        private final ByteBuffer in;

        Client(Path path, int messageBytes) throws IOException {
            channel = SocketChannel.open(UnixDomainSocketAddress.of(path));
            out = ByteBuffer.allocateDirect(messageBytes);
            for (int i = 0; i < messageBytes; i++) {
                out.put((byte) i);
            }
            in = ByteBuffer.allocateDirect(messageBytes);
        }

        /** Sends the message and reads it back whole; the round trip in nanoseconds. */
        long roundTrip() throws IOException {
            out.clear();
            in.clear();
            long start = System.nanoTime();
            while (out.hasRemaining()) {
                channel.write(out);
            }
            while (in.hasRemaining()) {
                if (channel.read(in) < 0) {
                    throw new EOFException("the echo server closed the connection");
                }
            }
            long end = System.nanoTime();
            in.flip();
            out.flip();
            if (!in.equals(out)) {
                throw new IOException("the echo server answered with different bytes");
            }
            return end - start;
        }

        @Override
        public void close() throws IOException {
            channel.close();
        }
    }

    @Override
    public void close() throws IOException, InterruptedException {
        server.close();
        for (SocketChannel connection : connections) {
            try {
                connection.close();
            } catch (ClosedChannelException e) {
                // already closed by its echo thread
            }
        }
        acceptor.join(10_000);
        Files.deleteIfExists(path);
    }
}
