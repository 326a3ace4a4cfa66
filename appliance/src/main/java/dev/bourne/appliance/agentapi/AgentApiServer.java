package dev.bourne.appliance.agentapi;

import dev.bourne.appliance.health.ServerMetrics;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NettyServerBuilder;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.net.ssl.X509ExtendedTrustManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent API listener: gRPC over Netty on TCP with TLS 1.3 only. The server presents its current SVID, read at
 * every handshake from a supplier, so a rotated SVID takes effect for the next connection without a restart. Client
 * certificates are requested but optional (an agent attests before it has one); every call except the open ones is
 * authenticated by {@link AgentAuthInterceptor} against the live bundle and datastore.
 */
public final class AgentApiServer implements AutoCloseable {
    /** Agent API messages are CSRs, entry lists and attestation evidence; 4 MiB bounds a sync of many entries. */
    static final int MAX_INBOUND_MESSAGE_BYTES = 4 * 1024 * 1024;
    static final int MAX_INBOUND_METADATA_BYTES = 8 * 1024;
    static final String TLS_1_3 = "TLSv1.3";

    private static final Logger LOG = LoggerFactory.getLogger(AgentApiServer.class);

    private final Server server;
    private final ExecutorService attestationExecutor;

    private AgentApiServer(Server server, ExecutorService attestationExecutor) {
        this.server = server;
        this.attestationExecutor = attestationExecutor;
    }

    /**
     * Binds {@code address}:{@code port} (0 picks a free port) and serves the agent API.
     *
     * @param credential the server SVID's key and chain, read at each handshake
     * @param attestationExecutor runs attestations (they may block waiting for challenge answers); closed on close
     */
    public static AgentApiServer start(String address, int port, Supplier<TlsCredential> credential,
            AgentAttestation attestation, EntrySvids svids, AgentAuthenticator authenticator,
            dev.bourne.appliance.ca.CaManager ca, ServerMetrics metrics, Clock clock,
            ExecutorService attestationExecutor) throws IOException {
        Objects.requireNonNull(credential, "credential");
        SslContext ssl = GrpcSslContexts.configure(SslContextBuilder.forServer(new CurrentSvidKeyManager(credential)),
                        SslProvider.JDK)
                .protocols(TLS_1_3)
                .clientAuth(ClientAuth.OPTIONAL)
                .trustManager(new DeferredClientTrust())
                .build();
        AgentAuthInterceptor auth = new AgentAuthInterceptor(authenticator);
        MetricsInterceptor timing = new MetricsInterceptor(metrics, clock);
        Server server = NettyServerBuilder.forAddress(new InetSocketAddress(address, port))
                .sslContext(ssl)
                .maxInboundMessageSize(MAX_INBOUND_MESSAGE_BYTES)
                .maxInboundMetadataSize(MAX_INBOUND_METADATA_BYTES)
                .permitKeepAliveTime(30, TimeUnit.SECONDS)
                .addService(ServerInterceptors.intercept(new AgentService(attestation, attestationExecutor), auth,
                        timing))
                .addService(ServerInterceptors.intercept(new SvidService(svids), auth, timing))
                .addService(ServerInterceptors.intercept(new EntryService(svids), auth, timing))
                .addService(ServerInterceptors.intercept(new BundleService(ca), auth, timing))
                .build();
        server.start();
        LOG.info("agent API listening on {}:{} (TLS 1.3)", address, server.getPort());
        return new AgentApiServer(server, attestationExecutor);
    }

    /** The bound port (useful when started on port 0). */
    public int port() {
        return server.getPort();
    }

    @Override
    public void close() {
        server.shutdown();
        attestationExecutor.shutdownNow();
        try {
            if (!server.awaitTermination(5, TimeUnit.SECONDS)) {
                server.shutdownNow();
                server.awaitTermination(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            server.shutdownNow();
        }
    }

    /** Presents whatever server SVID is current at the moment of each handshake. */
    private static final class CurrentSvidKeyManager extends X509ExtendedKeyManager {
        private static final String ALIAS = "server-svid";
        private final Supplier<TlsCredential> credential;

        CurrentSvidKeyManager(Supplier<TlsCredential> credential) {
            this.credential = credential;
        }

        @Override
        public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
            return ALIAS;
        }

        @Override
        public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
            return ALIAS;
        }

        @Override
        public X509Certificate[] getCertificateChain(String alias) {
            return credential.get().chain().toArray(new X509Certificate[0]);
        }

        @Override
        public PrivateKey getPrivateKey(String alias) {
            return credential.get().privateKey();
        }

        @Override
        public String[] getServerAliases(String keyType, Principal[] issuers) {
            return new String[] {ALIAS};
        }

        @Override
        public String[] getClientAliases(String keyType, Principal[] issuers) {
            return new String[0];
        }

        @Override
        public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
            return null;
        }
    }

    /**
     * Accepts any client certificate chain at the TLS layer, which still proves the client holds the leaf's private
     * key (CertificateVerify). Whether the chain is a live agent SVID is decided per call by
     * {@link AgentAuthenticator} against the bundle and datastore of that moment, so bundle rotation, eviction and
     * bans apply at once and the caller gets a gRPC status that says why, not a failed handshake.
     */
    private static final class DeferredClientTrust extends X509ExtendedTrustManager {
        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) {
            // deferred to AgentAuthenticator
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) {
            // deferred to AgentAuthenticator
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {
            // deferred to AgentAuthenticator
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            throw new CertificateException("the agent API is a server");
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
                throws CertificateException {
            throw new CertificateException("the agent API is a server");
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                throws CertificateException {
            throw new CertificateException("the agent API is a server");
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }
}
