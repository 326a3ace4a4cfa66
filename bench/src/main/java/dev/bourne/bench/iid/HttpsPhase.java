package dev.bourne.bench.iid;

import com.nimbusds.jose.util.JSONObjectUtils;
import dev.bourne.bench.workload.Latencies;
import dev.bourne.openstack.vendordata.CallerAuthenticator;
import dev.bourne.openstack.vendordata.VendordataServer;
import dev.bourne.openstack.vendordata.VendordataTls;
import dev.bourne.testing.pki.TestCa;
import dev.bourne.testing.pki.TestKeys;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * {@code POST /v1/iid} over HTTPS on loopback, as Nova's metadata API asks for a document, against a bare HTTPS round
 * trip to the same server's {@code /live}: the real {@link VendordataServer} (TLS 1.3, the token checked, Nova's body
 * parsed and bounded, {@link dev.bourne.openstack.vendordata.IidSigner} on SoftHSM2) and one JDK {@link HttpClient}
 * (HTTP/1.1, one kept-alive connection, as a client that reuses its session does). The two requests alternate, one
 * of each in turn, so both see the same machine; every answer is checked (200, and a JWS in {@code data}).
 *
 * <p>Audit lines (one per document) go to a counter instead of the {@code bourne.audit} logger, so that the benchmark
 * does not measure the console.
 */
final class HttpsPhase {
    static final String LIVE = "GET /live (bare HTTPS round trip)";
    static final String IID = "POST /v1/iid (Nova's request, token, signed on SoftHSM2)";
    /** A token as {@code openssl rand -hex 32} makes. */
    private static final String TOKEN = "5b0d7c2e9a1f4e3d8c6b5a4f3e2d1c0b9a8f7e6d5c4b3a29181706f5e4d3c2b1";

    private HttpsPhase() {
    }

    /**
     * @param warmup requests of each kind before timing
     * @param samples timed requests of each kind
     * @return the latencies of {@link #LIVE} and {@link #IID}, in that order
     */
    static Map<String, Latencies> run(SigningPhase signing, int warmup, int samples) throws Exception {
        TestCa ca = TestCa.root("vendordata.bench");
        KeyPair serverKeys = TestKeys.freshEcP256();
        X509Certificate certificate = ca.leafSpec("spiffe://vendordata.bench/vendordata", serverKeys.getPublic())
                .dnsNames("localhost").issue();
        VendordataTls tls = VendordataTls.create(List.of(certificate, ca.certificate()), serverKeys.getPrivate(),
                Optional.empty());
        AtomicLong auditLines = new AtomicLong();
        VendordataServer server = VendordataServer.start(new InetSocketAddress(InetAddress.getByName("localhost"), 0),
                tls, CallerAuthenticator.of(Optional.of(TOKEN), false), signing.signer(), signing.keys(),
                signing.keyManager()::status, line -> auditLines.incrementAndGet());
        try {
            HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                    .sslContext(trusting(ca.certificate())).connectTimeout(Duration.ofSeconds(10)).build();
            URI base = URI.create("https://localhost:" + server.port());
            HttpRequest live = HttpRequest.newBuilder(base.resolve(VendordataServer.LIVE_PATH))
                    .timeout(Duration.ofSeconds(30)).GET().build();
            HttpRequest iid = HttpRequest.newBuilder(base.resolve(VendordataServer.IID_PATH))
                    .timeout(Duration.ofSeconds(30))
                    .header("Content-Type", "application/json")
                    .header("Accept", "application/json")
                    .header("User-Agent", "openstack-nova-vendordata")
                    .header(CallerAuthenticator.X_AUTH_TOKEN, TOKEN)
                    .POST(HttpRequest.BodyPublishers.ofString(novaBody())).build();
            long[] liveNanos = new long[samples];
            long[] iidNanos = new long[samples];
            for (int i = -warmup; i < samples; i++) {
                long t0 = System.nanoTime();
                HttpResponse<String> answer = client.send(live, HttpResponse.BodyHandlers.ofString());
                long t1 = System.nanoTime();
                check(answer, LIVE);
                long t2 = System.nanoTime();
                HttpResponse<String> document = client.send(iid, HttpResponse.BodyHandlers.ofString());
                long t3 = System.nanoTime();
                check(document, IID);
                Object data = JSONObjectUtils.parse(document.body()).get("data");
                if (!(data instanceof String jws) || jws.chars().filter(c -> c == '.').count() != 2) {
                    throw new IllegalStateException(IID + " answered without a JWS");
                }
                if (i >= 0) {
                    liveNanos[i] = t1 - t0;
                    iidNanos[i] = t3 - t2;
                }
            }
            if (auditLines.get() != warmup + samples) {
                throw new IllegalStateException("expected one audit line per document, got " + auditLines.get());
            }
            Map<String, Latencies> latencies = new LinkedHashMap<>();
            latencies.put(LIVE, new Latencies(liveNanos));
            latencies.put(IID, new Latencies(iidNanos));
            return latencies;
        } finally {
            server.close();
        }
    }

    private static void check(HttpResponse<String> response, String what) {
        if (response.statusCode() != 200) {
            throw new IllegalStateException(what + " answered HTTP " + response.statusCode() + ": "
                    + response.body());
        }
    }

    /** Nova's request body (nova/api/metadata/vendordata_dynamic.py): the instance, its user data and roles. */
    static String novaBody() {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("project-id", Documents.PROJECT);
        body.put("instance-id", Documents.INSTANCE);
        body.put("image-id", Documents.IMAGE);
        body.put("user-data", Base64.getEncoder().encodeToString("#cloud-config\npackages: [nginx]\n".getBytes(
                java.nio.charset.StandardCharsets.UTF_8)));
        body.put("hostname", Documents.HOSTNAME);
        body.put("metadata", Map.of("role", "web", "tier", "frontend", "owner", "team-a"));
        body.put("boot-roles", "member,reader");
        return JSONObjectUtils.toJSONString(body);
    }

    private static SSLContext trusting(X509Certificate ca) throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("vendordata-ca", ca);
        TrustManagerFactory factory = TrustManagerFactory.getInstance("PKIX");
        factory.init(trust);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, factory.getTrustManagers(), new SecureRandom());
        return context;
    }
}
