package dev.bourne.agent.workloadapi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bourne.agent.cache.CacheContents;
import dev.bourne.agent.cache.WorkloadEntry;
import dev.bourne.core.bundle.SpiffeBundle;
import dev.bourne.core.selector.Selector;
import dev.bourne.core.spiffeid.SpiffeId;
import dev.bourne.testing.pki.TestKeys;
import dev.bourne.workload.v1.JWTBundlesRequest;
import dev.bourne.workload.v1.JWTBundlesResponse;
import dev.bourne.workload.v1.JWTSVIDRequest;
import dev.bourne.workload.v1.ValidateJWTSVIDRequest;
import dev.bourne.workload.v1.ValidateJWTSVIDResponse;
import dev.bourne.workload.v1.X509BundlesRequest;
import dev.bourne.workload.v1.X509BundlesResponse;
import dev.bourne.workload.v1.X509SVIDRequest;
import dev.bourne.workload.v1.X509SVIDResponse;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.ByteArrayInputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Status codes of the SPIFFE Workload API spec, and streams, seen by a raw gRPC client over the real socket. */
class WorkloadApiStatusTest {
    private static final SpiffeId ROOT_ID = SpiffeId.parse("spiffe://example.org/root");
    private static final SpiffeId OTHER_ID = SpiffeId.parse("spiffe://example.org/other");
    private static final WorkloadEntry ROOT_ENTRY = new WorkloadEntry("e-root", ROOT_ID,
            Set.of(new Selector("unix", "uid:0")), Set.of(), "");
    private static final WorkloadEntry OTHER_ENTRY = new WorkloadEntry("e-other", OTHER_ID,
            Set.of(new Selector("unix", "uid:4242")), Set.of(), "");

    @TempDir
    Path dir;

    private WorkloadApiHarness agent;
    private RawWorkloadClient client;

    @BeforeEach
    void start() throws Exception {
        agent = new WorkloadApiHarness(dir.resolve("api.sock"));
        client = RawWorkloadClient.withHeader(agent.socket());
    }

    @AfterEach
    void stop() throws Exception {
        client.close();
        agent.close();
    }

    private static Status.Code code(Runnable call) {
        return assertThrows(StatusRuntimeException.class, call::run).getStatus().getCode();
    }

    private static Status.Code firstStreamCode(java.util.Iterator<?> stream) {
        return assertThrows(StatusRuntimeException.class, stream::next).getStatus().getCode();
    }

