package dev.bourne.appliance.federation;

import java.io.IOException;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;

/**
 * Test clients for the HTTPS listeners: JDK HttpClients trusting either a SPIFFE bundle with an expected server
 * SPIFFE ID (as a federated peer does for {@code https_spiffe}) or ordinary CA certificates (Web PKI), and helpers
 * to write PEM files.
 */
public final class HttpsClients {

    private HttpsClients() {
    }

    /**
     * Authenticates the server as the SPIFFE Federation spec says for {@code https_spiffe}: its chain validates
     * against the bundle's X.509 authorities and its leaf's URI SAN is {@code expectedId}; no host name check.
     * Remembers the last chain presented.
     */
    public static final class SpiffeTrust extends X509ExtendedTrustManager {
        private final Set<TrustAnchor> anchors = new HashSet<>();
        private final String expectedId;
        private final AtomicReference<X509Certificate[]> lastChain = new AtomicReference<>();

        public SpiffeTrust(List<X509Certificate> roots, String expectedId) {
            roots.forEach(r -> anchors.add(new TrustAnchor(r, null)));
            this.expectedId = expectedId;
        }

        public X509Certificate[] lastChain() {
            return lastChain.get();
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                throws CertificateException {
            checkServerTrusted(chain, authType);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
                throws CertificateException {
            checkServerTrusted(chain, authType);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            lastChain.set(chain);
            try {
                PKIXParameters parameters = new PKIXParameters(anchors);
                parameters.setRevocationEnabled(false);
                CertPathValidator.getInstance("PKIX").validate(CertificateFactory.getInstance("X.509")
                        .generateCertPath(Arrays.asList(chain)), parameters);
                boolean idMatches = chain[0].getSubjectAlternativeNames() != null && chain[0]
                        .getSubjectAlternativeNames().stream()
                        .anyMatch(san -> ((Integer) san.get(0)) == 6 && expectedId.equals(san.get(1)));
                if (!idMatches) {
                    throw new CertificateException("server is not " + expectedId);
                }
            } catch (GeneralSecurityException e) {
                throw new CertificateException(e);
            }
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                throws CertificateException {
            throw new CertificateException("client side only");
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
                throws CertificateException {
            throw new CertificateException("client side only");
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            throw new CertificateException("client side only");
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }

    /** A client for {@code https_spiffe} endpoints. */
    public static HttpClient spiffe(SpiffeTrust trust) throws GeneralSecurityException {
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, new javax.net.ssl.TrustManager[] {trust}, null);
        return HttpClient.newBuilder().sslContext(context).connectTimeout(Duration.ofSeconds(5)).build();
    }

    /** A client trusting {@code roots} with the JDK's PKIX and host name checks. */
    public static HttpClient web(List<X509Certificate> roots) throws GeneralSecurityException, IOException {
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        for (int i = 0; i < roots.size(); i++) {
            store.setCertificateEntry("root-" + i, roots.get(i));
        }
        TrustManagerFactory factory = TrustManagerFactory.getInstance("PKIX");
        factory.init(store);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, factory.getTrustManagers(), null);
        return HttpClient.newBuilder().sslContext(context).connectTimeout(Duration.ofSeconds(5)).build();
    }

    public static HttpResponse<String> get(HttpClient client, String url) throws IOException, InterruptedException {
        return client.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).GET().build(),
                HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    }

    /** A port free right now on 127.0.0.1, for listeners whose URL must be known before they start. */
    public static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    /** Writes the chain as PEM certificates (mode 0644). */
    public static void writeChain(Path file, List<X509Certificate> chain) throws IOException {
        StringWriter text = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(text)) {
            for (X509Certificate certificate : chain) {
                writer.writeObject(certificate);
            }
        }
        Files.writeString(file, text.toString(), StandardCharsets.US_ASCII);
    }

    /** Writes the key as unencrypted PKCS#8 PEM with {@code mode}, such as {@code rw-------}. */
    public static void writeKey(Path file, PrivateKey key, String mode) throws IOException {
        StringWriter text = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(text)) {
            writer.writeObject(new JcaPKCS8Generator(key, null));
        }
        Files.deleteIfExists(file);
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(file, text.toString(), StandardCharsets.US_ASCII);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(mode));
    }
}
