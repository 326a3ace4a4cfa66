package dev.bourne.openstack.vendordata;

import com.nimbusds.jose.util.JSONObjectUtils;
import dev.bourne.core.config.PluginConfig;
import dev.bourne.testing.hsm.SoftHsmToken;
import dev.bourne.testing.pki.TestCa;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * What the signing service's tests share: a test PKI for the listener and for Nova's client certificates, PEM files
 * written as an operator would, Nova's request body as nova/api/metadata/vendordata_dynamic.py builds it, and a JDK
 * HttpClient that trusts the listener (optionally presenting a client certificate).
 */
final class VendordataTestSupport {
    /** The token tests configure: 64 hex characters, as {@code openssl rand -hex 32} makes. */
    static final String TOKEN = "3f1c0b8e9d2a4f6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d";
    static final String ISSUER = "https://vendordata.example.org";
    static final String AUDIENCE = "spiffe://example.org/spire/server";
    static final String PROJECT = "039d104b7a5c4631b4ba6524d0b9e981";
    static final String INSTANCE = "4d9e8b4a-2b22-4b93-a9a4-6a3e2f2f0b11";
    static final String IMAGE = "b5a8c4c2-7e0f-4a0c-9a55-0f2f6c7d8e91";
    static final String HOSTNAME = "web-1";

    /** The listener's CA, its certificate (DNS localhost) and key. */
    static final TestCa SERVER_CA = TestCa.root("vendordata.test");
    static final KeyPair SERVER_KEYS = dev.bourne.testing.pki.TestKeys.ecP256(11);
    static final X509Certificate SERVER_CERTIFICATE = SERVER_CA.leafSpec("spiffe://vendordata.test/vendordata",
            SERVER_KEYS.getPublic()).dnsNames("localhost").issue();
    /** The CA Nova's client certificates come from, and one such certificate. */
    static final TestCa NOVA_CA = TestCa.root("nova.test", dev.bourne.testing.pki.TestKeys.ecP256(12),
            java.time.Instant.now().minus(Duration.ofHours(1)), java.time.Instant.now().plus(Duration.ofDays(30)));
    static final KeyPair NOVA_KEYS = dev.bourne.testing.pki.TestKeys.ecP256(13);
    static final X509Certificate NOVA_CERTIFICATE = NOVA_CA.leaf("spiffe://nova.test/nova-api-metadata",
            NOVA_KEYS.getPublic());
    /** Another CA, whose certificates the service must refuse. */
    static final TestCa OTHER_CA = TestCa.root("other.test", dev.bourne.testing.pki.TestKeys.ecP256(14),
            java.time.Instant.now().minus(Duration.ofHours(1)), java.time.Instant.now().plus(Duration.ofDays(30)));
    static final KeyPair OTHER_KEYS = dev.bourne.testing.pki.TestKeys.ecP256(15);
    static final X509Certificate OTHER_CERTIFICATE = OTHER_CA.leaf("spiffe://other.test/intruder",
            OTHER_KEYS.getPublic());

    private VendordataTestSupport() {
    }

    /** Nova's body for the standard test instance. */
    static Map<String, Object> novaBody() {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("project-id", PROJECT);
        body.put("instance-id", INSTANCE);
        body.put("image-id", IMAGE);
        body.put("user-data", Base64.getEncoder().encodeToString(
                "#cloud-config\npassword: do-not-log-me\n".getBytes(StandardCharsets.UTF_8)));
        body.put("hostname", HOSTNAME);
        Map<String, Object> metadata = new LinkedHashMap<>();
        metadata.put("role", "web");
        metadata.put("tier", "frontend");
        body.put("metadata", metadata);
        body.put("boot-roles", "member,reader");
        return body;
    }

    static String json(Map<String, ?> body) {
        return JSONObjectUtils.toJSONString(body);
    }

    /** A PEM file of certificates, mode 0644 (certificates are public). */
    static Path writeCertificates(Path file, X509Certificate... certificates) throws Exception {
        StringBuilder pem = new StringBuilder();
        for (X509Certificate certificate : certificates) {
            pem.append(pem("CERTIFICATE", certificate.getEncoded()));
        }
        Files.writeString(file, pem);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
        return file;
    }