    @Test
    void noSecurityHeader_invalidArgumentOnEveryMethod() throws Exception {
        agent.cache.update(agent.pki.contents(ROOT_ENTRY));
        try (RawWorkloadClient bare = new RawWorkloadClient(agent.socket(), null)) {
            assertEquals(Status.Code.INVALID_ARGUMENT,
                    firstStreamCode(bare.blocking().fetchX509SVID(X509SVIDRequest.getDefaultInstance())));
            assertEquals(Status.Code.INVALID_ARGUMENT,
                    firstStreamCode(bare.blocking().fetchX509Bundles(X509BundlesRequest.getDefaultInstance())));
            assertEquals(Status.Code.INVALID_ARGUMENT,
                    firstStreamCode(bare.blocking().fetchJWTBundles(JWTBundlesRequest.getDefaultInstance())));
            assertEquals(Status.Code.INVALID_ARGUMENT, code(() -> bare.blocking().fetchJWTSVID(
                    JWTSVIDRequest.newBuilder().addAudience("a").build())));
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> bare.blocking()
                    .validateJWTSVID(ValidateJWTSVIDRequest.newBuilder().setAudience("a").setSvid("x.y.z").build()));
            assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
            assertEquals(CallerInterceptor.MISSING_HEADER, e.getStatus().getDescription());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"false", "TRUE", "1", ""})
    void securityHeaderNotTrue_invalidArgument(String value) throws Exception {
        agent.cache.update(agent.pki.contents(ROOT_ENTRY));
        try (RawWorkloadClient wrong = new RawWorkloadClient(agent.socket(), value)) {
            assertEquals(Status.Code.INVALID_ARGUMENT,
                    firstStreamCode(wrong.blocking().fetchX509SVID(X509SVIDRequest.getDefaultInstance())));
        }
    }

    @Test
    void agentNotReady_unavailable() {
        assertEquals(Status.Code.UNAVAILABLE,
                firstStreamCode(client.blocking().fetchX509SVID(X509SVIDRequest.getDefaultInstance())));
        assertEquals(Status.Code.UNAVAILABLE, code(() -> client.blocking().fetchJWTSVID(
                JWTSVIDRequest.newBuilder().addAudience("a").build())));
    }

    @Test
    void noMatchingEntry_permissionDenied() {
        agent.cache.update(agent.pki.contents(OTHER_ENTRY));
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> client.blocking().fetchX509SVID(X509SVIDRequest.getDefaultInstance()).next());
        assertEquals(Status.Code.PERMISSION_DENIED, e.getStatus().getCode());
        assertEquals(WorkloadApiService.NO_IDENTITY_ISSUED, e.getStatus().getDescription());
        assertEquals(Status.Code.PERMISSION_DENIED, code(() -> client.blocking().fetchJWTSVID(
                JWTSVIDRequest.newBuilder().addAudience("a").build())));
        assertEquals(Status.Code.PERMISSION_DENIED,
                firstStreamCode(client.blocking().fetchJWTBundles(JWTBundlesRequest.getDefaultInstance())));
        assertEquals(Status.Code.PERMISSION_DENIED,
                firstStreamCode(client.blocking().fetchX509Bundles(X509BundlesRequest.getDefaultInstance())));
    }

    @Test
    void fetchJwtSvid_badRequests() {
        agent.cache.update(agent.pki.contents(ROOT_ENTRY, OTHER_ENTRY));
        StatusRuntimeException noAudience = assertThrows(StatusRuntimeException.class,
                () -> client.blocking().fetchJWTSVID(JWTSVIDRequest.getDefaultInstance()));
        assertEquals(Status.Code.INVALID_ARGUMENT, noAudience.getStatus().getCode());
        assertEquals(WorkloadApiService.AUDIENCE_REQUIRED, noAudience.getStatus().getDescription());
        assertEquals(Status.Code.INVALID_ARGUMENT, code(() -> client.blocking().fetchJWTSVID(
                JWTSVIDRequest.newBuilder().addAudience("a").setSpiffeId("not a spiffe id").build())));
        // Another workload's ID: the caller does not hold it.
        assertEquals(Status.Code.PERMISSION_DENIED, code(() -> client.blocking().fetchJWTSVID(
                JWTSVIDRequest.newBuilder().addAudience("a").setSpiffeId(OTHER_ID.toString()).build())));
        assertEquals(ROOT_ID.toString(), client.blocking().fetchJWTSVID(
                JWTSVIDRequest.newBuilder().addAudience("a").setSpiffeId(ROOT_ID.toString()).build())
                .getSvids(0).getSpiffeId());
    }

    @Test
    void validateJwtSvid_badTokens_invalidArgumentAndGoodOneHasClaims() {
        agent.cache.update(agent.pki.contents(ROOT_ENTRY));
        Function<ValidateJWTSVIDRequest, Status.Code> validate = r -> code(() -> client.blocking().validateJWTSVID(r));
        assertEquals(Status.Code.INVALID_ARGUMENT, validate.apply(
                ValidateJWTSVIDRequest.newBuilder().setSvid("x.y.z").build()));
        assertEquals(Status.Code.INVALID_ARGUMENT, validate.apply(
                ValidateJWTSVIDRequest.newBuilder().setAudience("a").build()));
        assertEquals(Status.Code.INVALID_ARGUMENT, validate.apply(
                ValidateJWTSVIDRequest.newBuilder().setAudience("a").setSvid("garbage").build()));
        String forged = TestWorkloads.sign(TestKeys.ecP256(11), TestWorkloads.JWT_KID, ROOT_ID, List.of("a"));
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> client.blocking()
                .validateJWTSVID(ValidateJWTSVIDRequest.newBuilder().setAudience("a").setSvid(forged).build()));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertEquals(dev.bourne.core.svid.jwt.JwtSvidValidator.BAD_SIGNATURE, e.getStatus().getDescription());

        String token = client.blocking().fetchJWTSVID(JWTSVIDRequest.newBuilder().addAudience("a").build())
                .getSvids(0).getSvid();
        ValidateJWTSVIDResponse ok = client.blocking().validateJWTSVID(
                ValidateJWTSVIDRequest.newBuilder().setAudience("a").setSvid(token).build());
        assertEquals(ROOT_ID.toString(), ok.getSpiffeId());
        assertEquals(ROOT_ID.toString(), ok.getClaims().getFieldsOrThrow("sub").getStringValue());
        // A single audience is written as a string (JWT allows both forms); the claim is passed on as it came.
        com.google.protobuf.Value aud = ok.getClaims().getFieldsOrThrow("aud");
        assertTrue(aud.getStringValue().equals("a")
                || aud.getListValue().getValuesList().stream().anyMatch(v -> v.getStringValue().equals("a")),
                aud.toString());
        assertTrue(ok.getClaims().getFieldsOrThrow("exp").getNumberValue() > 0);
    }

    @Test
    void garbageOnTheSocket_agentKeepsServing() throws Exception {
        agent.cache.update(agent.pki.contents(ROOT_ENTRY));
        byte[] noise = new byte[4096];
        new SecureRandom().nextBytes(noise);
        List<byte[]> attacks = List.of(noise,
                "GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII),
                "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\u0000\u0000\u0004\u0001\u0000\u0000\u0000\u0000"
                        .getBytes(StandardCharsets.ISO_8859_1),
                new byte[0]);
        for (byte[] attack : attacks) {
            try (SocketChannel raw = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                raw.connect(UnixDomainSocketAddress.of(agent.socket()));
                raw.write(ByteBuffer.wrap(attack));
                raw.shutdownOutput();
                // The agent answers with an HTTP/2 GOAWAY or closes; read (bounded) until it hangs up.
                ByteBuffer sink = ByteBuffer.allocate(65536);
                int total = 0;
                try {
                    while (total < 1 << 20) {
                        sink.clear();
                        int n = raw.read(sink);
                        if (n < 0) {
                            break;
                        }
                        total += n;
                    }
                } catch (java.io.IOException e) {
                    // Reset by the agent: it hung up on the garbage, which is fine.
                }
            }
        }
        X509SVIDResponse response = client.blocking().fetchX509SVID(X509SVIDRequest.getDefaultInstance()).next();
        assertEquals(ROOT_ID.toString(), response.getSvids(0).getSpiffeId());
    }

    @Test
    void x509SvidStream_rotationDelivered_unrelatedChangesNot() throws Exception {
        agent.cache.update(agent.pki.contents(ROOT_ENTRY, OTHER_ENTRY));
        try (RecordingStream<X509SVIDRequest, X509SVIDResponse> stream = new RecordingStream<>()) {
            client.async().fetchX509SVID(X509SVIDRequest.getDefaultInstance(), stream);
            X509SVIDResponse first = stream.next();
            assertEquals(1, first.getSvidsCount());
            X509Certificate firstLeaf = leaf(first);

            // Rotating another workload's SVID must not wake this stream...
            agent.cache.modify(c -> c.withSvid(agent.pki.svid(OTHER_ENTRY)));
            // ...so the next message is this rotation, with a new certificate and a new key.
            WorkloadX509Svid rotated = agent.pki.svid(ROOT_ENTRY);
            agent.cache.modify(c -> c.withSvid(rotated));
            X509SVIDResponse second = stream.next();
            X509Certificate secondLeaf = leaf(second);
            assertNotEquals(firstLeaf.getSerialNumber(), secondLeaf.getSerialNumber());
            assertEquals(rotated.chain().get(0), secondLeaf);
            assertFalse(first.getSvids(0).getX509SvidKey().equals(second.getSvids(0).getX509SvidKey()));

            // The entry goes away: the stream ends with PERMISSION_DENIED.
            agent.cache.update(agent.pki.contents(OTHER_ENTRY));
            assertEquals(Status.Code.PERMISSION_DENIED, stream.end().getCode());
        }
    }

    @Test
    void bundleStreams_federationAndNewJwtAuthorityDelivered() throws Exception {
        WorkloadEntry federated = new WorkloadEntry("e-fed", ROOT_ID, Set.of(new Selector("unix", "uid:0")),
                Set.of(TestWorkloads.PARTNER), "");
        agent.cache.update(agent.pki.contents(ROOT_ENTRY));
        try (RecordingStream<X509BundlesRequest, X509BundlesResponse> x509 = new RecordingStream<>();
                RecordingStream<JWTBundlesRequest, JWTBundlesResponse> jwt = new RecordingStream<>()) {
            client.async().fetchX509Bundles(X509BundlesRequest.getDefaultInstance(), x509);
            client.async().fetchJWTBundles(JWTBundlesRequest.getDefaultInstance(), jwt);
            assertEquals(Set.of("spiffe://example.org"), x509.next().getBundlesMap().keySet());
            assertEquals(Set.of("spiffe://example.org"), jwt.next().getBundlesMap().keySet());

            agent.cache.update(agent.pki.contents(federated));
            assertEquals(Set.of("spiffe://example.org", "spiffe://partner.org"), x509.next().getBundlesMap().keySet());
            assertEquals(Set.of("spiffe://example.org", "spiffe://partner.org"), jwt.next().getBundlesMap().keySet());

            // A second JWT authority is published in the own bundle: both streams see the new set.
            agent.cache.modify(c -> {
                SpiffeBundle b = c.bundle();
                Map<String, java.security.PublicKey> keys = new java.util.LinkedHashMap<>(b.jwtAuthorities());
                keys.put("jwt-authority-b", TestKeys.ecP256(12).getPublic());
                return new CacheContents(SpiffeBundle.of(b.trustDomain(), b.x509Authorities(), keys),
                        c.federatedBundles(), c.entries(), c.svids());
            });
            String jwks = jwt.next().getBundlesOrThrow("spiffe://example.org").toStringUtf8();
            assertTrue(jwks.contains("\"jwt-authority-b\"") && jwks.contains("\"" + TestWorkloads.JWT_KID + "\""),
                    jwks);
            assertEquals(1, certificates(x509.next().getBundlesOrThrow("spiffe://example.org").toByteArray()).size());
        }
    }

    private static X509Certificate leaf(X509SVIDResponse response) throws Exception {
        return certificates(response.getSvids(0).getX509Svid().toByteArray()).get(0);
    }

    @SuppressWarnings("unchecked")
    private static List<X509Certificate> certificates(byte[] der) throws Exception {
        return List.copyOf((java.util.Collection<X509Certificate>) CertificateFactory.getInstance("X.509")
                .generateCertificates(new ByteArrayInputStream(der)));
    }
}
