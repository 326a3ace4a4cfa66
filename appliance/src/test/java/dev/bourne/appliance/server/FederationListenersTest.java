package dev.bourne.appliance.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.nimbusds.jose.JWSObject;
import com.nimbusds.jose.crypto.factories.DefaultJWSVerifierFactory;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.util.JSONObjectUtils;
import dev.bourne.appliance.admin.AdminServices;
import dev.bourne.appliance.ca.CaManager;
import dev.bourne.appliance.ca.journal.JwtAuthorityRecord;
import dev.bourne.appliance.ca.journal.X509AuthorityRecord;
import dev.bourne.appliance.cli.ServerCli;
import dev.bourne.appliance.federation.BundleEndpointServer;
import dev.bourne.appliance.federation.HttpsClients;
import dev.bourne.appliance.federation.OidcDiscoveryServer;
import dev.bourne.appliance.federation.ServingCertificateFiles;
import dev.bourne.core.bundle.SpiffeBundle;
import dev.bourne.core.bundle.SpiffeBundleJson;
import dev.bourne.core.config.BundleEndpointSettings;
import dev.bourne.core.config.ConfigException;
import dev.bourne.core.config.FederationSettings;
import dev.bourne.core.config.OidcDiscoverySettings;
import dev.bourne.core.config.ServerSettings;
import dev.bourne.core.config.WebServingCertificate;
import dev.bourne.core.spiffeid.TrustDomain;
import dev.bourne.testing.pki.TestCa;
import dev.bourne.testing.pki.TestKeys;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.KeyPair;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x500.style.IETFUtils;
import org.bouncycastle.cert.jcajce.JcaX509CertificateHolder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The federation bundle endpoint and the OIDC discovery listener of a real in-process server, fetched over real HTTPS
 * with the JDK HttpClient: what a federated peer and an OIDC relying party see, through CA rotations.
 */
class FederationListenersTest {
    static final Duration HINT = Duration.ofSeconds(42);
    static final String SERVER_ID = "spiffe://example.org/spire/server";

    @TempDir
    Path dir;
    BourneServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    /** A server with an https_spiffe bundle endpoint and, when {@code issuer} is set, OIDC discovery with web files. */
    private BourneServer start(Optional<WebServingCertificate> web, Optional<String> issuerPath) throws Exception {
        ServerSettings base = TestServers.sqliteMemory(dir);
        ServerSettings settings = base.withFederation(FederationSettings.DEFAULTS.withBundleEndpoint(Optional.of(
                new BundleEndpointSettings("127.0.0.1", 0, HINT, web))));
        if (issuerPath.isPresent()) {
            int port = HttpsClients.freePort();
            WebFiles files = webFiles(dir.resolve("oidc"));
            settings = settings.withOidcDiscovery(Optional.of(URI.create("https://localhost:" + port
                    + issuerPath.get())), Optional.of(new OidcDiscoverySettings("127.0.0.1", port, files.cert(),
                            files.key())));
            webRoot = files.root();
        }
        server = BourneServer.start(settings, Clock.systemUTC(), new SecureRandom(), AdminServices::create);
        return server;
    }

    private TestCa webRoot;

    /** A Web PKI style certificate for localhost from a test CA, written as cert.pem and key.pem (0600). */
    record WebFiles(TestCa root, Path cert, Path key) {
    }

    static WebFiles webFiles(Path where) throws Exception {
        return webFiles(where, TestCa.root("web.test"), TestKeys.freshEcP256());
    }

    static WebFiles webFiles(Path where, TestCa root, KeyPair keys) throws Exception {
        Files.createDirectories(where);
        X509Certificate leaf = root.leafSpec("spiffe://web.test/unused", keys.getPublic()).uris()
                .dnsNames("localhost").issue();
        Path cert = where.resolve("cert.pem");
        Path key = where.resolve("key.pem");
        HttpsClients.writeChain(cert, List.of(leaf));
        HttpsClients.writeKey(key, keys.getPrivate(), "rw-------");
        return new WebFiles(root, cert, key);
    }

    private CaManager ca() {
        return server.ca().orElseThrow();
    }

    private HttpsClients.SpiffeTrust trust() {
        return new HttpsClients.SpiffeTrust(ca().bundle().x509Authorities(), SERVER_ID);
    }

    private String bundleUrl() {
        return "https://127.0.0.1:" + server.bundleEndpointPort().orElseThrow() + "/";
    }

