package dev.bourne.appliance.federation;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import dev.bourne.core.bundle.SpiffeBundle;
import dev.bourne.core.bundle.SpiffeBundleJson;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.net.ssl.SSLContext;

/**
 * A federation peer's bundle endpoint for tests: a real JDK HTTPS server on loopback presenting the given certificate
 * chain, answering with whatever {@link Responder} is set, well-behaved or not. The certificate can be replaced
 * between requests (a peer rotating its SVID).
 */
public final class FederationPeer implements AutoCloseable {
    /** What the peer does with one request. */
    @FunctionalInterface
    public interface Responder {
        void respond(HttpExchange exchange, FederationPeer peer) throws IOException, InterruptedException;
    }

    private final HttpsServer server;
    private final ExecutorService executor = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "federation-peer");
        t.setDaemon(true);
        return t;
    });
    private final CountDownLatch closing = new CountDownLatch(1);
    private final AtomicInteger requests = new AtomicInteger();
    private volatile X509ExtendedKeyManager identity;
    private volatile Responder responder = (exchange, peer) -> status(exchange, 404);

    private FederationPeer(KeyPair key, List<X509Certificate> chain) throws Exception {
        server = HttpsServer.create(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0), 0);
        identity(key, chain);
        // The server's SSL context is fixed once started: its key manager delegates to the current identity.
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(new KeyManager[] {new CurrentIdentity()}, null, null);
        server.setHttpsConfigurator(new HttpsConfigurator(context));
        server.createContext("/", exchange -> {
            requests.incrementAndGet();
            try {
                responder.respond(exchange, this);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (IOException e) {
                // The client went away (it abandoned an oversized or slow answer): nothing to do.
            } finally {
                exchange.close();
            }
        });
        server.setExecutor(executor);
        server.start();
    }

    public static FederationPeer start(KeyPair key, List<X509Certificate> chain) throws Exception {
        return new FederationPeer(key, chain);
    }

    /** Presents {@code chain} (leaf first) from the next handshake on. */
    public void identity(KeyPair key, List<X509Certificate> chain) throws Exception {
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        char[] password = "test".toCharArray();
        store.setKeyEntry("peer", key.getPrivate(), password, chain.toArray(new X509Certificate[0]));
        KeyManagerFactory keys = KeyManagerFactory.getInstance("PKIX");
        keys.init(store, password);
        identity = (X509ExtendedKeyManager) keys.getKeyManagers()[0];
    }

    private final class CurrentIdentity extends X509ExtendedKeyManager {
        @Override
        public String[] getClientAliases(String keyType, Principal[] issuers) {
            return null;
        }

        @Override
        public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
            return null;
        }

        @Override
        public String[] getServerAliases(String keyType, Principal[] issuers) {
            return identity.getServerAliases(keyType, issuers);
        }

        @Override
        public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
            return identity.chooseServerAlias(keyType, issuers, socket);
        }

        @Override
        public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
            return identity.chooseEngineServerAlias(keyType, issuers, engine);
        }

        @Override
        public X509Certificate[] getCertificateChain(String alias) {
            return identity.getCertificateChain(alias);
        }

        @Override
        public PrivateKey getPrivateKey(String alias) {
            return identity.getPrivateKey(alias);
        }
    }

    public void respond(Responder next) {
        responder = next;
    }

    /** Serves {@code bundle} as SPIFFE bundle JSON. */
    public void serve(SpiffeBundle bundle) {
        String json = SpiffeBundleJson.encode(bundle);
        respond((exchange, peer) -> body(exchange, 200, json.getBytes(StandardCharsets.UTF_8)));
    }

    /** Serves this document as it is. */
    public void serve(String document) {
        respond((exchange, peer) -> body(exchange, 200, document.getBytes(StandardCharsets.UTF_8)));
    }

    /** https://{@code host}:port{@code path}; the server listens on 127.0.0.1. */
    public URI url(String host, String path) {
        return URI.create("https://" + host + ":" + server.getAddress().getPort() + path);
    }

    public URI url() {
        return url("127.0.0.1", "/bundle.json");
    }

    public int requests() {
        return requests.get();
    }

    /** Waits (bounded) until the test ends; for a peer that never answers. */
    public void hang() throws InterruptedException {
        closing.await(60, TimeUnit.SECONDS);
    }

    public static void body(HttpExchange exchange, int status, byte[] content) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, content.length == 0 ? -1 : content.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(content);
        }
    }

    public static void status(HttpExchange exchange, int status) throws IOException {
        exchange.sendResponseHeaders(status, -1);
    }

    @Override
    public void close() {
        closing.countDown();
        server.stop(0);
        executor.shutdownNow();
    }
}
