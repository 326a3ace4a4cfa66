package dev.bourne.appliance.health;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A small HTTP listener (JDK {@code com.sun.net.httpserver}) for the health checks and the Prometheus endpoint. Only
 * GET is answered; every other path is 404. Bodies are plain text.
 */
public final class HealthServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(HealthServer.class);

    private final HttpServer server;
    private final ExecutorService executor;

    private HealthServer(HttpServer server, ExecutorService executor) {
        this.server = server;
        this.executor = executor;
    }

    /**
     * Serves {@code /live} (always 200 while the process runs) and {@code /ready} (200 when {@code problems} is empty,
     * else 503 listing them) on {@code address}:{@code port}.
     */
    public static HealthServer health(String address, int port, String livePath, String readyPath,
            Supplier<List<String>> problems) throws IOException {
        Objects.requireNonNull(problems, "problems");
        HealthServer health = create(address, port, "health");
        health.server.createContext(livePath, exchange -> respond(exchange, livePath, 200, "live\n",
                "text/plain; charset=utf-8"));
        health.server.createContext(readyPath, exchange -> {
            List<String> now = problems.get();
            if (now.isEmpty()) {
                respond(exchange, readyPath, 200, "ready\n", "text/plain; charset=utf-8");
            } else {
                respond(exchange, readyPath, 503, "not ready:\n- " + String.join("\n- ", now) + "\n",
                        "text/plain; charset=utf-8");
            }
        });
        health.server.start();
        LOG.info("health checks on http://{}:{}{} and {}", address, health.port(), livePath, readyPath);
        return health;
    }

    /** Serves the Prometheus text exposition on {@code /metrics} (and {@code /}). */
    public static HealthServer metrics(String address, int port, ServerMetrics metrics) throws IOException {
        HealthServer server = create(address, port, "metrics");
        server.server.createContext("/", exchange -> {
            String path = exchange.getRequestURI().getPath();
            if (!path.equals("/") && !path.equals("/metrics")) {
                respond(exchange, path, 404, "not found\n", "text/plain; charset=utf-8");
                return;
            }
            respond(exchange, path, 200, metrics.scrape(), "text/plain; version=0.0.4; charset=utf-8");
        });
        server.server.start();
        LOG.info("Prometheus metrics on http://{}:{}/metrics", address, server.port());
        return server;
    }

    private static HealthServer create(String address, int port, String name) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(address, port), 16);
        ExecutorService executor = Executors.newFixedThreadPool(2, r -> {
            Thread thread = new Thread(r, "bourne-" + name + "-http");
            thread.setDaemon(true);
            return thread;
        });
        server.setExecutor(executor);
        return new HealthServer(server, executor);
    }

    private static void respond(HttpExchange exchange, String path, int status, String body, String type)
            throws IOException {
        try (exchange) {
            if (!exchange.getRequestURI().getPath().equals(path)) {
                status = 404;
                body = "not found\n";
            } else if (!exchange.getRequestMethod().equals("GET") && !exchange.getRequestMethod().equals("HEAD")) {
                status = 405;
                body = "method not allowed\n";
            }
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", type);
            boolean head = exchange.getRequestMethod().equals("HEAD");
            exchange.sendResponseHeaders(status, head ? -1 : bytes.length);
            if (!head) {
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(bytes);
                }
            }
        }
    }

    public int port() {
        return server.getAddress().getPort();
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