    private SpiffeBundle fetchBundle(HttpsClients.SpiffeTrust trust) throws Exception {
        HttpResponse<String> response = HttpsClients.get(HttpsClients.spiffe(trust), bundleUrl());
        assertEquals(200, response.statusCode());
        return SpiffeBundleJson.decode(TrustDomain.parse("example.org"), response.body());
    }

    @Test
    void bundleEndpoint_httpsSpiffe_servesTheCaBundleWithSequenceAndHint() throws Exception {
        start(Optional.empty(), Optional.empty());
        HttpsClients.SpiffeTrust trust = trust();

        HttpResponse<String> response = HttpsClients.get(HttpsClients.spiffe(trust), bundleUrl());

        assertEquals(200, response.statusCode());
        assertEquals(Optional.of("application/json"), response.headers().firstValue("Content-Type"));
        assertEquals(Optional.of(BundleEndpointServer.CACHE_CONTROL), response.headers().firstValue("Cache-Control"));
        SpiffeBundle served = SpiffeBundleJson.decode(TrustDomain.parse("example.org"), response.body());
        SpiffeBundle expected = ca().bundle();
        assertEquals(expected.x509Authorities(), served.x509Authorities());
        assertEquals(expected.jwtAuthorities(), served.jwtAuthorities());
        assertEquals(ca().snapshot().sequence(), served.sequence().getAsLong());
        assertEquals(Optional.of(HINT), served.refreshHint());
        // The listener presented the server's own X.509-SVID, which the trust manager checked.
        assertEquals(ca().activeX509Authority().certificate().getSubjectX500Principal(),
                trust.lastChain()[0].getIssuerX500Principal());
        assertEquals(HINT, ca().options().refreshHint(), "the CA publishes the configured hint to agents too");
    }

    @Test
    void bundleEndpoint_caRotation_sequenceIncreasesOnEveryChangeAndTheNewSvidIsPresented() throws Exception {
        start(Optional.empty(), Optional.empty());
        long initial = fetchBundle(trust()).sequence().getAsLong();

        X509AuthorityRecord prepared = ca().prepareX509();
        SpiffeBundle afterPrepare = fetchBundle(trust());
        JwtAuthorityRecord preparedJwt = ca().prepareJwt();
        SpiffeBundle afterJwtPrepare = fetchBundle(trust());

        assertTrue(afterPrepare.sequence().getAsLong() > initial);
        assertTrue(afterPrepare.x509Authorities().contains(prepared.certificate()));
        assertTrue(afterJwtPrepare.sequence().getAsLong() > afterPrepare.sequence().getAsLong());
        assertTrue(afterJwtPrepare.jwtAuthorities().containsKey(preparedJwt.keyId()));

        ca().activateX509(prepared.authorityId());
        HttpsClients.SpiffeTrust trust = new HttpsClients.SpiffeTrust(afterJwtPrepare.x509Authorities(), SERVER_ID);
        SpiffeBundle afterActivate = fetchBundle(trust);

        X509Certificate presented = trust.lastChain()[0];
        presented.verify(prepared.certificate().getPublicKey());
        assertTrue(afterActivate.sequence().getAsLong() >= afterJwtPrepare.sequence().getAsLong());
        assertEquals(ca().snapshot().sequence(), afterActivate.sequence().getAsLong());
    }

