package dev.bourne.appliance.federation;

import static dev.bourne.appliance.federation.FederationTestPki.ENDPOINT_ID;
import static dev.bourne.appliance.federation.FederationTestPki.ENDPOINT_KEY;
import static dev.bourne.appliance.federation.FederationTestPki.PEER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.nimbusds.jose.util.JSONObjectUtils;
import dev.bourne.appliance.datastore.BundleEndpointProfile;
import dev.bourne.appliance.datastore.FederationRelationship;
import dev.bourne.core.bundle.SpiffeBundle;
import dev.bourne.core.bundle.SpiffeBundleJson;
import dev.bourne.core.spiffeid.SpiffeId;
import dev.bourne.testing.pki.TestCa;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link BundleFetcher} against real HTTPS bundle endpoints on loopback, well-behaved and not: every refusal names
 * what was wrong.
 */
class BundleFetcherTest {
    static final Duration TIMEOUT = Duration.ofMillis(800);

    final TestCa peerCa = FederationTestPki.ca("peer.org", 11);
    final SpiffeBundle served = FederationTestPki.bundle(peerCa, 1, Duration.ofSeconds(60));
    final SpiffeBundle bootstrap = SpiffeBundle.of(PEER, List.of(peerCa.certificate()), Map.of());
    FederationPeer peer;
    BundleFetcher fetcher;

    @BeforeEach
    void start() throws Exception {
        peer = FederationPeer.start(ENDPOINT_KEY, FederationTestPki.svid(peerCa, ENDPOINT_ID.toString()));
        fetcher = new BundleFetcher(TIMEOUT, List.of(), Clock.systemUTC());
    }

    @AfterEach
    void stop() {
        peer.close();
        fetcher.close();
    }

    FederationRelationship spiffe(URI url, String endpointId) {
        return FederationRelationship.of(PEER, url, new BundleEndpointProfile.HttpsSpiffe(SpiffeId.parse(endpointId)));
    }

    SpiffeBundle fetchSpiffe() throws BundleFetchException {
        return fetcher.fetch(spiffe(peer.url(), ENDPOINT_ID.toString()), Optional.of(bootstrap));
    }

    String failure() {
        return assertThrows(BundleFetchException.class, this::fetchSpiffe).getMessage();
    }

    @Test
    void httpsSpiffe_validEndpoint_returnsTheBundle() throws Exception {
        peer.serve(served);
        assertEquals(served, fetchSpiffe());
    }

    @Test
    void unknownKeyUse_isIgnored() throws Exception {
        Map<String, Object> document = new LinkedHashMap<>(JSONObjectUtils.parse(SpiffeBundleJson.encode(served)));
        List<Object> keys = new ArrayList<>(JSONObjectUtils.getJSONArray(document, "keys"));
        Map<String, Object> future = new LinkedHashMap<>(JSONObjectUtils.parse(
                new com.nimbusds.jose.jwk.ECKey.Builder(com.nimbusds.jose.jwk.Curve.P_256,
                        (java.security.interfaces.ECPublicKey) FederationTestPki.ENDPOINT_KEY.getPublic())
                        .keyID("future").build().toJSONString()));
        future.put("use", "x-future-svid");
        keys.add(future);
        document.put("keys", keys);
        peer.serve(JSONObjectUtils.toJSONString(document));
        SpiffeBundle fetched = fetchSpiffe();
        assertEquals(served, fetched);
        assertFalse(fetched.jwtAuthorities().containsKey("future"));
    }

    @Test
    void wrongEndpointSpiffeId_refused() throws Exception {
        peer.serve(served);
        peer.identity(ENDPOINT_KEY, FederationTestPki.svid(peerCa, "spiffe://peer.org/impostor"));
        assertEquals(String.format(BundleFetcher.TLS_FAILED, String.format(EndpointSvidTrust.WRONG_ENDPOINT_ID,
                "spiffe://peer.org/impostor", ENDPOINT_ID)), failure());
        assertEquals(0, peer.requests());
    }

    @Test
    void certificateNotChainingToTheBundle_refused() throws Exception {
        peer.serve(served);
        TestCa other = FederationTestPki.ca("peer.org", 21);
        peer.identity(ENDPOINT_KEY, FederationTestPki.svid(other, ENDPOINT_ID.toString()));
        String message = failure();
        String prefix = String.format(BundleFetcher.TLS_FAILED, String.format(EndpointSvidTrust.NOT_AN_SVID, PEER,
                "certificate chain does not verify against the bundle of peer.org"));
        assertTrue(message.startsWith(prefix), message);
        assertEquals(0, peer.requests());
    }

    @Test
    void endpointBundleMissing_refusedBeforeConnecting() {
        BundleFetchException e = assertThrows(BundleFetchException.class,
                () -> fetcher.fetch(spiffe(peer.url(), ENDPOINT_ID.toString()), Optional.empty()));
        assertEquals(String.format(BundleFetcher.NO_ENDPOINT_BUNDLE, PEER, ENDPOINT_ID), e.getMessage());
        assertEquals(0, peer.requests());
    }

    @Test
    void httpError_refused() {
        peer.respond((exchange, p) -> FederationPeer.body(exchange, 503, "busy".getBytes(StandardCharsets.UTF_8)));
        assertEquals(String.format(BundleFetcher.HTTP_STATUS, 503), failure());
    }

    @Test
    void garbage_refused() {
        peer.serve("<html>hello</html>");
        assertEquals(String.format(BundleFetcher.NOT_A_BUNDLE, "bundle is not a JSON object"), failure());
    }

