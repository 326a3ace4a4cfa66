package dev.bourne.openstack.vendordata;

import static dev.bourne.openstack.vendordata.VendordataTestSupport.AUDIENCE;
import static dev.bourne.openstack.vendordata.VendordataTestSupport.HOSTNAME;
import static dev.bourne.openstack.vendordata.VendordataTestSupport.IMAGE;
import static dev.bourne.openstack.vendordata.VendordataTestSupport.INSTANCE;
import static dev.bourne.openstack.vendordata.VendordataTestSupport.ISSUER;
import static dev.bourne.openstack.vendordata.VendordataTestSupport.PROJECT;
import static dev.bourne.openstack.vendordata.VendordataTestSupport.TOKEN;
import static dev.bourne.openstack.vendordata.VendordataTestSupport.client;
import static dev.bourne.openstack.vendordata.VendordataTestSupport.data;
import static dev.bourne.openstack.vendordata.VendordataTestSupport.error;
import static dev.bourne.openstack.vendordata.VendordataTestSupport.get;
import static dev.bourne.openstack.vendordata.VendordataTestSupport.json;
import static dev.bourne.openstack.vendordata.VendordataTestSupport.novaBody;
import static dev.bourne.openstack.vendordata.VendordataTestSupport.post;
import static dev.bourne.openstack.vendordata.VendordataTestSupport.uri;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSObject;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import dev.bourne.core.config.PluginConfig;
import dev.bourne.core.keymanager.KeyManager;
import dev.bourne.core.keymanager.KeyType;
import dev.bourne.keymanager.KeyManagers;
import dev.bourne.openstack.common.IidClaims;
import dev.bourne.openstack.common.OpenStackIid;
import dev.bourne.testing.hsm.SoftHsmToken;
import dev.bourne.testing.hsm.WithSoftHsm;
import dev.bourne.testing.time.MutableClock;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Stream;
import javax.net.ssl.SSLParameters;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The signing service over real HTTPS with its keys on a SoftHSM2 token through the pkcs11 KeyManager: documents as
 * Nova asks for them, verified independently with nimbus against the JWK set fetched from the service; every way a
 * request can be refused.
 */
@WithSoftHsm
class VendordataServerTest {
    private static final Duration TTL = Duration.ofMinutes(5);

    private final SoftHsmToken token;
    private final MutableClock clock = new MutableClock();
    private final List<String> audit = Collections.synchronizedList(new ArrayList<>());
    private final List<AutoCloseable> opened = new ArrayList<>();

    @TempDir
    Path dataDir;

    VendordataServerTest(SoftHsmToken token) {
        this.token = token;
    }

    @AfterEach
    void close() throws Exception {
        for (int i = opened.size() - 1; i >= 0; i--) {
            opened.get(i).close();
        }
    }

    private VendordataServer start(KeyType keyType, CallerAuthenticator authenticator, boolean clientCertificates)
            throws Exception {
        return start(VendordataTestSupport.pkcs11(token, "vendordata-" + keyType.configName()), keyType,
                authenticator, clientCertificates);
    }

    private VendordataServer start(PluginConfig plugin, KeyType keyType, CallerAuthenticator authenticator,
            boolean clientCertificates) throws Exception {
        KeyManager keyManager = KeyManagers.open(plugin, dataDir, new SecureRandom(), clock);
        opened.add(keyManager);
        IidSigningKeys keys = IidSigningKeys.open(keyManager, dataDir, keyType, Duration.ofHours(24), TTL, clock);
        IidSigner signer = new IidSigner(keys, ISSUER, List.of(AUDIENCE), TTL, clock, new SecureRandom());
        VendordataServer server = VendordataServer.start(new InetSocketAddress(InetAddress.getByName("localhost"), 0),
                VendordataTestSupport.serverTls(clientCertificates), authenticator, signer, keys, keyManager::status,
                audit::add);
        opened.add(server);
        return server;
    }

