package dev.bourne.agent.node;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NettyChannelBuilder;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;

/**
 * The agent's gRPC channel to the server's agent API: TLS 1.3 only, the server authenticated as
 * {@code spiffe://<td>/spire/server} by {@link ServerTrust}, and the agent SVID from {@link AgentKeys} as the client
 * certificate once the agent has one (before attestation the handshake carries no client certificate).
 */
public final class ServerConnection implements AutoCloseable {
    /** Deadline of every unary call to the server. */
    public static final Duration CALL_TIMEOUT = Duration.ofSeconds(30);

    private final ManagedChannel channel;
    private final SslContext ssl;
    private final ServerTrust trust;
    private final AgentKeys keys;

    public ServerConnection(String host, int port, ServerTrust trust, AgentKeys keys) {
        this.trust = Objects.requireNonNull(trust, "trust");
        this.keys = Objects.requireNonNull(keys, "keys");
        try {
            // TLS 1.3 only (ARCHITECTURE.md section 4); JDK provider, so our trust and key managers are used as is.
            ssl = GrpcSslContexts.configure(SslContextBuilder.forClient(), SslProvider.JDK)
                    .protocols("TLSv1.3")
                    .trustManager(trust)
                    .keyManager(keys)
                    .build();
        } catch (SSLException e) {
            throw new IllegalStateException("cannot build the agent's TLS context", e);
        }
        channel = NettyChannelBuilder.forAddress(host, port)
                .sslContext(ssl)
                .maxInboundMessageSize(16 << 20)
                .build();
    }

    /** The channel, for the per-service clients. */
    public ManagedChannel channel() {
        return channel;
    }

    public ServerTrust trust() {
        return trust;
    }

    public AgentKeys keys() {
        return keys;
    }

    /**
     * Drops open connections so the next call handshakes again: after attesting (a new client certificate) or after
     * learning a new bundle.
     */
    public void reconnect() {
        // A resumed TLS session keeps the identity of the handshake that created it: a session from before
        // attestation carries no client certificate, one from before renewal the old SVID. Forget them all.
        javax.net.ssl.SSLSessionContext sessions = ssl.sessionContext();
        if (sessions != null) {
            for (var ids = sessions.getIds(); ids.hasMoreElements(); ) {
                javax.net.ssl.SSLSession session = sessions.getSession(ids.nextElement());
                if (session != null) {
                    session.invalidate();
                }
            }
        }
        channel.enterIdle();
    }

    /** What a failed call means for the agent. */
    public static ServerCallException failure(String what, StatusRuntimeException e) {
        Status status = e.getStatus();
        ServerCallException.Kind kind = switch (status.getCode()) {
            case UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED, INTERNAL, UNKNOWN, CANCELLED ->
                    ServerCallException.Kind.UNAVAILABLE;
            case UNAUTHENTICATED, PERMISSION_DENIED, NOT_FOUND -> ServerCallException.Kind.AGENT_UNKNOWN;
            default -> ServerCallException.Kind.REJECTED;
        };
        String detail = status.getDescription() != null ? status.getDescription()
                : status.getCause() != null ? String.valueOf(status.getCause().getMessage()) : "";
        return new ServerCallException(kind, what + " failed: " + status.getCode()
                + (detail.isEmpty() ? "" : " (" + detail + ")"), e);
    }

    @Override
    public void close() {
        channel.shutdownNow();
        try {
            channel.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
