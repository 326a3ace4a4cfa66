package dev.bourne.agent.workloadapi;

import dev.bourne.agent.workloadattestor.ProcessStartTimes;
import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.netty.InternalNettyServerCredentials;
import io.grpc.netty.NettyServerBuilder;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Workload API's Unix socket server: gRPC over Netty's epoll domain-socket transport, with each connection's
 * {@code SO_PEERCRED} credentials attached to its calls.
 *
 * <p>Start-up guards the socket path: its length must fit {@code sun_path}; a lock file ({@code <socket>.lock})
 * keeps a second agent out; a socket something still answers on is never taken over (Netty would silently unlink
 * it and bind anew, and the first agent would later delete the second's socket); a stale socket is removed, and any
 * other file at the path is refused. After binding, the socket is made world-connectable (0777): any local process
 * may ask, and identity comes from attestation, not from file permissions. {@link #close()} removes the socket only
 * if it is still the one this server bound, and the lock file.
 */
public final class WorkloadApiServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(WorkloadApiServer.class);

    /** The RPM layout's socket; the sample configuration uses {@code /tmp/bourne-agent/public/api.sock}. */
    public static final Path DEFAULT_SOCKET_PATH = Path.of("/run/bourne/agent/public/api.sock");
    /** {@code sun_path} is 108 bytes including the terminating NUL. */
    public static final int MAX_SOCKET_PATH_BYTES = 107;
    /** Workload API requests are tiny; anything larger is not a SPIFFE client. */
    static final int MAX_INBOUND_MESSAGE_BYTES = 64 * 1024;
    static final int MAX_INBOUND_METADATA_BYTES = 8 * 1024;

    public static final String PATH_TOO_LONG = "socket path is longer than " + MAX_SOCKET_PATH_BYTES
            + " bytes (the limit of sun_path)";
    public static final String ALREADY_LOCKED = "another agent holds the socket's lock file";
    public static final String ALREADY_SERVING = "a server is already answering on the socket path";
    public static final String NOT_A_SOCKET = "the socket path exists and is not a socket";
    public static final String NO_EPOLL = "the native epoll transport is not available (Linux x86_64 only)";

    private final Path socketPath;
    private final FileChannel lockChannel;
    private final FileLock lock;
    private final EventLoopGroup boss;
    private final EventLoopGroup workers;
    private final Server server;
    private final Object socketKey;

    private WorkloadApiServer(Path socketPath, FileChannel lockChannel, FileLock lock, EventLoopGroup boss,
            EventLoopGroup workers, Server server, Object socketKey) {
        this.socketPath = socketPath;
        this.lockChannel = lockChannel;
        this.lock = lock;
        this.boss = boss;
        this.workers = workers;
        this.server = server;
        this.socketKey = socketKey;
    }

    /**
     * Binds {@code socketPath} and serves {@code service} on it.
     *
     * @param startTimes reads process start times when a connection is accepted (PID-reuse protection)
     * @throws IOException when the path is unusable (too long, locked, served, not a socket) or binding fails;
     *         the message names which
     */
    public static WorkloadApiServer start(Path socketPath, BindableService service, ProcessStartTimes startTimes)
            throws IOException {
        Objects.requireNonNull(service, "service");
        Objects.requireNonNull(startTimes, "startTimes");
        Path path = socketPath.toAbsolutePath().normalize();
        if (path.toString().getBytes(StandardCharsets.UTF_8).length > MAX_SOCKET_PATH_BYTES) {
            throw new IOException(PATH_TOO_LONG + ": " + path);
        }
        if (!Epoll.isAvailable()) {
            throw new IOException(NO_EPOLL, Epoll.unavailabilityCause());
        }
        Files.createDirectories(path.getParent());
        Path lockPath = path.resolveSibling(path.getFileName() + ".lock");
        FileChannel lockChannel = FileChannel.open(lockPath, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock lock = null;
        EventLoopGroup boss = null;
        EventLoopGroup workers = null;
        try {
            try {
                lock = lockChannel.tryLock();
            } catch (OverlappingFileLockException e) {
                lock = null;
            }
            if (lock == null) {
                throw new IOException(ALREADY_LOCKED + ": " + lockPath);
            }
            removeStaleSocket(path);
            boss = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
            workers = new MultiThreadIoEventLoopGroup(2, EpollIoHandler.newFactory());
            Server server = NettyServerBuilder
                    .forAddress(new DomainSocketAddress(path.toString()),
                            InternalNettyServerCredentials.create(new PeerCredentialsNegotiator(startTimes)))
                    .channelType(EpollServerDomainSocketChannel.class)
                    .bossEventLoopGroup(boss)
                    .workerEventLoopGroup(workers)
                    // grpc sets SO_KEEPALIVE on accepted channels; Unix sockets reject it, warning per connection.
                    .withChildOption(ChannelOption.SO_KEEPALIVE, null)
                    .maxInboundMessageSize(MAX_INBOUND_MESSAGE_BYTES)
                    .maxInboundMetadataSize(MAX_INBOUND_METADATA_BYTES)
                    .addService(ServerInterceptors.intercept(service, new CallerInterceptor()))
                    .build();
            server.start();
            // Created with the process umask (0755 under 022): clients need write permission to connect.
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rwxrwxrwx"));
            Object key = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
            LOG.info("Workload API listening on {}", path);
            return new WorkloadApiServer(path, lockChannel, lock, boss, workers, server, key);
        } catch (IOException | RuntimeException e) {
            if (boss != null) {
                boss.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            }
            if (workers != null) {
                workers.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            }
            if (lock != null) {
                lock.release();
            }
            lockChannel.close();
            throw e;
        }
    }

    private static void removeStaleSocket(Path path) throws IOException {
        if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        int mode = (Integer) Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        if ((mode & 0170000) != 0140000) {
            throw new IOException(NOT_A_SOCKET + ": " + path);
        }
        if (answers(path)) {
            throw new IOException(ALREADY_SERVING + ": " + path);
        }
        Files.delete(path);
        LOG.info("removed stale Workload API socket {}", path);
    }

    /** Whether something accepts connections on the socket now. */
    static boolean answers(Path path) {
        try (SocketChannel probe = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            return probe.connect(UnixDomainSocketAddress.of(path));
        } catch (IOException e) {
            return false;
        }
    }

    public Path socketPath() {
        return socketPath;
    }

    /** {@code unix://} + the socket path: the value for {@code SPIFFE_ENDPOINT_SOCKET}. */
    public String endpointAddress() {
        return "unix://" + socketPath;
    }

    /** Stops serving (open streams end with UNAVAILABLE), removes the socket if it is still ours, frees the lock. */
    @Override
    public void close() throws IOException {
        server.shutdownNow();
        try {
            if (!server.awaitTermination(10, TimeUnit.SECONDS)) {
                LOG.warn("Workload API server did not stop within 10 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        boss.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        workers.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        try {
            if (Files.exists(socketPath, LinkOption.NOFOLLOW_LINKS) && Objects.equals(socketKey,
                    Files.readAttributes(socketPath, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey())) {
                Files.delete(socketPath);
            }
        } finally {
            try {
                // Removed while still held, so a server starting now either finds the lock taken or no file: a stop
                // (systemctl stop) leaves nothing behind in the runtime directory.
                Files.deleteIfExists(socketPath.resolveSibling(socketPath.getFileName() + ".lock"));
            } finally {
                lock.release();
                lockChannel.close();
            }
        }
    }
}