    private VendordataServer startWithToken() throws Exception {
        return start(KeyType.EC_P256, CallerAuthenticator.of(Optional.of(TOKEN), false), false);
    }

    static Stream<Arguments> keyTypes() {
        return Stream.of(Arguments.of(KeyType.EC_P256, JWSAlgorithm.ES256),
                Arguments.of(KeyType.EC_P384, JWSAlgorithm.ES384),
                Arguments.of(KeyType.RSA_2048, JWSAlgorithm.RS256));
    }

    @ParameterizedTest
    @MethodSource("keyTypes")
    void issue_novaRequest_signedOnTheHsm_verifiesWithTheKeyFromJwksFetchedOverHttps(KeyType keyType,
            JWSAlgorithm algorithm) throws Exception {
        VendordataServer server = start(keyType, CallerAuthenticator.of(Optional.of(TOKEN), false), false);
        HttpClient client = client();

        HttpResponse<String> response = post(client, server.port(), json(novaBody()), Optional.of(TOKEN));

        assertEquals(200, response.statusCode(), response.body());
        assertEquals("application/json", response.headers().firstValue("Content-Type").orElseThrow());
        assertEquals(Map.of(OpenStackIid.DATA_MEMBER, data(response)),
                com.nimbusds.jose.util.JSONObjectUtils.parse(response.body()), "the answer is {\"data\": jws} only");
        JWSObject jws = JWSObject.parse(data(response));
        assertEquals(algorithm, jws.getHeader().getAlgorithm());
        assertEquals(OpenStackIid.JWS_TYPE, jws.getHeader().getType().toString());
        assertEquals(List.of("alg", "kid", "typ"), new ArrayList<>(new TreeMap<>(jws.getHeader().toJSONObject())
                .keySet()), "header alg, kid and typ only");

        HttpResponse<String> jwksResponse = get(client, server.port(), VendordataServer.JWKS_PATH);
        assertEquals(200, jwksResponse.statusCode());
        JWKSet jwks = JWKSet.parse(jwksResponse.body());
        JWK jwk = jwks.getKeyByKeyId(jws.getHeader().getKeyID());
        assertTrue(jwk != null, "the kid is in the JWK set: " + jwksResponse.body());
        assertFalse(jwk.isPrivate(), "public members only");
        assertEquals(jwk.computeThumbprint().toString(), jws.getHeader().getKeyID(), "kid = RFC 7638 thumbprint");
        JWSVerifier verifier = keyType.isEc() ? new ECDSAVerifier((ECKey) jwk) : new RSASSAVerifier((RSAKey) jwk);
        assertTrue(jws.verify(verifier), "the signature verifies with the published key");

        IidClaims claims = IidClaims.fromJson(jws.getPayload().toJSONObject());
        Instant issuedAt = Instant.ofEpochSecond(clock.instant().getEpochSecond());
        assertEquals(new IidClaims(ISSUER, List.of(AUDIENCE), claims.jti(), PROJECT, INSTANCE, IMAGE, HOSTNAME,
                new TreeMap<>(Map.of("role", "web", "tier", "frontend")), issuedAt, issuedAt.plus(TTL)), claims);
        assertEquals(INSTANCE, jws.getPayload().toJSONObject().get("sub"));
        assertEquals(22, claims.jti().length(), "128 random bits, base64url");
    }

    @Test
    void issue_twice_differentJti() throws Exception {
        VendordataServer server = startWithToken();
        HttpClient client = client();
        String first = data(post(client, server.port(), json(novaBody()), Optional.of(TOKEN)));
        String second = data(post(client, server.port(), json(novaBody()), Optional.of(TOKEN)));

        assertFalse(IidClaims.fromJson(JWSObject.parse(first).getPayload().toJSONObject()).jti()
                .equals(IidClaims.fromJson(JWSObject.parse(second).getPayload().toJSONObject()).jti()));
    }

