package dev.bourne.bench.workload;

import io.grpc.Channel;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.DomainSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The clients' side of the benchmark: gRPC channels over grpc-netty's epoll domain-socket transport, each its own
 * connection, all sending {@code workload.spiffe.io: true} as every SPIFFE library does. The channels share one
 * client event loop group (two threads, one per core): a thousand clients in one process must not mean a thousand
 * event loop threads.
 */
final class ClientTransport implements AutoCloseable {
    static final Metadata.Key<String> SECURITY_HEADER =
            Metadata.Key.of("workload.spiffe.io", Metadata.ASCII_STRING_MARSHALLER);

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, EpollIoHandler.newFactory());
    private final ClientInterceptor header;
    private final List<ManagedChannel> channels = new ArrayList<>();

    ClientTransport() {
        Metadata metadata = new Metadata();
        metadata.put(SECURITY_HEADER, "true");
        header = MetadataUtils.newAttachHeadersInterceptor(metadata);
    }

    /** A new channel (its own Unix-socket connection, opened on first use) to {@code socket}, with the header. */
    synchronized Channel connect(Path socket) {
        ManagedChannel channel = NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toString()))
                .channelType(EpollDomainSocketChannel.class)
                .eventLoopGroup(group)
                .withOption(ChannelOption.SO_KEEPALIVE, null) // not a socket option of AF_UNIX
                .usePlaintext()
                .overrideAuthority("localhost")
                .build();
        channels.add(channel);
        return ClientInterceptors.intercept(channel, header);
    }

    /** Closes every channel opened so far (open streams end) and keeps the event loops for the next phase. */
    synchronized void closeChannels() throws InterruptedException {
        for (ManagedChannel channel : channels) {
            channel.shutdownNow();
        }
        for (ManagedChannel channel : channels) {
            channel.awaitTermination(10, TimeUnit.SECONDS);
        }
        channels.clear();
    }

    @Override
    public void close() throws InterruptedException {
        closeChannels();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
