package dev.bourne.appliance.server;

import com.google.protobuf.ByteString;
import dev.bourne.api.v1.AgentGrpc;
import dev.bourne.api.v1.AgentX509SVIDParams;
import dev.bourne.api.v1.AttestAgentRequest;
import dev.bourne.api.v1.AttestAgentResponse;
import dev.bourne.api.v1.AttestationData;
import dev.bourne.api.v1.BundleGrpc;
import dev.bourne.api.v1.EntryGrpc;
import dev.bourne.api.v1.SVIDGrpc;
import dev.bourne.api.v1.X509SVID;
import dev.bourne.core.bundle.BundleSource;
import dev.bourne.core.bundle.SpiffeBundle;
import dev.bourne.core.spiffeid.SpiffeId;
import dev.bourne.core.spiffeid.TrustDomain;
import dev.bourne.core.svid.x509.X509Svid;
import dev.bourne.core.svid.x509.X509SvidVerifier;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.io.ByteArrayInputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

/**
 * A real agent API client for tests: grpc-netty over TLS, trusting only the given bundle and the server's SPIFFE ID,
 * optionally presenting an agent SVID.
 */
final class AgentClient implements AutoCloseable {
    private final ManagedChannel channel;

    private AgentClient(ManagedChannel channel) {
        this.channel = channel;
    }

    static AgentClient connect(int port, SpiffeBundle bundle) throws Exception {
        return connect(port, bundle, null, null, "TLSv1.3");
    }

    static AgentClient connect(int port, SpiffeBundle bundle, PrivateKey key, List<X509Certificate> chain)
            throws Exception {
        return connect(port, bundle, key, chain, "TLSv1.3");
    }

    static AgentClient connect(int port, SpiffeBundle bundle, PrivateKey key, List<X509Certificate> chain,
            String protocol) throws Exception {
        SslContextBuilder builder = GrpcSslContexts.configure(SslContextBuilder.forClient(), SslProvider.JDK)
                .protocols(protocol)
                .trustManager(new ServerTrust(bundle));
        if (key != null) {
            builder.keyManager(key, chain.toArray(new X509Certificate[0]));
        }
        ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", port).sslContext(builder.build())
                .build();
        return new AgentClient(channel);
    }

    /** The TLS channel, for raw streams. */
    ManagedChannel channel() {
        return channel;
    }

    AgentGrpc.AgentBlockingStub agent() {
        return AgentGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    SVIDGrpc.SVIDBlockingStub svid() {
        return SVIDGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    EntryGrpc.EntryBlockingStub entry() {
        return EntryGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    BundleGrpc.BundleBlockingStub bundle() {
        return BundleGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    /** Runs AttestAgent with a join token and a CSR for {@code keys}; throws the call's StatusRuntimeException. */
    AttestAgentResponse.Result attestJoinToken(String token, KeyPair keys) throws Exception {
        return attest("join_token", token.getBytes(StandardCharsets.UTF_8), csr(keys));
    }

    AttestAgentResponse.Result attest(String type, byte[] payload, byte[] csr) throws Exception {
        CompletableFuture<AttestAgentResponse.Result> result = new CompletableFuture<>();
        StreamObserver<AttestAgentRequest> requests = AgentGrpc.newStub(channel)
                .withDeadlineAfter(30, TimeUnit.SECONDS).attestAgent(new StreamObserver<>() {
                    @Override
                    public void onNext(AttestAgentResponse response) {
                        if (response.hasResult()) {
                            result.complete(response.getResult());
                        } else {
                            result.completeExceptionally(new AssertionError("unexpected challenge"));
                        }
                    }

                    @Override
                    public void onError(Throwable t) {
                        result.completeExceptionally(t);
                    }

                    @Override
                    public void onCompleted() {
                        result.completeExceptionally(new AssertionError("stream ended without a result"));
                    }
                });
        requests.onNext(AttestAgentRequest.newBuilder().setParams(AttestAgentRequest.Params.newBuilder()
                .setData(AttestationData.newBuilder().setType(type).setPayload(ByteString.copyFrom(payload)))
                .setParams(AgentX509SVIDParams.newBuilder().setCsr(ByteString.copyFrom(csr)))).build());
        try {
            AttestAgentResponse.Result out = result.get(30, TimeUnit.SECONDS);
            requests.onCompleted();
            return out;
        } catch (ExecutionException e) {
            if (e.getCause() instanceof StatusRuntimeException status) {
                throw status;
            }
            throw e;
        }
    }

    /** A PKCS#10 request for {@code keys}, without SANs (the server sets the SPIFFE ID). */
    static byte[] csr(KeyPair keys) throws Exception {
        return new JcaPKCS10CertificationRequestBuilder(new X500Name("CN=agent"), keys.getPublic())
                .build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate())).getEncoded();
    }

    static List<X509Certificate> chain(X509SVID svid) throws CertificateException {
        CertificateFactory factory = CertificateFactory.getInstance("X.509");
        List<X509Certificate> chain = new ArrayList<>();
        for (ByteString der : svid.getCertChainList()) {
            chain.add((X509Certificate) factory.generateCertificate(new ByteArrayInputStream(der.toByteArray())));
        }
        return chain;
    }

    @Override
    public void close() throws InterruptedException {
        channel.shutdownNow();
        channel.awaitTermination(5, TimeUnit.SECONDS);
    }

    /** Trusts a server whose chain is an X.509-SVID of the bundle's trust domain naming {@code /spire/server}. */
    private static final class ServerTrust extends X509ExtendedTrustManager {
        private final SpiffeBundle bundle;
        private final SpiffeId serverId;

        ServerTrust(SpiffeBundle bundle) {
            this.bundle = bundle;
            this.serverId = SpiffeId.of(bundle.trustDomain(), "spire", "server");
        }

        private void check(X509Certificate[] chain) throws CertificateException {
            try {
                X509Svid svid = new X509SvidVerifier(BundleSource.of(List.of(bundle)), Clock.systemUTC())
                        .verify(List.of(chain));
                if (!svid.spiffeId().equals(serverId)) {
                    throw new CertificateException("not the server: " + svid.spiffeId());
                }
            } catch (dev.bourne.core.svid.x509.X509SvidException e) {
                throw new CertificateException(e.getMessage(), e);
            }
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                throws CertificateException {
            check(chain);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
                throws CertificateException {
            check(chain);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            check(chain);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                throws CertificateException {
            throw new CertificateException("client only");
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
                throws CertificateException {
            throw new CertificateException("client only");
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            throw new CertificateException("client only");
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }

    static TrustDomain trustDomain() {
        return TrustDomain.parse(TestServers.TRUST_DOMAIN);
    }
}
