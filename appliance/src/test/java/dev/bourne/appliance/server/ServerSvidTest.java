package dev.bourne.appliance.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.bourne.appliance.agentapi.TlsCredential;
import dev.bourne.appliance.ca.CaManager;
import dev.bourne.core.svid.x509.X509Svid;
import dev.bourne.testing.time.MutableClock;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The server SVID: its identity, renewal at half-life and on CA activation, and what TLS handshakes present. */
class ServerSvidTest {
    @TempDir
    Path dir;

    /** The leaf the agent API presents to a fresh TLS connection using {@code protocol}. */
    private static X509Certificate presented(int port, String protocol) throws Exception {
        AtomicReference<X509Certificate> seen = new AtomicReference<>();
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, new TrustManager[] {new X509TrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) {
                // The test only records what is presented; AgentApiTest verifies it like an agent.
                seen.set(chain[0]);
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        }}, null);
        try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket("127.0.0.1", port)) {
            socket.setEnabledProtocols(new String[] {protocol});
            socket.startHandshake();
        }
        return seen.get();
    }

    @Test
    void serverSvid_renewedOnActivationAndAtHalfLife_andPresentedToTheNextHandshake() throws Exception {
        MutableClock clock = new MutableClock();
        try (BourneServer server = BourneServer.start(TestServers.sqliteMemory(dir), clock)) {
            int port = server.agentApiPort().orElseThrow();
            CaManager ca = server.ca().orElseThrow();
            X509Certificate first = presented(port, "TLSv1.3");
            assertEquals("spiffe://example.org/spire/server", X509Svid.leafSpiffeId(first).toString());
            first.verify(ca.activeX509Authority().certificate().getPublicKey());

            ca.activateX509(ca.prepareX509().authorityId());
            X509Certificate afterActivation = presented(port, "TLSv1.3");
            assertNotEquals(first.getSerialNumber(), afterActivation.getSerialNumber());
            assertNotEquals(first.getPublicKey(), afterActivation.getPublicKey(), "a new key with every SVID");
            afterActivation.verify(ca.activeX509Authority().certificate().getPublicKey());

            ServerSvid svid = server.serverSvid();
            TlsCredential before = svid.get();
            svid.renewIfDue();
            assertSame(before, svid.get(), "not due before half-life");
            clock.advance(Duration.ofMinutes(31));
            svid.renewIfDue();
            assertNotEquals(before.chain().get(0).getSerialNumber(), svid.get().chain().get(0).getSerialNumber());
            assertEquals(svid.get().chain().get(0), presented(port, "TLSv1.3"));
        }
    }

    @Test
    void tls12Handshake_refused() throws Exception {
        try (BourneServer server = BourneServer.start(TestServers.sqliteMemory(dir), new MutableClock())) {
            assertThrows(SSLHandshakeException.class, () -> presented(server.agentApiPort().orElseThrow(),
                    "TLSv1.2"));
        }
    }

}