    @Test
    void issue_volumeBackedInstance_emptyImageId() throws Exception {
        VendordataServer server = startWithToken();
        Map<String, Object> body = novaBody();
        body.put("image-id", "");
        body.put("user-data", null);
        body.put("metadata", Map.of());

        HttpResponse<String> response = post(client(), server.port(), json(body), Optional.of(TOKEN));

        assertEquals(200, response.statusCode(), response.body());
        IidClaims claims = IidClaims.fromJson(JWSObject.parse(data(response)).getPayload().toJSONObject());
        assertEquals("", claims.imageId());
        assertEquals(Map.of(), claims.metadata());
    }

    @Test
    void issue_auditLine_namesTheDocument_neverTheJwsTokenOrUserData() throws Exception {
        VendordataServer server = startWithToken();

        String jws = data(post(client(), server.port(), json(novaBody()), Optional.of(TOKEN)));

        JWSObject parsed = JWSObject.parse(jws);
        IidClaims claims = IidClaims.fromJson(parsed.getPayload().toJSONObject());
        assertEquals(List.of("IID issued: project_id=" + PROJECT + " instance_id=" + INSTANCE + " jti=" + claims.jti()
                + " kid=" + parsed.getHeader().getKeyID() + " exp=" + claims.expiresAt() + " caller=[token]"), audit);
        String line = audit.get(0);
        assertFalse(line.contains(jws.substring(jws.lastIndexOf('.') + 1)), "no signature");
        assertFalse(line.contains(jws.substring(0, jws.indexOf('.'))), "no JWS header");
        assertFalse(line.contains(TOKEN), "no token");
        assertFalse(line.contains("do-not-log-me"), "no user data");
    }

    @Test
    void issue_noCredentials_401WithChallenge_beforeTheBodyIsRead() throws Exception {
        VendordataServer server = startWithToken();

        // Not even a JSON body: authentication comes first.
        HttpResponse<String> response = post(client(), server.port(), "not json", Optional.empty());

        assertEquals(401, response.statusCode());
        assertEquals("Bearer realm=\"bourne-vendordata\"",
                response.headers().firstValue("WWW-Authenticate").orElseThrow());
        assertEquals(VendordataServer.UNAUTHENTICATED, error(response));
        assertEquals(List.of(), audit);
    }

    @Test
    void issue_wrongToken_401() throws Exception {
        VendordataServer server = startWithToken();

        HttpResponse<String> response = post(client(), server.port(), json(novaBody()),
                Optional.of(TOKEN.substring(0, TOKEN.length() - 1) + "0"));

        assertEquals(401, response.statusCode());
        assertTrue(response.headers().firstValue("WWW-Authenticate").isPresent());
    }

    @Test
    void issue_tokenPrefix_401() throws Exception {
        VendordataServer server = startWithToken();

        HttpResponse<String> response = post(client(), server.port(), json(novaBody()),
                Optional.of(TOKEN.substring(0, 10)));

        assertEquals(401, response.statusCode());
    }

    @Test
    void issue_bearerToken_accepted() throws Exception {
        VendordataServer server = startWithToken();

        HttpResponse<String> response = client().send(HttpRequest.newBuilder(uri(server.port(),
                VendordataServer.IID_PATH)).header("Content-Type", "application/json")
                .header("Authorization", "Bearer " + TOKEN)
                .POST(HttpRequest.BodyPublishers.ofString(json(novaBody()))).build(),
                HttpResponse.BodyHandlers.ofString());

        assertEquals(200, response.statusCode(), response.body());
    }

    @Test
    void issue_basicAuthorization_401() throws Exception {
        VendordataServer server = startWithToken();

        HttpResponse<String> response = client().send(HttpRequest.newBuilder(uri(server.port(),
                VendordataServer.IID_PATH)).header("Content-Type", "application/json")
                .header("Authorization", "Basic " + TOKEN)
                .POST(HttpRequest.BodyPublishers.ofString(json(novaBody()))).build(),
                HttpResponse.BodyHandlers.ofString());

        assertEquals(401, response.statusCode());
    }

