package dev.bourne.agent.runtime;

import com.google.protobuf.ByteString;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.bourne.api.v1.AgentGrpc;
import dev.bourne.api.v1.AttestAgentRequest;
import dev.bourne.api.v1.AttestAgentResponse;
import dev.bourne.api.v1.BatchNewX509SVIDRequest;
import dev.bourne.api.v1.BatchNewX509SVIDResponse;
import dev.bourne.api.v1.BundleGrpc;
import dev.bourne.api.v1.EntryGrpc;
import dev.bourne.api.v1.EntryRevision;
import dev.bourne.api.v1.GetBundleRequest;
import dev.bourne.api.v1.JWTKey;
import dev.bourne.api.v1.JWTSVID;
import dev.bourne.api.v1.NewJWTSVIDRequest;
import dev.bourne.api.v1.NewJWTSVIDResponse;
import dev.bourne.api.v1.NewX509SVIDParams;
import dev.bourne.api.v1.RegistrationEntry;
import dev.bourne.api.v1.RenewAgentRequest;
import dev.bourne.api.v1.RenewAgentResponse;
import dev.bourne.api.v1.SVIDGrpc;
import dev.bourne.api.v1.SyncAuthorizedEntriesRequest;
import dev.bourne.api.v1.SyncAuthorizedEntriesResponse;
import dev.bourne.api.v1.TrustBundle;
import dev.bourne.api.v1.X509SVID;
import dev.bourne.core.spiffeid.SpiffeId;
import dev.bourne.core.svid.x509.X509Svid;
import dev.bourne.testing.pki.TestCa;
import dev.bourne.testing.pki.TestKeys;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.PublicKey;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPrivateKey;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequest;

/**
 * A stand-in for the Bourne server's agent API in the agent's tests: the real protocol (gRPC, TLS 1.3, the agent SVID
 * as mTLS client certificate, join tokens that work once, revision-based sync) with a TestCa as its CA. It exists
 * because agent/ must not depend on appliance/ at compile scope; the end-to-end test with the real server lives
 * where both are available.
 */
final class FakeBourneServer implements AutoCloseable {
    static final String TD = "example.org";
    static final String JWT_KID = "jwt-1";
    private static final Context.Key<SpiffeId> PEER = Context.key("peer-spiffe-id");

    final TestCa ca = TestCa.root(TD);
    final KeyPair jwtKey = TestKeys.ecP256(21);
    final KeyPair serverKey = TestKeys.ecP256(22);
    final Set<String> tokens = ConcurrentHashMap.newKeySet();
    final Set<SpiffeId> evicted = ConcurrentHashMap.newKeySet();
    final Map<String, RegistrationEntry> entries = new ConcurrentHashMap<>();
    final AtomicInteger attestations = new AtomicInteger();
    final AtomicInteger renewals = new AtomicInteger();
    final AtomicInteger jwtIssued = new AtomicInteger();
    volatile Duration agentTtl = Duration.ofHours(1);
    volatile String serverId = "spiffe://example.org/spire/server";
    private final AtomicInteger revisions = new AtomicInteger();
    private Server server;
    private int port;

