package dev.bourne.agent.runtime;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.bourne.core.config.HealthCheckSettings;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/**
 * The {@code health_checks} HTTP listener: {@code live_path} answers 200 while the process runs, {@code ready_path}
 * 200 when the agent is attested and synced, else 503 with the reason. GET only; nothing else is served.
 */
final class HealthListener implements AutoCloseable {
    private final HttpServer server;
    private final ExecutorService executor;

    HealthListener(HealthCheckSettings settings, Supplier<AgentStatus> status) throws IOException {
        server = HttpServer.create(new InetSocketAddress(settings.bindAddress(), settings.bindPort()), 16);
        executor = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "bourne-agent-health");
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(executor);
        server.createContext(settings.livePath(), exchange -> answer(exchange, 200, "live"));
        server.createContext(settings.readyPath(), exchange -> {
            AgentStatus now = status.get();
            answer(exchange, now.ready() ? 200 : 503, now.ready() ? "ready" : "not ready: " + now.reason());
        });
        server.start();
    }

    int port() {
        return server.getAddress().getPort();
    }

    private static void answer(HttpExchange exchange, int code, String body) throws IOException {
        try (exchange) {
            if (!"GET".equals(exchange.getRequestMethod()) && !"HEAD".equals(exchange.getRequestMethod())) {
                exchange.sendResponseHeaders(405, -1);
                return;
            }
            byte[] bytes = (body + "\n").getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
            exchange.sendResponseHeaders(code, bytes.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