    @Test
    void bundleEndpoint_otherPathsMethodsAndBodies_refused() throws Exception {
        start(Optional.empty(), Optional.empty());
        HttpClient client = HttpsClients.spiffe(trust());

        HttpResponse<String> otherPath = HttpsClients.get(client, bundleUrl() + "keys");
        HttpResponse<String> post = client.send(HttpRequest.newBuilder(URI.create(bundleUrl()))
                .POST(HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofString());
        HttpResponse<String> put = client.send(HttpRequest.newBuilder(URI.create(bundleUrl()))
                .method("DELETE", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        HttpResponse<String> getWithBody = client.send(HttpRequest.newBuilder(URI.create(bundleUrl()))
                .method("GET", HttpRequest.BodyPublishers.ofString("x".repeat(100))).build(),
                HttpResponse.BodyHandlers.ofString());
        HttpResponse<String> head = client.send(HttpRequest.newBuilder(URI.create(bundleUrl()))
                .method("HEAD", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());

        assertEquals(404, otherPath.statusCode());
        assertEquals(413, post.statusCode());
        assertEquals(405, put.statusCode());
        assertEquals(Optional.of("GET, HEAD"), put.headers().firstValue("Allow"));
        assertEquals(413, getWithBody.statusCode());
        assertEquals(200, head.statusCode());
        assertEquals("", head.body());
    }

    @Test
    void readiness_listenersServing_ready() throws Exception {
        start(Optional.empty(), Optional.of(""));

        assertEquals(List.of(), server.notReady());
        HttpResponse<String> ready = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
                "http://127.0.0.1:" + server.healthPort().orElseThrow() + "/ready")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, ready.statusCode());
    }

    @Test
    void bundleEndpoint_httpsWeb_presentsTheFilesAndReloadsThemWhenReplaced() throws Exception {
        WebFiles files = webFiles(dir.resolve("web"));
        start(Optional.of(new WebServingCertificate(files.cert(), files.key())), Optional.empty());
        String url = "https://localhost:" + server.bundleEndpointPort().orElseThrow() + "/";

        HttpResponse<String> first = HttpsClients.get(HttpsClients.web(List.of(files.root().certificate())), url);
        assertEquals(200, first.statusCode());
        assertEquals(ca().bundle().x509Authorities(), SpiffeBundleJson.decode(TrustDomain.parse("example.org"),
                first.body()).x509Authorities());

        // The operator renews the certificate from another CA: new connections see the new one without a restart.
        TestCa renewedRoot = TestCa.root("web2.test", TestKeys.freshEcP256(), Instant.now().minusSeconds(60),
                Instant.now().plus(Duration.ofDays(1)));
        webFiles(dir.resolve("web"), renewedRoot, TestKeys.freshEcP256());
        Files.setLastModifiedTime(files.cert(), FileTime.from(Instant.now().plusSeconds(5)));

        HttpResponse<String> renewed = HttpsClients.get(HttpsClients.web(List.of(renewedRoot.certificate())), url);
        assertEquals(200, renewed.statusCode());
        assertThrows(java.io.IOException.class,
                () -> HttpsClients.get(HttpsClients.web(List.of(files.root().certificate())), url));
    }

    @Test
    void validate_httpsWebKeyReadableByOthers_reportedAtKeyFile() throws Exception {
        WebFiles files = webFiles(dir.resolve("web"));
        Files.setPosixFilePermissions(files.key(), java.nio.file.attribute.PosixFilePermissions.fromString(
                "rw-r--r--"));
        ServerSettings settings = TestServers.sqliteMemory(dir).withFederation(FederationSettings.DEFAULTS
                .withBundleEndpoint(Optional.of(new BundleEndpointSettings("127.0.0.1", 0, HINT,
                        Optional.of(new WebServingCertificate(files.cert(), files.key()))))));

        ConfigException e = assertThrows(ConfigException.class, () -> BourneServer.validate(settings));

        assertEquals(List.of(dir.resolve("server.conf") + ": server.federation.bundle_endpoint.profile.https_web"
                + ".key_file: " + files.key() + ": " + String.format(ServingCertificateFiles.KEY_FILE_TOO_OPEN,
                        "rw-r--r--")), e.errors().stream().map(Object::toString).toList());
    }

    // ------------------------------------------------------------------------------------------------ OIDC

    private String oidcBase() {
        return server.settings().jwtIssuer().orElseThrow().toString();
    }

    private HttpClient oidcClient() throws Exception {
        return HttpsClients.web(List.of(webRoot.certificate()));
    }

    @Test
    void oidc_discoveryDocument_exactFields() throws Exception {
        start(Optional.empty(), Optional.of(""));

        HttpResponse<String> response = HttpsClients.get(oidcClient(), oidcBase()
                + "/.well-known/openid-configuration");

        assertEquals(200, response.statusCode());
        assertEquals(Optional.of("application/json"), response.headers().firstValue("Content-Type"));
        assertEquals(Optional.of(OidcDiscoveryServer.CACHE_CONTROL), response.headers().firstValue("Cache-Control"));
        Map<String, Object> document = JSONObjectUtils.parse(response.body());
        assertEquals(Map.of(
                "issuer", oidcBase(),
                "jwks_uri", oidcBase() + "/keys",
                "authorization_endpoint", "",
                "response_types_supported", List.of("id_token"),
                "subject_types_supported", List.of("public"),
                "id_token_signing_alg_values_supported", List.of("ES256")), document);
    }

    @Test
    void oidc_issuerWithPath_servedUnderThePath() throws Exception {
        start(Optional.empty(), Optional.of("/bourne/prod"));
        String base = oidcBase();

        HttpResponse<String> discovery = HttpsClients.get(oidcClient(), base + "/.well-known/openid-configuration");
        HttpResponse<String> keys = HttpsClients.get(oidcClient(), base + "/keys");
        HttpResponse<String> root = HttpsClients.get(oidcClient(), "https://localhost:"
                + server.oidcDiscoveryPort().orElseThrow() + "/.well-known/openid-configuration");

        assertEquals(200, discovery.statusCode());
        assertEquals(base, JSONObjectUtils.parse(discovery.body()).get("issuer"));
        assertEquals(base + "/keys", JSONObjectUtils.parse(discovery.body()).get("jwks_uri"));
        assertEquals(200, keys.statusCode());
        assertEquals(404, root.statusCode());
    }

    @Test
    void oidc_jwks_publishesPreparedKeyBeforeActivationAndOldKeyAfter() throws Exception {
        start(Optional.empty(), Optional.of(""));
        String active = ca().activeJwtAuthority().keyId();

        JwtAuthorityRecord prepared = ca().prepareJwt();
        JWKSet beforeActivation = JWKSet.parse(HttpsClients.get(oidcClient(), oidcBase() + "/keys").body());
        ca().activateJwt(prepared.keyId());
        JWKSet afterActivation = JWKSet.parse(HttpsClients.get(oidcClient(), oidcBase() + "/keys").body());

        assertEquals(List.of(active, prepared.keyId()),
                beforeActivation.getKeys().stream().map(JWK::getKeyID).sorted(
                        java.util.Comparator.comparing(k -> k.equals(active) ? 0 : 1)).toList());
        assertEquals(2, afterActivation.getKeys().size());
        for (JWK key : afterActivation.getKeys()) {
            assertEquals("sig", key.getKeyUse().identifier());
            assertEquals("ES256", key.getAlgorithm().getName());
            assertEquals("EC", key.getKeyType().getValue());
            assertFalse(key.isPrivate());
        }
    }

    @Test
    void jwtSvid_mintedByTheServer_carriesTheIssuerAndVerifiesThroughTheJwks() throws Exception {
        start(Optional.empty(), Optional.of("/tenant"));
        Path token = dir.resolve("token");

        int code = cli("jwt", "mint", "-spiffeID", "spiffe://example.org/workload", "-audience", "vault",
                "-write", token.toString());

        assertEquals(ServerCli.OK, code);
        JWSObject jws = JWSObject.parse(Files.readString(token).strip());
        assertEquals(oidcBase(), jws.getPayload().toJSONObject().get("iss"));
        JWKSet keys = JWKSet.parse(HttpsClients.get(oidcClient(), oidcBase() + "/keys").body());
        JWK key = keys.getKeyByKeyId(jws.getHeader().getKeyID());
        assertTrue(jws.verify(new DefaultJWSVerifierFactory().createJWSVerifier(jws.getHeader(),
                key.toECKey().toECPublicKey())));
    }

    @Test
    void x509Svid_withDnsNames_hasTheFirstAsSubjectCommonName() throws Exception {
        start(Optional.empty(), Optional.empty());
        Path out = dir.resolve("svid");

        int code = cli("x509", "mint", "-spiffeID", "spiffe://example.org/web", "-dns", "web.example.org",
                "-dns", "www.example.org", "-write", out.toString());

        assertEquals(ServerCli.OK, code);
        X509Certificate leaf = (X509Certificate) java.security.cert.CertificateFactory.getInstance("X.509")
                .generateCertificate(Files.newInputStream(out.resolve("svid.pem")));
        X500Name subject = new JcaX509CertificateHolder(leaf).getSubject();
        RDN[] cn = subject.getRDNs(BCStyle.CN);
        assertEquals(1, cn.length);
        assertEquals("web.example.org", IETFUtils.valueToString(cn[0].getFirst().getValue()));
        assertEquals("CN=web.example.org", leaf.getSubjectX500Principal().getName());
        assertNotEquals(null, leaf.getSubjectAlternativeNames());
    }

    private int cli(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        String[] all = java.util.stream.Stream.concat(java.util.Arrays.stream(args),
                java.util.stream.Stream.of("-socketPath", server.settings().socketPath().toString()))
                .toArray(String[]::new);
        int code = ServerCli.execute(new ServerCli(), new PrintWriter(out, true), new PrintWriter(err, true), all);
        assertEquals("", err.toString());
        return code;
    }
}
