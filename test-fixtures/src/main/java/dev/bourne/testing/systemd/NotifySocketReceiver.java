package dev.bourne.testing.systemd;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDomainDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.DomainDatagramPacket;
import io.netty.channel.unix.DomainSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The receiving end of sd_notify(3), as systemd opens it: a Unix datagram socket (here in a test's directory, or in the
 * abstract namespace), whose address goes into the {@code NOTIFY_SOCKET} of the process under test. Every datagram is
 * kept, in order, with the time it arrived.
 */
public final class NotifySocketReceiver implements AutoCloseable {
    /** One datagram: its text and when it arrived. */
    public record Notification(String text, Instant receivedAt, long receivedNanos) {
        /** Whether one of its lines is exactly {@code assignment} (for example {@code READY=1}). */
        public boolean has(String assignment) {
            return text.lines().anyMatch(assignment::equals);
        }

        /** The value of {@code NAME=} in this datagram, or null. */
        public String value(String name) {
            return text.lines().filter(l -> l.startsWith(name + "=")).map(l -> l.substring(name.length() + 1))
                    .findFirst().orElse(null);
        }
    }

    private final String notifySocket;
    private final Path path;
    private final EventLoopGroup group;
    private final Channel channel;
    private final BlockingQueue<Notification> queue;
    private final List<Notification> all = new ArrayList<>();

    private NotifySocketReceiver(String notifySocket, Path path, EventLoopGroup group, Channel channel,
            BlockingQueue<Notification> queue) {
        this.notifySocket = notifySocket;
        this.path = path;
        this.group = group;
        this.channel = channel;
        this.queue = queue;
    }

    /** Binds a socket at {@code path} (which must not exist). */
    public static NotifySocketReceiver bind(Path path) throws InterruptedException {
        return open(path.toString(), path.toAbsolutePath().toString(), path);
    }

    /** Binds a socket in the abstract namespace: {@code NOTIFY_SOCKET} is {@code @name}. */
    public static NotifySocketReceiver bindAbstract(String name) throws InterruptedException {
        return open("\0" + name, "@" + name, null);
    }

    private static NotifySocketReceiver open(String address, String notifySocket, Path path)
            throws InterruptedException {
        if (!Epoll.isAvailable()) {
            throw new IllegalStateException("Netty's native epoll transport is not available here",
                    Epoll.unavailabilityCause());
        }
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        BlockingQueue<Notification> received = new LinkedBlockingQueue<>();
        Channel channel;
        try {
            channel = new Bootstrap().group(group).channel(EpollDomainDatagramChannel.class)
                    .handler(new SimpleChannelInboundHandler<DomainDatagramPacket>() {
                        @Override
                        protected void channelRead0(ChannelHandlerContext ctx, DomainDatagramPacket packet) {
                            received.add(new Notification(packet.content().toString(StandardCharsets.UTF_8),
                                    Instant.now(), System.nanoTime()));
                        }
                    })
                    .bind(new DomainSocketAddress(address)).sync().channel();
        } catch (RuntimeException | InterruptedException e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw e;
        }
        return new NotifySocketReceiver(notifySocket, path, group, channel, received);
    }

    /** The value to put in {@code NOTIFY_SOCKET}. */
    public String notifySocket() {
        return notifySocket;
    }

    /** The next datagram within {@code bound}, or null. */
    public Notification poll(Duration bound) throws InterruptedException {
        Notification next = queue.poll(bound.toNanos(), TimeUnit.NANOSECONDS);
        if (next != null) {
            synchronized (all) {
                all.add(next);
            }
        }
        return next;
    }

    /**
     * Reads datagrams until one has the line {@code assignment}, within {@code bound}; returns it, or null when none
     * came. The datagrams read on the way stay in {@link #received()}.
     */
    public Notification await(String assignment, Duration bound) throws InterruptedException {
        long deadline = System.nanoTime() + bound.toNanos();
        while (true) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return null;
            }
            Notification next = poll(Duration.ofNanos(left));
            if (next == null) {
                return null;
            }
            if (next.has(assignment)) {
                return next;
            }
        }
    }

    /** Every datagram read so far through {@link #poll} or {@link #await}, in order. */
    public List<Notification> received() {
        synchronized (all) {
            return List.copyOf(all);
        }
    }

    @Override
    public void close() throws Exception {
        channel.close().sync();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        if (path != null) {
            Files.deleteIfExists(path);
        }
    }
}