    @Test
    void mtls_clientCertificateFromNovaCa_accepted() throws Exception {
        VendordataServer server = start(KeyType.EC_P256, CallerAuthenticator.of(Optional.empty(), true), true);
        HttpClient nova = client(Optional.of(VendordataTestSupport.NOVA_CERTIFICATE),
                Optional.of(VendordataTestSupport.NOVA_KEYS));

        HttpResponse<String> response = post(nova, server.port(), json(novaBody()), Optional.empty());

        assertEquals(200, response.statusCode(), response.body());
        assertTrue(audit.get(0).endsWith("caller=[client certificate "
                + VendordataTestSupport.NOVA_CERTIFICATE.getSubjectX500Principal().getName() + "]"), audit.get(0));
    }

    @Test
    void mtls_noClientCertificate_401_butJwksAndHealthStayPublic() throws Exception {
        VendordataServer server = start(KeyType.EC_P256, CallerAuthenticator.of(Optional.empty(), true), true);
        HttpClient anonymous = client();

        HttpResponse<String> response = post(anonymous, server.port(), json(novaBody()), Optional.of(TOKEN));

        assertEquals(401, response.statusCode());
        assertEquals("TLS-client-certificate realm=\"bourne-vendordata\"",
                response.headers().firstValue("WWW-Authenticate").orElseThrow());
        assertEquals(200, get(anonymous, server.port(), VendordataServer.JWKS_PATH).statusCode());
        assertEquals(200, get(anonymous, server.port(), VendordataServer.READY_PATH).statusCode());
    }

    @Test
    void mtls_certificateFromAnotherCa_refused() throws Exception {
        VendordataServer server = start(KeyType.EC_P256, CallerAuthenticator.of(Optional.empty(), true), true);
        HttpClient intruder = client(Optional.of(VendordataTestSupport.OTHER_CERTIFICATE),
                Optional.of(VendordataTestSupport.OTHER_KEYS));

        assertRefused(() -> post(intruder, server.port(), json(novaBody()), Optional.empty()));
    }

    @Test
    void mtls_certificateForgedInNovaCasName_refused() throws Exception {
        VendordataServer server = start(KeyType.EC_P256, CallerAuthenticator.of(Optional.empty(), true), true);
        // Issued in the Nova CA's name, signed with another key.
        java.security.cert.X509Certificate forged = VendordataTestSupport.NOVA_CA.leafSpec(
                "spiffe://nova.test/nova-api-metadata", VendordataTestSupport.OTHER_KEYS.getPublic())
                .forgedSigner(VendordataTestSupport.OTHER_KEYS).issue();
        HttpClient forger = client(Optional.of(forged), Optional.of(VendordataTestSupport.OTHER_KEYS));

        assertRefused(() -> post(forger, server.port(), json(novaBody()), Optional.empty()));
    }

