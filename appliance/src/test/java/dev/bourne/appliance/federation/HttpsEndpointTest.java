package dev.bourne.appliance.federation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bourne.appliance.agentapi.TlsCredential;
import dev.bourne.testing.pki.TestCa;
import dev.bourne.testing.pki.TestKeys;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyStore;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The public HTTPS listener against hostile and malformed requests, over real TLS sockets. */
class HttpsEndpointTest {
    static final TestCa CA = TestCa.root("web.test");

    HttpsEndpoint endpoint;
    AtomicReference<TlsCredential> credential = new AtomicReference<>();

    static TlsCredential credential() {
        KeyPair keys = TestKeys.freshEcP256();
        return new TlsCredential(keys.getPrivate(), List.of(CA.leafSpec("spiffe://web.test/x", keys.getPublic())
                .uris().dnsNames("localhost").issue()));
    }

    @BeforeEach
    void start() throws Exception {
        credential.set(credential());
        endpoint = HttpsEndpoint.start("test", "127.0.0.1", 0, credential::get, path -> path.equals("/")
                ? Optional.of(HttpsEndpoint.Response.json("{\"ok\":true}", Map.of()))
                : Optional.empty());
    }

    @AfterEach
    void stop() {
        endpoint.close();
    }

    private SSLSocket connect(String... protocols) throws Exception {
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        store.setCertificateEntry("ca", CA.certificate());
        TrustManagerFactory trust = TrustManagerFactory.getInstance("PKIX");
        trust.init(store);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, trust.getTrustManagers(), null);
        SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket("127.0.0.1", endpoint.port());
        socket.setSoTimeout(10_000);
        if (protocols.length > 0) {
            socket.setEnabledProtocols(protocols);
        }
        return socket;
    }

    /** Sends {@code request} raw and returns the whole response (the server closes after it). */
    private String exchange(String request) throws Exception {
        try (SSLSocket socket = connect()) {
            OutputStream out = socket.getOutputStream();
            out.write(request.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            return new String(socket.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }

    static Stream<Arguments> requests() {
        return Stream.of(
                Arguments.of("get", "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "HTTP/1.1 200 OK"),
                Arguments.of("query ignored", "GET /?a=b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                        "HTTP/1.1 200 OK"),
                Arguments.of("unknown path", "GET /keys HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                        "HTTP/1.1 404 Not Found"),
                Arguments.of("encoded dot segments", "GET /%2e%2e/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                        "HTTP/1.1 404 Not Found"),
                Arguments.of("absolute form elsewhere", "GET http://evil.example/etc HTTP/1.1\r\nHost: x\r\n"
                        + "Connection: close\r\n\r\n", "HTTP/1.1 404 Not Found"),
                Arguments.of("asterisk form", "OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                        "HTTP/1.1 400 Bad Request"),
                Arguments.of("invalid URI", "GET /a b|c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                        "HTTP/1.1 400 Bad Request"),
                Arguments.of("put", "PUT / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                        "HTTP/1.1 405 Method Not Allowed"),
                Arguments.of("body", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
                        "HTTP/1.1 413 Request Entity Too Large"),
                Arguments.of("huge declared body", "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n",
                        "HTTP/1.1 413 Request Entity Too Large"),
                Arguments.of("chunked body", "GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                        + "5\r\nhello\r\n0\r\n\r\n", "HTTP/1.1 413 Request Entity Too Large"),
                Arguments.of("request line too long", "GET /" + "a".repeat(HttpsEndpoint.MAX_INITIAL_LINE_BYTES)
                        + " HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 400 Bad Request"),
                Arguments.of("headers too large", "GET / HTTP/1.1\r\nHost: x\r\nX-Big: "
                        + "b".repeat(HttpsEndpoint.MAX_HEADER_BYTES) + "\r\n\r\n", "HTTP/1.1 400 Bad Request"),
                Arguments.of("not HTTP", "\u0000\u0001\u0002garbage\r\n\r\n", "HTTP/1.1 400 Bad Request"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("requests")
    void request_answeredWithStatus(String name, String request, String statusLine) throws Exception {
        String response = exchange(request);

        assertTrue(response.startsWith(statusLine + "\r\n"), response);
    }

    @Test
    void keepAlive_secondRequestOnTheSameConnectionAnswered() throws Exception {
        String response = exchange("GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /x HTTP/1.1\r\nHost: x\r\n"
                + "Connection: close\r\n\r\n");

        assertTrue(response.startsWith("HTTP/1.1 200 OK\r\n"), response);
        assertTrue(response.contains("HTTP/1.1 404 Not Found\r\n"), response);
    }

    @Test
    void plainHttpOnTheTlsPort_closedWithoutAnAnswer() throws Exception {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", endpoint.port()), 5000);
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            InputStream in = socket.getInputStream();
            byte[] answer = in.readAllBytes();
            assertFalse(new String(answer, StandardCharsets.ISO_8859_1).contains("HTTP/1.1 200"));
        } catch (IOException e) {
            // A reset is as good as a close.
        }
    }

    @Test
    void tls11Client_refused() throws Exception {
        SSLSocket socket;
        try {
            socket = connect("TLSv1.1");
        } catch (IllegalArgumentException e) {
            return; // this JDK cannot even offer TLS 1.1
        }
        try (socket) {
            assertThrows(SSLHandshakeException.class, socket::startHandshake);
        }
    }

    @Test
    void tls12And13_bothServed() throws Exception {
        for (String protocol : List.of("TLSv1.2", "TLSv1.3")) {
            try (SSLSocket socket = connect(protocol)) {
                socket.startHandshake();
                assertEquals(protocol, socket.getSession().getProtocol());
            }
        }
    }

    @Test
    void credentialRotated_nextHandshakePresentsTheNewOne() throws Exception {
        TlsCredential next = credential();
        try (SSLSocket before = connect()) {
            before.startHandshake();
            assertEquals(credential.get().chain().get(0), before.getSession().getPeerCertificates()[0]);
        }

        credential.set(next);

        try (SSLSocket after = connect()) {
            after.startHandshake();
            assertEquals(next.chain().get(0), after.getSession().getPeerCertificates()[0]);
        }
    }
}
