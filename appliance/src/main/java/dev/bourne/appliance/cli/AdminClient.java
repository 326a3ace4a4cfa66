package dev.bourne.appliance.cli;

import dev.bourne.api.v1.AgentGrpc;
import dev.bourne.api.v1.BundleGrpc;
import dev.bourne.api.v1.EntryGrpc;
import dev.bourne.api.v1.LocalAuthorityGrpc;
import dev.bourne.api.v1.SVIDGrpc;
import dev.bourne.api.v1.TpmEnrollmentGrpc;
import dev.bourne.api.v1.TrustDomainGrpc;
import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.NettyChannelBuilder;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.DomainSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A client of the server's admin API over its Unix socket (plaintext: the socket's file mode is the access control).
 * Every stub carries a deadline so a hung server cannot hang the CLI.
 */
final class AdminClient implements AutoCloseable {
    static final String NO_EPOLL = "the native epoll transport is not available (Linux x86_64 only)";
    static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

    private final EventLoopGroup group;
    private final ManagedChannel channel;
    private final Duration timeout;

    AdminClient(Path socket, Duration timeout) throws CliException {
        if (!Epoll.isAvailable()) {
            throw new CliException(NO_EPOLL);
        }
        this.timeout = timeout;
        group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        channel = NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toString()))
                .channelType(EpollDomainSocketChannel.class)
                .eventLoopGroup(group)
                // grpc-netty sets SO_KEEPALIVE, which is not an AF_UNIX option: unset it to avoid a warning.
                .withOption(io.netty.channel.ChannelOption.SO_KEEPALIVE, null)
                .usePlaintext()
                .overrideAuthority("localhost")
                .build();
    }

    EntryGrpc.EntryBlockingStub entries() {
        return EntryGrpc.newBlockingStub(channel).withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    AgentGrpc.AgentBlockingStub agents() {
        return AgentGrpc.newBlockingStub(channel).withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    BundleGrpc.BundleBlockingStub bundles() {
        return BundleGrpc.newBlockingStub(channel).withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    SVIDGrpc.SVIDBlockingStub svids() {
        return SVIDGrpc.newBlockingStub(channel).withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    LocalAuthorityGrpc.LocalAuthorityBlockingStub localAuthority() {
        return LocalAuthorityGrpc.newBlockingStub(channel)
                .withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    TpmEnrollmentGrpc.TpmEnrollmentBlockingStub tpmEnrollments() {
        return TpmEnrollmentGrpc.newBlockingStub(channel)
                .withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    TrustDomainGrpc.TrustDomainBlockingStub trustDomains() {
        return TrustDomainGrpc.newBlockingStub(channel).withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    HealthGrpc.HealthBlockingStub health() {
        return HealthGrpc.newBlockingStub(channel).withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() {
        channel.shutdownNow();
        try {
            channel.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }
}
