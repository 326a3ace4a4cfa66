package dev.bourne.agent.workloadapi;

import dev.bourne.agent.workloadattestor.ProcessStartTimes;
import dev.bourne.agent.workloadattestor.WorkloadProcess;
import io.grpc.Attributes;
import io.grpc.netty.GrpcHttp2ConnectionHandler;
import io.grpc.netty.InternalProtocolNegotiationEvent;
import io.grpc.netty.InternalProtocolNegotiator;
import io.grpc.netty.InternalProtocolNegotiators;
import io.grpc.netty.ProtocolNegotiationEvent;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.unix.PeerCredentials;
import io.netty.util.AsciiString;
import java.io.IOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place where the caller's kernel credentials enter gRPC: grpc-java has no API for Unix-socket peer
 * credentials (grpc-java issue 2646), so this negotiator, placed in front of the plaintext one, reads
 * {@code SO_PEERCRED} from Netty's epoll channel once per connection, captures the process start time, and stores
 * both as a transport attribute that {@link CallerInterceptor} moves into the call's {@code Context}.
 *
 * <p>A connection whose peer cannot be identified (no credentials, pid 0 from another pid namespace) is closed
 * before any request is read.
 */
final class PeerCredentialsNegotiator implements InternalProtocolNegotiator.ProtocolNegotiator {
    private static final Logger LOG = LoggerFactory.getLogger(PeerCredentialsNegotiator.class);

    /** The transport attribute holding the connection's {@link WorkloadProcess}. */
    static final Attributes.Key<WorkloadProcess> CALLER = Attributes.Key.create("bourne.workload-caller");

    private final InternalProtocolNegotiator.ProtocolNegotiator plaintext =
            InternalProtocolNegotiators.serverPlaintext();
    private final ProcessStartTimes startTimes;

    PeerCredentialsNegotiator(ProcessStartTimes startTimes) {
        this.startTimes = startTimes;
    }

    @Override
    public AsciiString scheme() {
        return plaintext.scheme();
    }

    @Override
    public ChannelHandler newHandler(GrpcHttp2ConnectionHandler grpcHandler) {
        return new Handler(plaintext.newHandler(grpcHandler), grpcHandler, startTimes);
    }

    @Override
    public void close() {
        plaintext.close();
    }

    private static final class Handler extends InternalProtocolNegotiators.ProtocolNegotiationHandler {
        private final ProcessStartTimes startTimes;

        Handler(ChannelHandler next, GrpcHttp2ConnectionHandler grpcHandler, ProcessStartTimes startTimes) {
            super(next, "bourne-peer-credentials", grpcHandler.getNegotiationLogger());
            this.startTimes = startTimes;
        }

        @Override
        protected void protocolNegotiationEventTriggered(ChannelHandlerContext ctx) {
            WorkloadProcess caller = identify(ctx);
            if (caller == null) {
                ctx.close();
                return;
            }
            ProtocolNegotiationEvent event = getProtocolNegotiationEvent();
            Attributes attributes = InternalProtocolNegotiationEvent.getAttributes(event).toBuilder()
                    .set(CALLER, caller)
                    .build();
            replaceProtocolNegotiationEvent(InternalProtocolNegotiationEvent.withAttributes(event, attributes));
            fireProtocolNegotiationEvent(ctx);
        }

        private WorkloadProcess identify(ChannelHandlerContext ctx) {
            if (!(ctx.channel() instanceof EpollDomainSocketChannel channel)) {
                LOG.warn("Workload API connection on a {} has no peer credentials: closed",
                        ctx.channel().getClass().getSimpleName());
                return null;
            }
            PeerCredentials credentials;
            try {
                credentials = channel.peerCredentials();
            } catch (IOException e) {
                LOG.warn("cannot read SO_PEERCRED of a Workload API connection: closed ({})", e.getMessage());
                return null;
            }
            int[] gids = credentials.gids();
            if (credentials.pid() <= 0 || gids.length == 0) {
                // pid 0: the peer lives in a pid namespace the agent cannot see into; /proc facts would be wrong.
                LOG.warn("Workload API peer without a visible pid (uid {}): closed",
                        Integer.toUnsignedString(credentials.uid()));
                return null;
            }
            return startTimes.capture(credentials.pid(), credentials.uid(), gids[0]);
        }
    }
}