    /** A PKCS#8 PEM key file with {@code mode}. */
    static Path writeKey(Path file, PrivateKey key, String mode) throws IOException {
        Files.writeString(file, pem("PRIVATE KEY", key.getEncoded()));
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(mode));
        return file;
    }

    /** A token file with {@code mode}. */
    static Path writeToken(Path file, String token, String mode) throws IOException {
        Files.writeString(file, token);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(mode));
        return file;
    }

    static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }

    /** The listener's TLS files in {@code dir}: tls.crt (leaf then CA) and tls.key (0600). */
    static void writeServerTls(Path dir) throws Exception {
        writeCertificates(dir.resolve("tls.crt"), SERVER_CERTIFICATE, SERVER_CA.certificate());
        writeKey(dir.resolve("tls.key"), SERVER_KEYS.getPrivate(), "rw-------");
    }

    /** The listener's TLS, requesting client certificates from {@link #NOVA_CA} when {@code clientCertificates}. */
    static VendordataTls serverTls(boolean clientCertificates) throws GeneralSecurityException {
        return VendordataTls.create(List.of(SERVER_CERTIFICATE, SERVER_CA.certificate()), SERVER_KEYS.getPrivate(),
                clientCertificates ? Optional.of(List.of(NOVA_CA.certificate())) : Optional.empty());
    }

    /** An HTTP client trusting the listener's CA, presenting {@code certificate} with {@code keys} when given. */
    static HttpClient client(Optional<X509Certificate> certificate, Optional<KeyPair> keys) throws Exception {
        return HttpClient.newBuilder().sslContext(clientContext(certificate, keys, null))
                .connectTimeout(Duration.ofSeconds(10)).build();
    }

    static HttpClient client() throws Exception {
        return client(Optional.empty(), Optional.empty());
    }

    static SSLContext clientContext(Optional<X509Certificate> certificate, Optional<KeyPair> keys, String protocol)
            throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("server-ca", SERVER_CA.certificate());
        TrustManagerFactory trustFactory = TrustManagerFactory.getInstance("PKIX");
        trustFactory.init(trust);
        javax.net.ssl.KeyManager[] keyManagers = null;
        if (certificate.isPresent()) {
            KeyStore identity = KeyStore.getInstance("PKCS12");
            identity.load(null, null);
            identity.setKeyEntry("client", keys.orElseThrow().getPrivate(), new char[0],
                    new X509Certificate[] {certificate.get()});
            KeyManagerFactory keyFactory = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            keyFactory.init(identity, new char[0]);
            keyManagers = keyFactory.getKeyManagers();
        }
        SSLContext context = SSLContext.getInstance(protocol == null ? "TLS" : protocol);
        context.init(keyManagers, trustFactory.getTrustManagers(), new SecureRandom());
        return context;
    }

    static URI uri(int port, String path) {
        return URI.create("https://localhost:" + port + path);
    }

    /** Nova's POST: JSON body, its headers, and the token as X-Auth-Token when given. */
    static HttpResponse<String> post(HttpClient client, int port, String body, Optional<String> token)
            throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri(port, VendordataServer.IID_PATH))
                .timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json")
                .header("Accept", "application/json")
                .header("User-Agent", "openstack-nova-vendordata")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        token.ifPresent(t -> request.header(CallerAuthenticator.X_AUTH_TOKEN, t));
        return client.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<String> get(HttpClient client, int port, String path) throws Exception {
        return client.send(HttpRequest.newBuilder(uri(port, path)).timeout(Duration.ofSeconds(30)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** The {@code data} member of a 200 answer. */
    static String data(HttpResponse<String> response) throws Exception {
        Map<String, Object> json = JSONObjectUtils.parse(response.body());
        return (String) json.get("data");
    }

    /** The {@code error} member of an error answer. */
    static String error(HttpResponse<String> response) throws Exception {
        return (String) JSONObjectUtils.parse(response.body()).get("error");
    }

    /** The {@code KeyManager "pkcs11"} plugin for a SoftHSM2 token, as a configuration file would give it. */
    static PluginConfig pkcs11(SoftHsmToken token, String keyIdentifier) {
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("library", token.library().toString());
        data.put("token_label", token.label());
        data.put("pin_file", token.pinFile().toString());
        data.put("key_identifier_value", keyIdentifier);
        return new PluginConfig("vendordata.conf", "KeyManager", "pkcs11", true, data);
    }
}
