package dev.bourne.appliance.server;

import io.grpc.BindableService;
import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
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
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin API's Unix socket: gRPC over Netty's epoll domain-socket transport, plus {@code grpc.health.v1}. Access
 * control is the file system's: the socket is mode 0770 and takes the group of its directory (the RPM puts it in
 * {@code /run/bourne/server/private}, group {@code bourne}), so only the server's user and that group can connect.
 *
 * <p>Start-up guards the path as the agent's Workload API socket does: the path must fit {@code sun_path}; a lock file
 * ({@code <socket>.lock}) keeps a second server out; a socket a live server answers on is never taken over; a stale
 * socket is removed, any other file refused. {@link #close()} removes the socket only if it is still the one bound, and its lock file.
 */
public final class AdminSocketServer implements AutoCloseable {
    /** {@code sun_path} is 108 bytes including the terminating NUL. */
    public static final int MAX_SOCKET_PATH_BYTES = 107;
    static final int MAX_INBOUND_MESSAGE_BYTES = 4 * 1024 * 1024;
    /** How long calls in progress may run on after {@link #close()} began. */
    static final java.time.Duration GRACE = java.time.Duration.ofSeconds(5);

    public static final String PATH_TOO_LONG = "admin socket path is longer than " + MAX_SOCKET_PATH_BYTES
            + " bytes (the limit of sun_path)";
    public static final String ALREADY_LOCKED = "another server holds the admin socket's lock file";
    public static final String ALREADY_SERVING = "a server is already answering on the admin socket";
    public static final String NOT_A_SOCKET = "the admin socket path exists and is not a socket";
    public static final String NO_EPOLL = "the native epoll transport is not available (Linux x86_64 only)";

    private static final Logger LOG = LoggerFactory.getLogger(AdminSocketServer.class);

    private final Path socketPath;
    private final FileChannel lockChannel;
    private final FileLock lock;
    private final EventLoopGroup boss;
    private final EventLoopGroup workers;
    private final Server server;
    private final Object socketKey;
    private final HealthStatusManager health;

    private AdminSocketServer(Path socketPath, FileChannel lockChannel, FileLock lock, EventLoopGroup boss,
            EventLoopGroup workers, Server server, Object socketKey, HealthStatusManager health) {
        this.socketPath = socketPath;
        this.lockChannel = lockChannel;
        this.lock = lock;
        this.boss = boss;
        this.workers = workers;
        this.server = server;
        this.socketKey = socketKey;
        this.health = health;
    }

    /**
     * Binds {@code socketPath} and serves {@code services} and the health service on it.
     *
     * @throws IOException naming the problem when the path is unusable or binding fails
     */
    public static AdminSocketServer start(Path socketPath, List<BindableService> services) throws IOException {
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
            HealthStatusManager health = new HealthStatusManager();
            NettyServerBuilder builder = NettyServerBuilder
                    .forAddress(new DomainSocketAddress(path.toString()), InsecureServerCredentials.create())
                    .channelType(EpollServerDomainSocketChannel.class)
                    .bossEventLoopGroup(boss)
                    .workerEventLoopGroup(workers)
                    // grpc sets SO_KEEPALIVE on accepted channels; Unix sockets reject it with a warning each time.
                    .withChildOption(ChannelOption.SO_KEEPALIVE, null)
                    .maxInboundMessageSize(MAX_INBOUND_MESSAGE_BYTES)
                    .addService(health.getHealthService());
            for (BindableService service : services) {
                builder.addService(Objects.requireNonNull(service, "service"));
            }
            Server server = builder.build();
            server.start();
            // Owner and group only: the admin API can mint any identity.
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rwxrwx---"));
            GroupPrincipal group = Files.readAttributes(path.getParent(), PosixFileAttributes.class).group();
            PosixFileAttributeView view = Files.getFileAttributeView(path, PosixFileAttributeView.class,
                    LinkOption.NOFOLLOW_LINKS);
            if (!view.readAttributes().group().equals(group)) {
                view.setGroup(group);
            }
            Object key = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
            LOG.info("admin API listening on {}", path);
            return new AdminSocketServer(path, lockChannel, lock, boss, workers, server, key, health);
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
        LOG.info("removed stale admin socket {}", path);
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

    /** The {@code grpc.health.v1} status manager of this socket. */
    public HealthStatusManager health() {
        return health;
    }

    @Override
    public void close() throws IOException {
        health.enterTerminalState();
        // No new calls from now on; calls in progress (admin calls are short) get GRACE to finish, then are cancelled.
        server.shutdown();
        try {
            if (!server.awaitTermination(GRACE.toMillis(), TimeUnit.MILLISECONDS)) {
                server.shutdownNow();
                if (!server.awaitTermination(5, TimeUnit.SECONDS)) {
                    LOG.warn("admin API server did not stop within {} s", GRACE.toSeconds() + 5);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            server.shutdownNow();
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