    @Test
    void bundleWithoutAuthorities_refused() {
        peer.serve("{\"keys\": [], \"spiffe_sequence\": 9}");
        assertEquals(BundleFetcher.NO_AUTHORITIES, failure());
    }

    @Test
    void oversizedAnnounced_refused() {
        peer.respond((exchange, p) -> FederationPeer.body(exchange, 200,
                new byte[SpiffeBundleJson.MAX_DOCUMENT_BYTES + 1]));
        assertEquals(BundleFetcher.TOO_LARGE, failure());
    }

    @Test
    void oversizedStreamedInChunks_refusedAtTheLimit() {
        peer.respond((exchange, p) -> {
            exchange.sendResponseHeaders(200, 0); // chunked: no length announced
            OutputStream out = exchange.getResponseBody();
            byte[] chunk = new byte[64 * 1024];
            java.util.Arrays.fill(chunk, (byte) ' ');
            for (int i = 0; i < 40; i++) { // 2.5 MiB, far past the limit, unless the client stops reading
                out.write(chunk);
                out.flush();
                Thread.sleep(5);
            }
        });
        assertEquals(BundleFetcher.TOO_LARGE, failure());
    }

    @Test
    void peerThatNeverAnswers_timesOut() {
        peer.respond((exchange, p) -> p.hang());
        assertEquals(String.format(BundleFetcher.TIMED_OUT, "800 ms"), failure());
    }

    @Test
    void peerThatTricklesItsBody_timesOut() {
        peer.respond((exchange, p) -> {
            exchange.sendResponseHeaders(200, 0);
            OutputStream out = exchange.getResponseBody();
            out.write('{');
            for (int i = 0; i < 600; i++) {
                out.write(' ');
                out.flush();
                Thread.sleep(100);
            }
        });
        assertEquals(String.format(BundleFetcher.TIMED_OUT, "800 ms"), failure());
    }

    @Test
    void nothingListening_refused() throws Exception {
        int port;
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            port = socket.getLocalPort();
        }
        BundleFetchException e = assertThrows(BundleFetchException.class, () -> fetcher.fetch(
                spiffe(URI.create("https://127.0.0.1:" + port + "/"), ENDPOINT_ID.toString()),
                Optional.of(bootstrap)));
        assertTrue(e.getMessage().startsWith(String.format(BundleFetcher.CONNECT_FAILED, "")), e.getMessage());
    }

    @Test
    void redirect_followedUnderTheSameChecks() throws Exception {
        String json = SpiffeBundleJson.encode(served);
        peer.respond((exchange, p) -> {
            if (exchange.getRequestURI().getPath().equals("/old")) {
                exchange.getResponseHeaders().set("Location", "/bundle.json");
                FederationPeer.status(exchange, 302);
            } else {
                FederationPeer.body(exchange, 200, json.getBytes(StandardCharsets.UTF_8));
            }
        });
        assertEquals(served, fetcher.fetch(spiffe(peer.url("127.0.0.1", "/old"), ENDPOINT_ID.toString()),
                Optional.of(bootstrap)));
        assertEquals(2, peer.requests());
    }

    // https_web

    @Test
    void httpsWeb_trustedCaAndMatchingHostName_returnsTheBundle() throws Exception {
        TestCa web = FederationTestPki.ca("web.example", 31);
        peer.identity(ENDPOINT_KEY, FederationTestPki.webCertificate(web, "localhost"));
        peer.serve(served);
        try (BundleFetcher webFetcher = new BundleFetcher(TIMEOUT, List.of(web.certificate()), Clock.systemUTC())) {
            assertEquals(served, webFetcher.fetch(FederationRelationship.of(PEER, peer.url("localhost", "/b"),
                    new BundleEndpointProfile.HttpsWeb()), Optional.empty()));
        }
    }

    @Test
    void httpsWeb_wrongHostName_refused() throws Exception {
        TestCa web = FederationTestPki.ca("web.example", 31);
        peer.identity(ENDPOINT_KEY, FederationTestPki.webCertificate(web, "bundles.peer.example"));
        peer.serve(served);
        try (BundleFetcher webFetcher = new BundleFetcher(TIMEOUT, List.of(web.certificate()), Clock.systemUTC())) {
            BundleFetchException e = assertThrows(BundleFetchException.class, () -> webFetcher.fetch(
                    FederationRelationship.of(PEER, peer.url("localhost", "/b"), new BundleEndpointProfile.HttpsWeb()),
                    Optional.empty()));
            assertEquals(String.format(BundleFetcher.TLS_FAILED, "No subject alternative DNS name matching localhost"
                    + " found."), e.getMessage());
        }
        assertEquals(0, peer.requests());
    }

    @Test
    void httpsWeb_caNotTrusted_refused() throws Exception {
        TestCa web = FederationTestPki.ca("web.example", 31);
        peer.identity(ENDPOINT_KEY, FederationTestPki.webCertificate(web, "localhost"));
        peer.serve(served);
        BundleFetchException e = assertThrows(BundleFetchException.class, () -> fetcher.fetch(
                FederationRelationship.of(PEER, peer.url("localhost", "/b"), new BundleEndpointProfile.HttpsWeb()),
                Optional.empty()));
        assertTrue(e.getMessage().startsWith(String.format(BundleFetcher.TLS_FAILED, "PKIX path building failed")),
                e.getMessage());
        assertEquals(0, peer.requests());
    }
}
