package dev.bourne.core.systemd;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDomainDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.DomainDatagramPacket;
import io.netty.channel.unix.DomainSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The service manager's notification socket, as sd_notify(3) describes it: when systemd runs the process as a
 * {@code Type=notify} unit it sets {@code NOTIFY_SOCKET} to a Unix datagram socket, and the service sends
 * newline-separated assignments to it ({@code READY=1}, {@code STATUS=...}, {@code STOPPING=1}, {@code WATCHDOG=1}).
 * Without {@code NOTIFY_SOCKET} (not under systemd, or another unit type) every method does nothing.
 *
 * <p>The JDK cannot send Unix datagrams, so this uses Netty's epoll {@link EpollDomainDatagramChannel}, the same native
 * transport the server's and agent's Unix sockets already need. Both socket forms systemd may hand out work: a path
 * ({@code /run/systemd/notify}) and a Linux abstract-namespace name ({@code @name}, sent with a leading NUL byte, which
 * Netty passes through to {@code sendto} with the exact address length).
 *
 * <p>When {@code WATCHDOG_USEC} is set (the unit has {@code WatchdogSec=}), {@code WATCHDOG=1} is sent at half that
 * interval from this notifier's own thread, as sd_watchdog_enabled(3) advises; only when {@code WATCHDOG_PID} is unset
 * or names this process, since the variable may have been inherited from a parent the watchdog is meant for.
 *
 * <p>Notification must never stop the service from running: a send waits at most {@link #SEND_TIMEOUT}, and the first
 * failure is logged once (as a warning) while later ones are dropped silently.
 */
public final class SystemdNotifier implements AutoCloseable {
    public static final String NOTIFY_SOCKET = "NOTIFY_SOCKET";
    public static final String WATCHDOG_USEC = "WATCHDOG_USEC";
    public static final String WATCHDOG_PID = "WATCHDOG_PID";
    /** The longest a caller waits for one notification to leave. */
    public static final Duration SEND_TIMEOUT = Duration.ofSeconds(1);
    /** {@code sun_path} is 108 bytes; a path needs its terminating NUL, an abstract name does not. */
    static final int MAX_ADDRESS_BYTES = 108;
    /** STATUS= is one line of free text shown by {@code systemctl status}: keep it short. */
    static final int MAX_STATUS_CHARS = 400;

    public static final String NOT_ABSOLUTE = "NOTIFY_SOCKET is neither an absolute path nor an abstract socket"
            + " name (@name): systemd notifications are off";
    public static final String TOO_LONG = "NOTIFY_SOCKET is longer than a Unix socket address allows: systemd"
            + " notifications are off";
    public static final String NO_EPOLL = "the native epoll transport is not available, so systemd notifications"
            + " (NOTIFY_SOCKET) cannot be sent";
    public static final String SEND_FAILED = "cannot send a systemd notification to %s (later failures are not"
            + " logged): %s";
    public static final String BAD_WATCHDOG_USEC = "WATCHDOG_USEC is not a positive number of microseconds: the"
            + " watchdog is not pinged";

    private static final Logger LOG = LoggerFactory.getLogger(SystemdNotifier.class);

    private final String socketName;
    private final DomainSocketAddress address;
    private final EventLoopGroup group;
    private final Channel channel;
    private final Optional<Duration> watchdogPeriod;
    private final ScheduledFuture<?> watchdog;
    private final AtomicBoolean failureLogged = new AtomicBoolean();
    private final AtomicBoolean readySent = new AtomicBoolean();
    private final AtomicBoolean closed = new AtomicBoolean();

    private SystemdNotifier(String socketName, DomainSocketAddress address, EventLoopGroup group, Channel channel,
            Optional<Duration> watchdogPeriod) {
        this.socketName = socketName;
        this.address = address;
        this.group = group;
        this.channel = channel;
        this.watchdogPeriod = watchdogPeriod;
        this.watchdog = channel == null || watchdogPeriod.isEmpty() ? null
                : channel.eventLoop().scheduleAtFixedRate(() -> send("WATCHDOG=1"), 0,
                        watchdogPeriod.get().toNanos(), TimeUnit.NANOSECONDS);
    }

    /** A notifier that sends nothing (not running under systemd). */
    public static SystemdNotifier disabled() {
        return new SystemdNotifier(null, null, null, null, Optional.empty());
    }

    /** The notifier for this process: its environment and its PID. */
    public static SystemdNotifier fromEnvironment() {
        return create(System.getenv(), ProcessHandle.current().pid());
    }

    /**
     * The notifier {@code environment} asks for, in the process {@code pid}: disabled when {@code NOTIFY_SOCKET} is
     * unset or empty, or (with a warning saying why) unusable.
     */
    public static SystemdNotifier create(Map<String, String> environment, long pid) {
        String socket = environment.get(NOTIFY_SOCKET);
        if (socket == null || socket.isEmpty()) {
            return disabled();
        }
        String path;
        if (socket.startsWith("@")) {
            // Linux abstract namespace: systemd writes the leading NUL byte as '@'.
            path = "\0" + socket.substring(1);
        } else if (socket.startsWith("/")) {
            path = socket;
        } else {
            LOG.warn(NOT_ABSOLUTE);
            return disabled();
        }
        int bytes = path.getBytes(StandardCharsets.UTF_8).length + (path.startsWith("\0") ? 0 : 1);
        if (bytes > MAX_ADDRESS_BYTES) {
            LOG.warn(TOO_LONG);
            return disabled();
        }
        if (!Epoll.isAvailable()) {
            LOG.warn(NO_EPOLL, Epoll.unavailabilityCause());
            return disabled();
        }
        Optional<Duration> period = watchdogPeriod(environment, pid);
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, r -> {
            Thread thread = new Thread(r, "bourne-systemd-notify");
            thread.setDaemon(true);
            return thread;
        }, EpollIoHandler.newFactory());
        try {
            ChannelFuture registered = new Bootstrap()
                    .group(group)
                    .channel(EpollDomainDatagramChannel.class)
                    // Unbound and unconnected: each notification names its recipient, as sd_notify's sendmsg does.
                    .option(ChannelOption.DATAGRAM_CHANNEL_ACTIVE_ON_REGISTRATION, true)
                    .handler(new ChannelInboundHandlerAdapter())
                    .register();
            if (!registered.awaitUninterruptibly(SEND_TIMEOUT.toMillis()) || !registered.isSuccess()) {
                throw new IllegalStateException("the notification channel did not open",
                        registered.cause());
            }
            return new SystemdNotifier(socket, new DomainSocketAddress(path), group, registered.channel(), period);
        } catch (RuntimeException e) {
            LOG.warn("systemd notifications are off: {}", e.toString());
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            return disabled();
        }
    }

    /**
     * Half of {@code WATCHDOG_USEC}, when set for this process: {@code WATCHDOG_PID} unset, or equal to {@code pid}.
     */
    static Optional<Duration> watchdogPeriod(Map<String, String> environment, long pid) {
        String usec = environment.get(WATCHDOG_USEC);
        if (usec == null || usec.isEmpty()) {
            return Optional.empty();
        }
        String watchdogPid = environment.get(WATCHDOG_PID);
        if (watchdogPid != null && !watchdogPid.isEmpty() && !watchdogPid.equals(Long.toString(pid))) {
            // Set for another process (our parent): its watchdog is not ours to feed.
            return Optional.empty();
        }
        long micros;
        try {
            micros = Long.parseLong(usec);
        } catch (NumberFormatException e) {
            micros = 0;
        }
        if (micros <= 1) {
            LOG.warn(BAD_WATCHDOG_USEC);
            return Optional.empty();
        }
        return Optional.of(Duration.ofNanos(micros / 2 * 1000));
    }

    /** Whether notifications are sent (the process runs under systemd with a usable {@code NOTIFY_SOCKET}). */
    public boolean enabled() {
        return channel != null;
    }

    /** The interval between {@code WATCHDOG=1} pings; empty when the watchdog is not pinged. */
    public Optional<Duration> watchdogPeriod() {
        return channel == null ? Optional.empty() : watchdogPeriod;
    }

    /**
     * Tells systemd the service is ready ({@code READY=1}) with a status line. Only the first call sends anything;
     * returns whether this call was that first one.
     */
    public boolean ready(String status) {
        if (!readySent.compareAndSet(false, true)) {
            return false;
        }
        send("READY=1\nSTATUS=" + statusLine(status));
        return true;
    }

    /** Whether {@link #ready} was called. */
    public boolean readySent() {
        return readySent.get();
    }

    /** Sets the status line {@code systemctl status} shows. */
    public void status(String status) {
        send("STATUS=" + statusLine(status));
    }

    /** Tells systemd the service is stopping ({@code STOPPING=1}) with a status line. */
    public void stopping(String status) {
        send("STOPPING=1\nSTATUS=" + statusLine(status));
    }

    /**
     * One line of text: a newline would end the assignment and let the rest (a reason that came from elsewhere) be
     * read as another one, such as {@code READY=1}.
     */
    static String statusLine(String status) {
        String line = Objects.requireNonNull(status, "status").replaceAll("[\\r\\n\\x00]+", " ").strip();
        return line.length() <= MAX_STATUS_CHARS ? line : line.substring(0, MAX_STATUS_CHARS - 3) + "...";
    }

    /**
     * Sends one datagram. Outside the notifier's thread it waits until it left (at most {@link #SEND_TIMEOUT}), so a
     * caller knows {@code READY=1} or {@code STOPPING=1} reached the socket before it goes on; on that thread (watchdog
     * pings) it never waits.
     */
    private void send(String message) {
        if (channel == null || closed.get()) {
            return;
        }
        ChannelFuture sent = channel.writeAndFlush(new DomainDatagramPacket(
                Unpooled.copiedBuffer(message, StandardCharsets.UTF_8), address));
        if (channel.eventLoop().inEventLoop()) {
            sent.addListener(f -> {
                if (!f.isSuccess()) {
                    failed(f.cause());
                }
            });
            return;
        }
        if (!sent.awaitUninterruptibly(SEND_TIMEOUT.toMillis())) {
            failed(new java.util.concurrent.TimeoutException("no send within " + SEND_TIMEOUT.toMillis() + " ms"));
        } else if (!sent.isSuccess()) {
            failed(sent.cause());
        }
    }

    private void failed(Throwable cause) {
        if (failureLogged.compareAndSet(false, true)) {
            LOG.warn(String.format(SEND_FAILED, socketName, cause == null ? "unknown" : cause.toString()));
        }
    }

    /** Stops the watchdog pings and closes the socket; safe to call twice. */
    @Override
    public void close() {
        if (channel == null || !closed.compareAndSet(false, true)) {
            return;
        }
        if (watchdog != null) {
            watchdog.cancel(false);
        }
        channel.close().awaitUninterruptibly(SEND_TIMEOUT.toMillis());
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(2, TimeUnit.SECONDS);
    }
}
