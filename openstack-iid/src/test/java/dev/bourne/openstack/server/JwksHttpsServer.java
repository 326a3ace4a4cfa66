package dev.bourne.openstack.server;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import dev.bourne.testing.pki.TestCa;
import dev.bourne.testing.pki.TestKeys;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/**
 * A JWK set published over real HTTPS on loopback (the JDK's HttpsServer, a certificate for {@code localhost} from a
 * {@link TestCa}), as the vendordata service publishes it: tests change what it answers and count the requests.
 */
final class JwksHttpsServer implements AutoCloseable {

    /** What the server answers: a status, a body and, for a redirect, a location. */
    record Answer(int status, byte[] body, String location) {
        static Answer ok(String json) {
            return new Answer(200, json.getBytes(StandardCharsets.UTF_8), null);
        }

        static Answer status(int status) {
            return new Answer(status, "{}".getBytes(StandardCharsets.UTF_8), null);
        }
    }

    private final TestCa ca;
    private final HttpsServer server;
    private final AtomicReference<Answer> answer;
    private final AtomicInteger requests = new AtomicInteger();
    /** When set, each request is counted, then waits for this latch before answering. */
    private final AtomicReference<CountDownLatch> gate = new AtomicReference<>();

    JwksHttpsServer(String json) throws IOException, GeneralSecurityException {
        this(TestCa.root("jwks.test"), json);
    }

    JwksHttpsServer(TestCa ca, String json) throws IOException, GeneralSecurityException {
        this.ca = ca;
        this.answer = new AtomicReference<>(Answer.ok(json));
        KeyPair serverKeys = TestKeys.ecP256(70);
        X509Certificate leaf = ca.leafSpec("spiffe://jwks.test/vendordata", serverKeys.getPublic())
                .dnsNames("localhost").issue();
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        char[] password = "test".toCharArray();
        store.setKeyEntry("server", serverKeys.getPrivate(), password,
                new Certificate[] {leaf, ca.rootCertificate()});
        KeyManagerFactory keyManagers = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        keyManagers.init(store, password);
        SSLContext tls = SSLContext.getInstance("TLS");
        tls.init(keyManagers.getKeyManagers(), null, null);

        server = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setHttpsConfigurator(new HttpsConfigurator(tls));
        server.createContext("/jwks.json", exchange -> {
            requests.incrementAndGet();
            CountDownLatch wait = gate.get();
            if (wait != null) {
                try {
                    wait.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            Answer current = answer.get();
            try (exchange) {
                exchange.getRequestBody().readAllBytes();
                if (current.location() != null) {
                    exchange.getResponseHeaders().add("Location", current.location());
                }
                exchange.getResponseHeaders().add("Content-Type", "application/json");
                exchange.sendResponseHeaders(current.status(), current.body().length == 0 ? -1 : current.body().length);
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(current.body());
                }
            }
        });
        server.start();
    }

    URI url() {
        return URI.create("https://localhost:" + server.getAddress().getPort() + "/jwks.json");
    }

    /** Writes the CA certificate that issued the server's certificate as PEM, for {@code jwks_ca_file}. */
    Path writeCaFile(Path dir) throws IOException, GeneralSecurityException {
        Path file = dir.resolve("jwks-ca.pem");
        Files.writeString(file, "-----BEGIN CERTIFICATE-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                        .encodeToString(ca.rootCertificate().getEncoded())
                + "\n-----END CERTIFICATE-----\n");
        return file;
    }

    /** Holds every later request until {@code latch} is counted down. */
    void holdRequestsUntil(CountDownLatch latch) {
        gate.set(latch);
    }

    void answer(Answer next) {
        answer.set(next);
    }

    void serve(String json) {
        answer.set(Answer.ok(json));
    }

    int requests() {
        return requests.get();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