    /** Starts on {@code port} (0 for any). */
    void start(int wantedPort) throws IOException {
        X509Certificate serverCert = ca.leaf(serverId, serverKey.getPublic());
        var ssl = GrpcSslContexts.configure(SslContextBuilder.forServer(serverKey.getPrivate(), serverCert),
                        SslProvider.JDK)
                .protocols("TLSv1.3")
                .clientAuth(ClientAuth.OPTIONAL)
                .trustManager(ca.certificate())
                .build();
        ServerInterceptor peer = new ServerInterceptor() {
            @Override
            public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                    ServerCallHandler<Q, R> next) {
                SpiffeId id = null;
                SSLSession session = call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION);
                if (session != null) {
                    try {
                        Certificate[] chain = session.getPeerCertificates();
                        id = X509Svid.leafSpiffeId((X509Certificate) chain[0]);
                    } catch (SSLPeerUnverifiedException | dev.bourne.core.svid.x509.X509SvidException e) {
                        id = null;
                    }
                }
                return Contexts.interceptCall(Context.current().withValue(PEER, id), call, headers, next);
            }
        };
        server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", wantedPort))
                .sslContext(ssl)
                .addService(ServerInterceptors.intercept(new AgentService(), peer))
                .addService(ServerInterceptors.intercept(new EntryService(), peer))
                .addService(ServerInterceptors.intercept(new SvidService(), peer))
                .addService(ServerInterceptors.intercept(new BundleService(), peer))
                .build()
                .start();
        port = server.getPort();
    }

    int port() {
        return port;
    }

    void stop() throws InterruptedException {
        server.shutdownNow();
        server.awaitTermination(10, TimeUnit.SECONDS);
    }

    @Override
    public void close() throws InterruptedException {
        stop();
    }

    /** Creates or updates an entry (a new revision each time). */
    void putEntry(String id, String spiffeId, String selectorType, String selectorValue) {
        entries.put(id, RegistrationEntry.newBuilder().setId(id).setSpiffeId(spiffeId)
                .addSelectors(dev.bourne.api.v1.Selector.newBuilder().setType(selectorType).setValue(selectorValue))
                .setRevisionNumber(revisions.incrementAndGet()).build());
    }

    private X509SVID issue(byte[] csrDer, String id, Duration ttl) throws IOException {
        PublicKey key;
        try {
            JcaPKCS10CertificationRequest csr = new JcaPKCS10CertificationRequest(csrDer);
            key = csr.getPublicKey();
            if (!csr.isSignatureValid(new org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder()
                    .build(key))) {
                throw new IOException("bad CSR signature");
            }
        } catch (java.security.GeneralSecurityException | org.bouncycastle.operator.OperatorCreationException
                | org.bouncycastle.pkcs.PKCSException | IllegalArgumentException e) {
            throw new IOException("bad CSR", e);
        }
        Instant now = Instant.now();
        X509Certificate leaf = ca.leafSpec(id, key).validity(now.minusSeconds(5), now.plus(ttl)).issue();
        try {
            return X509SVID.newBuilder().setId(id).addCertChain(ByteString.copyFrom(leaf.getEncoded()))
                    .setExpiresAt(leaf.getNotAfter().toInstant().getEpochSecond()).build();
        } catch (java.security.cert.CertificateEncodingException e) {
            throw new IOException(e);
        }
    }

    /** The calling agent, if it presented an SVID the server still knows. */
    private SpiffeId agent() {
        SpiffeId id = PEER.get();
        if (id == null) {
            throw Status.UNAUTHENTICATED.withDescription("no agent SVID").asRuntimeException();
        }
        if (evicted.contains(id)) {
            throw Status.PERMISSION_DENIED.withDescription("agent is not attested").asRuntimeException();
        }
        return id;
    }

    private final class AgentService extends AgentGrpc.AgentImplBase {
        @Override
        public StreamObserver<AttestAgentRequest> attestAgent(StreamObserver<AttestAgentResponse> response) {
            return new StreamObserver<>() {
                @Override
                public void onNext(AttestAgentRequest request) {
                    if (!request.hasParams() || !request.getParams().getData().getType().equals("join_token")) {
                        response.onError(Status.INVALID_ARGUMENT.withDescription("join_token expected")
                                .asRuntimeException());
                        return;
                    }
                    String token = request.getParams().getData().getPayload().toString(StandardCharsets.UTF_8);
                    if (!tokens.remove(token)) {
                        response.onError(Status.PERMISSION_DENIED.withDescription("failed to attest: join token "
                                + "does not exist or has already been used").asRuntimeException());
                        return;
                    }
                    try {
                        X509SVID svid = issue(request.getParams().getParams().getCsr().toByteArray(),
                                "spiffe://" + TD + "/spire/agent/join_token/" + token, agentTtl);
                        attestations.incrementAndGet();
                        response.onNext(AttestAgentResponse.newBuilder().setResult(AttestAgentResponse.Result
                                .newBuilder().setSvid(svid)).build());
                        response.onCompleted();
                    } catch (IOException e) {
                        response.onError(Status.INVALID_ARGUMENT.withDescription("bad CSR").asRuntimeException());
                    }
                }

                @Override
                public void onError(Throwable t) {
                }

                @Override
                public void onCompleted() {
                }
            };
        }

        @Override
        public void renewAgent(RenewAgentRequest request, StreamObserver<RenewAgentResponse> response) {
            try {
                SpiffeId agent = agent();
                X509SVID svid = issue(request.getParams().getCsr().toByteArray(), agent.toString(), agentTtl);
                renewals.incrementAndGet();
                response.onNext(RenewAgentResponse.newBuilder().setSvid(svid).build());
                response.onCompleted();
            } catch (io.grpc.StatusRuntimeException e) {
                response.onError(e);
            } catch (IOException e) {
                response.onError(Status.INVALID_ARGUMENT.withDescription("bad CSR").asRuntimeException());
            }
        }
    }

    private final class EntryService extends EntryGrpc.EntryImplBase {
        @Override
        public void syncAuthorizedEntries(SyncAuthorizedEntriesRequest request,
                StreamObserver<SyncAuthorizedEntriesResponse> response) {
            try {
                agent();
            } catch (io.grpc.StatusRuntimeException e) {
                response.onError(e);
                return;
            }
            Map<String, Long> known = new java.util.HashMap<>();
            for (EntryRevision r : request.getKnownList()) {
                known.put(r.getId(), r.getRevisionNumber());
            }
            SyncAuthorizedEntriesResponse.Builder out = SyncAuthorizedEntriesResponse.newBuilder();
            for (RegistrationEntry entry : entries.values()) {
                Long revision = known.get(entry.getId());
                if (revision == null || revision != entry.getRevisionNumber()) {
                    out.addChanged(entry);
                }
            }
            for (String id : known.keySet()) {
                if (!entries.containsKey(id)) {
                    out.addRemovedIds(id);
                }
            }
            response.onNext(out.build());
            response.onCompleted();
        }
    }

    private final class SvidService extends SVIDGrpc.SVIDImplBase {
        @Override
        public void batchNewX509SVID(BatchNewX509SVIDRequest request,
                StreamObserver<BatchNewX509SVIDResponse> response) {
            try {
                agent();
            } catch (io.grpc.StatusRuntimeException e) {
                response.onError(e);
                return;
            }
            BatchNewX509SVIDResponse.Builder out = BatchNewX509SVIDResponse.newBuilder();
            for (NewX509SVIDParams params : request.getParamsList()) {
                RegistrationEntry entry = entries.get(params.getEntryId());
                BatchNewX509SVIDResponse.Result.Builder result = BatchNewX509SVIDResponse.Result.newBuilder();
                if (entry == null) {
                    result.setStatus(dev.bourne.api.v1.Status.newBuilder().setCode(5).setMessage("entry not found"));
                } else {
                    try {
                        result.setSvid(issue(params.getCsr().toByteArray(), entry.getSpiffeId(),
                                Duration.ofHours(1)));
                        result.setStatus(dev.bourne.api.v1.Status.newBuilder().setCode(0));
                    } catch (IOException e) {
                        result.setStatus(dev.bourne.api.v1.Status.newBuilder().setCode(3).setMessage("bad CSR"));
                    }
                }
                out.addResults(result);
            }
            response.onNext(out.build());
            response.onCompleted();
        }

        @Override
        public void newJWTSVID(NewJWTSVIDRequest request, StreamObserver<NewJWTSVIDResponse> response) {
            try {
                agent();
            } catch (io.grpc.StatusRuntimeException e) {
                response.onError(e);
                return;
            }
            RegistrationEntry entry = entries.get(request.getEntryId());
            if (entry == null) {
                response.onError(Status.NOT_FOUND.withDescription("entry not found").asRuntimeException());
                return;
            }
            Instant now = Instant.now();
            Instant exp = now.plus(Duration.ofMinutes(5));
            JWTClaimsSet claims = new JWTClaimsSet.Builder().subject(entry.getSpiffeId())
                    .audience(new ArrayList<>(request.getAudienceList())).issueTime(Date.from(now))
                    .expirationTime(Date.from(exp)).jwtID(UUID.randomUUID().toString()).build();
            SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID(JWT_KID)
                    .type(JOSEObjectType.JWT).build(), claims);
            try {
                jwt.sign(new ECDSASigner((ECPrivateKey) jwtKey.getPrivate(), Curve.P_256));
            } catch (JOSEException e) {
                response.onError(Status.INTERNAL.asRuntimeException());
                return;
            }
            jwtIssued.incrementAndGet();
            response.onNext(NewJWTSVIDResponse.newBuilder().setSvid(JWTSVID.newBuilder().setToken(jwt.serialize())
                    .setId(entry.getSpiffeId()).setIssuedAt(now.getEpochSecond()).setExpiresAt(exp.getEpochSecond()))
                    .build());
            response.onCompleted();
        }
    }

    private final class BundleService extends BundleGrpc.BundleImplBase {
        @Override
        public void getBundle(GetBundleRequest request, StreamObserver<TrustBundle> response) {
            try {
                response.onNext(TrustBundle.newBuilder().setTrustDomain(TD)
                        .addX509Authorities(ByteString.copyFrom(ca.certificate().getEncoded()))
                        .addJwtAuthorities(JWTKey.newBuilder().setKeyId(JWT_KID)
                                .setPublicKey(ByteString.copyFrom(jwtKey.getPublic().getEncoded())))
                        .setSequenceNumber(1).build());
                response.onCompleted();
            } catch (java.security.cert.CertificateEncodingException e) {
                response.onError(Status.INTERNAL.asRuntimeException());
            }
        }
    }

    List<X509Certificate> bundle() {
        return List.of(ca.certificate());
    }
}
