package dev.bourne.agent.workloadapi;

import dev.bourne.workload.v1.SpiffeWorkloadAPIGrpc;
import io.grpc.ClientInterceptor;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.DomainSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A plain gRPC client of the Workload API over the Unix socket, built on core's generated stubs: unlike a SPIFFE
 * library it can leave out the security header or send a different value, and it reports raw status codes.
 */
final class RawWorkloadClient implements AutoCloseable {
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    private final ManagedChannel channel;
    private final List<ClientInterceptor> interceptors;

    /** @param header the value of {@code workload.spiffe.io}, or null to send none */
    RawWorkloadClient(Path socket, String header) {
        channel = NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toString()))
                .channelType(EpollDomainSocketChannel.class)
                .eventLoopGroup(group)
                .withOption(io.netty.channel.ChannelOption.SO_KEEPALIVE, null) // not a socket option of AF_UNIX
                .usePlaintext()
                .overrideAuthority("localhost")
                .build();
        if (header == null) {
            interceptors = List.of();
        } else {
            Metadata metadata = new Metadata();
            metadata.put(CallerInterceptor.SECURITY_HEADER, header);
            interceptors = List.of(MetadataUtils.newAttachHeadersInterceptor(metadata));
        }
    }

    static RawWorkloadClient withHeader(Path socket) {
        return new RawWorkloadClient(socket, "true");
    }

    SpiffeWorkloadAPIGrpc.SpiffeWorkloadAPIBlockingStub blocking() {
        return SpiffeWorkloadAPIGrpc.newBlockingStub(channel)
                .withInterceptors(interceptors.toArray(new ClientInterceptor[0]))
                .withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    SpiffeWorkloadAPIGrpc.SpiffeWorkloadAPIStub async() {
        return SpiffeWorkloadAPIGrpc.newStub(channel).withInterceptors(interceptors.toArray(new ClientInterceptor[0]));
    }

    @Override
    public void close() throws InterruptedException {
        channel.shutdownNow();
        channel.awaitTermination(10, TimeUnit.SECONDS);
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
