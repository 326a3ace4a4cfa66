package dev.bourne.testing.openstack;

import com.nimbusds.jose.util.JSONObjectUtils;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;

/**
 * The plumbing the fakes share: a JDK {@link HttpServer} on 127.0.0.1 with a free port and a small thread pool (so a
 * slow answer does not hold up the others), and the ways they answer.
 */
final class FakeHttp implements AutoCloseable {
    /** Largest request body a fake reads; the real services refuse far less than this, the fakes only stay bounded. */
    static final int MAX_REQUEST_BYTES = 64 * 1024;

    private final HttpServer server;
    private final ExecutorService executor;
    private final boolean https;

    private FakeHttp(HttpServer server, ExecutorService executor, boolean https) {
        this.server = server;
        this.executor = executor;
        this.https = https;
    }

    /** Listens on 127.0.0.1 with a port the kernel picks and serves every path with {@code handler}. */
    static FakeHttp start(String name, HttpHandler handler) {
        return start(name, handler, Optional.empty());
    }

    /**
     * As {@link #start(String, HttpHandler)}, over HTTPS with {@code tls} when present (its certificate must name
     * {@code localhost}, the host of {@link #uri()} then).
     */
    static FakeHttp start(String name, HttpHandler handler, Optional<SSLContext> tls) {
        HttpServer server;
        try {
            InetSocketAddress address = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
            if (tls.isPresent()) {
                HttpsServer httpsServer = HttpsServer.create(address, 64);
                httpsServer.setHttpsConfigurator(new HttpsConfigurator(tls.get()));
                server = httpsServer;
            } else {
                server = HttpServer.create(address, 64);
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot listen on 127.0.0.1 for the " + name, e);
        }
        AtomicInteger threads = new AtomicInteger();
        ExecutorService executor = Executors.newFixedThreadPool(8, runnable -> {
            Thread thread = new Thread(runnable, name + "-" + threads.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
        server.setExecutor(executor);
        server.createContext("/", handler);
        server.start();
        return new FakeHttp(server, executor, tls.isPresent());
    }

    /** {@code http://127.0.0.1:<port>}, or {@code https://localhost:<port>}. */
    URI uri() {
        return URI.create((https ? "https://localhost:" : "http://127.0.0.1:") + server.getAddress().getPort());
    }

    int port() {
        return server.getAddress().getPort();
    }

    /** Stops listening at once: later connections are refused, answers being delayed are abandoned. */
    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }

    /** Waits {@code delay} (a slow service); false when the fake is closing meanwhile. */
    static boolean pause(Duration delay) {
        if (delay.isZero()) {
            return true;
        }
        try {
            Thread.sleep(delay.toMillis());
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Reads the request body, at most {@link #MAX_REQUEST_BYTES}; null when it is larger. */
    static byte[] body(HttpExchange exchange) throws IOException {
        try (InputStream in = exchange.getRequestBody()) {
            byte[] body = in.readNBytes(MAX_REQUEST_BYTES + 1);
            return body.length > MAX_REQUEST_BYTES ? null : body;
        }
    }

    static void json(HttpExchange exchange, int status, Map<String, ?> body) throws IOException {
        send(exchange, status, "application/json", JSONObjectUtils.toJSONString(body));
    }

    static void send(HttpExchange exchange, int status, String contentType, String body) throws IOException {
        send(exchange, status, contentType, body.getBytes(StandardCharsets.UTF_8));
    }

    static void send(HttpExchange exchange, int status, String contentType, byte[] body) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", contentType);
        exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }

    /**
     * Sends {@code body} with chunked transfer encoding (no {@code Content-Length}), so a client has to bound what it
     * reads itself rather than trust a header.
     */
    static void sendChunked(HttpExchange exchange, int status, String contentType, byte[] body) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", contentType);
        exchange.sendResponseHeaders(status, 0);
        try (OutputStream out = exchange.getResponseBody()) {
            for (int offset = 0; offset < body.length; offset += 8192) {
                out.write(body, offset, Math.min(8192, body.length - offset));
            }
        } catch (IOException e) {
            // The client stopped reading (it refused a body this large): that is what the test wanted.
        }
    }

    /** Closes the connection without an answer: the client sees the connection drop. */
    static void drop(HttpExchange exchange) {
        exchange.close();
    }
}