    /**
     * The request gets no document: JSSE either ends the handshake (a forged signature) or drops an unverifiable
     * certificate it only wanted, leaving no client certificate, which is a 401.
     */
    private void assertRefused(java.util.concurrent.Callable<HttpResponse<String>> request) {
        try {
            assertEquals(401, request.call().statusCode());
        } catch (IOException e) {
            // Refused at the handshake.
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        assertEquals(List.of(), audit);
    }

    @Test
    void tokenAndMtls_bothRequired() throws Exception {
        VendordataServer server = start(KeyType.EC_P256, CallerAuthenticator.of(Optional.of(TOKEN), true), true);
        HttpClient nova = client(Optional.of(VendordataTestSupport.NOVA_CERTIFICATE),
                Optional.of(VendordataTestSupport.NOVA_KEYS));

        assertEquals(401, post(nova, server.port(), json(novaBody()), Optional.empty()).statusCode(),
                "certificate without token");
        assertEquals(401, post(client(), server.port(), json(novaBody()), Optional.of(TOKEN)).statusCode(),
                "token without certificate");
        assertEquals(200, post(nova, server.port(), json(novaBody()), Optional.of(TOKEN)).statusCode(), "both");
    }

    static Stream<Arguments> badBodies() {
        Map<String, Object> missingProject = novaBody();
        missingProject.remove("project-id");
        Map<String, Object> numericInstance = novaBody();
        numericInstance.put("instance-id", 42);
        Map<String, Object> upperCaseInstance = novaBody();
        upperCaseInstance.put("instance-id", INSTANCE.toUpperCase());
        Map<String, Object> slashProject = novaBody();
        slashProject.put("project-id", "../admin");
        Map<String, Object> nullHostname = novaBody();
        nullHostname.put("hostname", null);
        Map<String, Object> listMetadata = novaBody();
        listMetadata.put("metadata", List.of("a"));
        Map<String, Object> numberInMetadata = novaBody();
        numberInMetadata.put("metadata", Map.of("a", 1));
        Map<String, Object> tooManyItems = novaBody();
        Map<String, Object> items = new LinkedHashMap<>();
        for (int i = 0; i <= IidClaims.MAX_METADATA_ITEMS; i++) {
            items.put("k" + i, "v");
        }
        tooManyItems.put("metadata", items);
        return Stream.of(
                Arguments.of("[]", VendordataRequest.NOT_AN_OBJECT),
                Arguments.of("{\"project-id\":", VendordataRequest.NOT_AN_OBJECT),
                Arguments.of(json(missingProject), "project-id is missing"),
                Arguments.of(json(numericInstance), "instance-id must be a string"),
                Arguments.of(json(upperCaseInstance), "instance-id is refused: " + IidClaims.INSTANCE_NOT_UUID),
                Arguments.of(json(slashProject), "project-id is refused: " + IidClaims.PROJECT_BAD_CHARACTERS),
                Arguments.of(json(nullHostname), "hostname must be a string"),
                Arguments.of(json(listMetadata), VendordataRequest.METADATA_NOT_AN_OBJECT),
                Arguments.of(json(numberInMetadata), VendordataRequest.METADATA_NOT_AN_OBJECT),
                Arguments.of(json(tooManyItems), "metadata is refused: " + IidClaims.TOO_MANY_METADATA_ITEMS));
    }

    @ParameterizedTest
    @MethodSource("badBodies")
    void issue_badBody_400NamingTheField(String body, String expected) throws Exception {
        VendordataServer server = startWithToken();

        HttpResponse<String> response = post(client(), server.port(), body, Optional.of(TOKEN));

        assertEquals(400, response.statusCode(), response.body());
        assertEquals(expected, error(response));
        assertEquals(List.of(), audit);
    }

    @Test
    void issue_hugeContentLength_413WithoutWaitingForTheBody() throws Exception {
        VendordataServer server = startWithToken();
        javax.net.ssl.SSLContext context = VendordataTestSupport.clientContext(Optional.empty(), Optional.empty(),
                null);
        try (javax.net.ssl.SSLSocket socket = (javax.net.ssl.SSLSocket) context.getSocketFactory()
                .createSocket("localhost", server.port())) {
            socket.setSoTimeout(30_000);
            // The headers promise 1 GiB; not a byte of it is ever sent.
            socket.getOutputStream().write(("POST " + VendordataServer.IID_PATH + " HTTP/1.1\r\nHost: localhost\r\n"
                    + "Content-Type: application/json\r\nX-Auth-Token: " + TOKEN + "\r\n"
                    + "Content-Length: 1073741824\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
            java.io.BufferedReader reader = new java.io.BufferedReader(new java.io.InputStreamReader(
                    socket.getInputStream(), StandardCharsets.US_ASCII));

            assertEquals("HTTP/1.1 413 Request Entity Too Large", reader.readLine());
        }
    }

    @Test
    void issue_oversizedBody_413BeforeReading() throws Exception {
        VendordataServer server = startWithToken();
        String body = "{\"user-data\":\"" + "A".repeat(VendordataRequest.MAX_BODY_BYTES) + "\"}";

        HttpResponse<String> response = post(client(), server.port(), body, Optional.of(TOKEN));

        assertEquals(413, response.statusCode());
        assertEquals(VendordataRequest.TOO_LARGE, error(response));
    }

    @Test
    void issue_oversizedChunkedBody_413() throws Exception {
        VendordataServer server = startWithToken();
        byte[] body = ("{\"user-data\":\"" + "A".repeat(VendordataRequest.MAX_BODY_BYTES) + "\"}")
                .getBytes(StandardCharsets.US_ASCII);

        // A stream of unknown length: sent chunked, without Content-Length.
        HttpResponse<String> response = client().send(HttpRequest.newBuilder(uri(server.port(),
                VendordataServer.IID_PATH)).header("Content-Type", "application/json")
                .header(CallerAuthenticator.X_AUTH_TOKEN, TOKEN)
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(body))).build(),
                HttpResponse.BodyHandlers.ofString());

        assertEquals(413, response.statusCode());
    }

    @Test
    void issue_largestLegitimateBody_accepted() throws Exception {
        VendordataServer server = startWithToken();
        Map<String, Object> body = novaBody();
        // Nova's limit on user data (65535 base64 characters) with Nova's metadata limits (128 items of 255 + 255).
        body.put("user-data", "A".repeat(65535));
        Map<String, Object> metadata = new LinkedHashMap<>();
        for (int i = 0; i < IidClaims.MAX_METADATA_ITEMS; i++) {
            metadata.put(String.format("%03d", i) + "k".repeat(IidClaims.MAX_METADATA_KEY_CHARS - 3),
                    "v".repeat(IidClaims.MAX_METADATA_VALUE_CHARS));
        }
        body.put("metadata", metadata);

        HttpResponse<String> response = post(client(), server.port(), json(body), Optional.of(TOKEN));

        assertEquals(200, response.statusCode(), response.body());
        assertTrue(data(response).length() <= OpenStackIid.MAX_JWS_BYTES, "the document fits what agents accept");
    }

    @ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"text/plain", "application/x-www-form-urlencoded",
        "application/jsonp", ""})
    void issue_notJsonContentType_415(String contentType) throws Exception {
        VendordataServer server = startWithToken();
        HttpRequest.Builder request = HttpRequest.newBuilder(uri(server.port(), VendordataServer.IID_PATH))
                .header(CallerAuthenticator.X_AUTH_TOKEN, TOKEN)
                .POST(HttpRequest.BodyPublishers.ofString(json(novaBody())));
        if (!contentType.isEmpty()) {
            request.header("Content-Type", contentType);
        }

        HttpResponse<String> response = client().send(request.build(), HttpResponse.BodyHandlers.ofString());

        assertEquals(415, response.statusCode());
        assertEquals(VendordataServer.UNSUPPORTED_MEDIA_TYPE, error(response));
    }

    @Test
    void issue_jsonWithCharset_accepted() throws Exception {
        VendordataServer server = startWithToken();

        HttpResponse<String> response = client().send(HttpRequest.newBuilder(uri(server.port(),
                VendordataServer.IID_PATH)).header("Content-Type", "Application/JSON; charset=utf-8")
                .header(CallerAuthenticator.X_AUTH_TOKEN, TOKEN)
                .POST(HttpRequest.BodyPublishers.ofString(json(novaBody()))).build(),
                HttpResponse.BodyHandlers.ofString());

        assertEquals(200, response.statusCode(), response.body());
    }

    @Test
    void wrongMethods_405WithAllow_unknownPath_404() throws Exception {
        VendordataServer server = startWithToken();
        HttpClient client = client();

        HttpResponse<String> getIid = get(client, server.port(), VendordataServer.IID_PATH);
        HttpResponse<String> postJwks = client.send(HttpRequest.newBuilder(uri(server.port(),
                VendordataServer.JWKS_PATH)).POST(HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());
        HttpResponse<String> unknown = get(client, server.port(), "/v1/iid/../jwks.json");
        HttpResponse<String> root = get(client, server.port(), "/");

        assertEquals(405, getIid.statusCode());
        assertEquals("POST", getIid.headers().firstValue("Allow").orElseThrow());
        assertEquals(405, postJwks.statusCode());
        assertEquals("GET, HEAD", postJwks.headers().firstValue("Allow").orElseThrow());
        assertEquals(404, unknown.statusCode());
        assertEquals(404, root.statusCode());
    }

    @Test
    void jwks_publicKeysOnly_cacheableForAMinute_noAuthentication() throws Exception {
        VendordataServer server = startWithToken();

        HttpResponse<String> response = get(client(), server.port(), VendordataServer.JWKS_PATH);

        assertEquals(200, response.statusCode());
        assertEquals("max-age=60", response.headers().firstValue("Cache-Control").orElseThrow());
        JWKSet jwks = JWKSet.parse(response.body());
        assertEquals(1, jwks.getKeys().size());
        JWK key = jwks.getKeys().get(0);
        assertEquals("sig", key.getKeyUse().identifier());
        assertEquals(JWSAlgorithm.ES256, key.getAlgorithm());
        assertFalse(response.body().contains("\"d\""), "no private member: " + response.body());
    }

    @Test
    void liveAndReady_200() throws Exception {
        VendordataServer server = startWithToken();

        assertEquals(200, get(client(), server.port(), VendordataServer.LIVE_PATH).statusCode());
        HttpResponse<String> ready = get(client(), server.port(), VendordataServer.READY_PATH);
        assertEquals(200, ready.statusCode());
        assertEquals("ready\n", ready.body());
    }

    @Test
    void hsmUnreachable_notReady_signing503_jwks503() throws Exception {
        Map<String, Object> data = new LinkedHashMap<>(VendordataTestSupport.pkcs11(token, "absent").pluginData());
        data.put("token_label", "no-such-token");
        VendordataServer server = start(new PluginConfig("vendordata.conf", "KeyManager", "pkcs11", true, data),
                KeyType.EC_P256, CallerAuthenticator.of(Optional.of(TOKEN), false), false);
        HttpClient client = client();

        HttpResponse<String> ready = get(client, server.port(), VendordataServer.READY_PATH);
        HttpResponse<String> issue = post(client, server.port(), json(novaBody()), Optional.of(TOKEN));
        HttpResponse<String> jwks = get(client, server.port(), VendordataServer.JWKS_PATH);

        assertEquals(503, ready.statusCode());
        assertEquals(VendordataServer.NOT_READY_KEYS + "\n", ready.body());
        assertFalse(ready.body().contains("no-such-token"), "no internal detail to an unauthenticated caller");
        assertEquals(200, get(client, server.port(), VendordataServer.LIVE_PATH).statusCode());
        assertEquals(503, issue.statusCode());
        assertEquals(VendordataServer.SIGNING_UNAVAILABLE, error(issue));
        assertEquals(503, jwks.statusCode());
    }

    @Test
    void tls_cbcSuiteOnlyClient_refused() throws Exception {
        VendordataServer server = startWithToken();
        SSLParameters weak = new SSLParameters(new String[] {"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256"},
                new String[] {"TLSv1.2"});
        HttpClient client = HttpClient.newBuilder().sslContext(VendordataTestSupport.clientContext(Optional.empty(),
                Optional.empty(), null)).sslParameters(weak).build();

        assertThrows(IOException.class, () -> get(client, server.port(), VendordataServer.LIVE_PATH));
    }

    @Test
    void tls_tls12AeadClient_accepted() throws Exception {
        VendordataServer server = startWithToken();
        SSLParameters tls12 = new SSLParameters(new String[] {"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"},
                new String[] {"TLSv1.2"});
        HttpClient client = HttpClient.newBuilder().sslContext(VendordataTestSupport.clientContext(Optional.empty(),
                Optional.empty(), null)).sslParameters(tls12).build();

        assertEquals(200, get(client, server.port(), VendordataServer.LIVE_PATH).statusCode());
    }
}
