package dev.bourne.agent.cli;

import dev.bourne.workload.v1.JWTBundlesRequest;
import dev.bourne.workload.v1.JWTBundlesResponse;
import dev.bourne.workload.v1.JWTSVIDRequest;
import dev.bourne.workload.v1.JWTSVIDResponse;
import dev.bourne.workload.v1.SpiffeWorkloadAPIGrpc;
import dev.bourne.workload.v1.ValidateJWTSVIDRequest;
import dev.bourne.workload.v1.ValidateJWTSVIDResponse;
import dev.bourne.workload.v1.X509SVIDRequest;
import dev.bourne.workload.v1.X509SVIDResponse;
import io.grpc.ClientInterceptor;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.DomainSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A SPIFFE Workload API client over a Unix socket: the {@code bourne-agent api} commands and {@code healthcheck} are
 * themselves workloads asking the agent for their own identity. Every call carries {@code workload.spiffe.io: true}.
 */
public final class WorkloadClient implements AutoCloseable {
    /** The header the Workload API requires on every call. */
    static final Metadata.Key<String> SECURITY_HEADER =
            Metadata.Key.of("workload.spiffe.io", Metadata.ASCII_STRING_MARSHALLER);
    public static final String NO_EPOLL = "the native epoll transport is not available (Linux x86_64 only)";

    private final EventLoopGroup group;
    private final ManagedChannel channel;
    private final ClientInterceptor header;
    private final Duration timeout;

    /**
     * @param socket the Workload API socket
     * @param timeout deadline of each unary call and of the first message of a stream
     */
    public WorkloadClient(Path socket, Duration timeout) throws CliException {
        if (!Epoll.isAvailable()) {
            throw new CliException(NO_EPOLL);
        }
        this.timeout = timeout;
        group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        channel = NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toString()))
                .channelType(EpollDomainSocketChannel.class)
                .eventLoopGroup(group)
                .withOption(io.netty.channel.ChannelOption.SO_KEEPALIVE, null) // not an AF_UNIX socket option
                .usePlaintext()
                .overrideAuthority("localhost")
                .build();
        Metadata metadata = new Metadata();
        metadata.put(SECURITY_HEADER, "true");
        header = MetadataUtils.newAttachHeadersInterceptor(metadata);
    }

    private SpiffeWorkloadAPIGrpc.SpiffeWorkloadAPIBlockingStub blocking() {
        return SpiffeWorkloadAPIGrpc.newBlockingStub(channel).withInterceptors(header)
                .withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** The caller's current X.509-SVIDs and bundles: the first message of FetchX509SVID. */
    public X509SVIDResponse fetchX509() {
        // A cancellable context ends the server stream once the first message is read.
        try (Context.CancellableContext context = Context.current().withCancellation()) {
            return context.call(() -> blocking().fetchX509SVID(X509SVIDRequest.getDefaultInstance()).next());
        } catch (StatusRuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** The caller's JWT bundles: the first message of FetchJWTBundles. */
    public JWTBundlesResponse fetchJwtBundles() {
        try (Context.CancellableContext context = Context.current().withCancellation()) {
            return context.call(() -> blocking().fetchJWTBundles(JWTBundlesRequest.getDefaultInstance()).next());
        } catch (StatusRuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** JWT-SVIDs for {@code audience}; for {@code spiffeId} only if not empty. */
    public JWTSVIDResponse fetchJwt(List<String> audience, String spiffeId) {
        return blocking().fetchJWTSVID(JWTSVIDRequest.newBuilder().addAllAudience(audience).setSpiffeId(spiffeId)
                .build());
    }

    /** Validates {@code token} for {@code audience} through the agent. */
    public ValidateJWTSVIDResponse validateJwt(String audience, String token) {
        return blocking().validateJWTSVID(ValidateJWTSVIDRequest.newBuilder().setAudience(audience).setSvid(token)
                .build());
    }

    /**
     * The FetchX509SVID stream, for {@code api watch}: each element is the complete current set. Runs in
     * {@code context}, so cancelling it ends the stream.
     */
    public Iterator<X509SVIDResponse> watchX509(Context.CancellableContext context) {
        try {
            return context.call(() -> SpiffeWorkloadAPIGrpc.newBlockingStub(channel).withInterceptors(header)
                    .fetchX509SVID(X509SVIDRequest.getDefaultInstance()));
        } catch (StatusRuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        channel.shutdownNow();
        try {
            channel.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
