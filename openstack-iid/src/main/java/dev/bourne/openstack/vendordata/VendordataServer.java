package dev.bourne.openstack.vendordata;

import com.nimbusds.jose.util.JSONObjectUtils;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsExchange;
import com.sun.net.httpserver.HttpsParameters;
import com.sun.net.httpserver.HttpsServer;
import dev.bourne.core.keymanager.HsmAuthenticationException;
import dev.bourne.core.keymanager.KeyManagerException;
import dev.bourne.core.keymanager.KeyManagerStatus;
import dev.bourne.openstack.common.OpenStackIid;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The signing service's HTTPS listener (JDK {@code HttpsServer}; TLS as {@link VendordataTls} sets it up):
 * <ul>
 * <li>{@code POST /v1/iid}: Nova's DynamicJSON vendordata call. Authenticated by {@link CallerAuthenticator} (401 with
 *     {@code WWW-Authenticate} otherwise, before the body is read); {@code Content-Type: application/json} (415);
 *     body at most {@link VendordataRequest#MAX_BODY_BYTES} (413, refused by {@code Content-Length} before reading);
 *     parsed by {@link VendordataRequest#parse} (400 naming the field); answered {@code 200 {"data": "<jws>"}}, which
 *     Nova puts under the target's name in {@code vendor_data2.json}. 503 when the key cannot sign now.</li>
 * <li>{@code GET /v1/jwks.json}: the public keys (active, and prepared or retired), without authentication, with
 *     {@code Cache-Control: max-age=60}.</li>
 * <li>{@code GET /live} (200 while the process serves) and {@code GET /ready} (200 when the keys are loaded and the
 *     KeyManager can sign, else 503 saying why).</li>
 * </ul>
 * Other methods get 405 with {@code Allow}, other paths 404. Error bodies are {@code {"error": "..."}}; internal
 * failures send only a correlation ID, logged with the cause.
 *
 * <p>Every document issued is one audit line (on {@value #AUDIT_LOGGER}): project, instance, {@code jti}, {@code kid},
 * expiry and how the caller authenticated. Never the JWS, the token or the user data.
 *
 * <p>Requests run on a bounded pool ({@value #WORKERS} threads, {@value #QUEUE} waiting); beyond that, connections are
 * closed rather than queued without limit.
 */
public final class VendordataServer implements AutoCloseable {
    public static final String IID_PATH = "/v1/iid";
    public static final String JWKS_PATH = "/v1/jwks.json";
    public static final String LIVE_PATH = "/live";
    public static final String READY_PATH = "/ready";
    public static final String AUDIT_LOGGER = "bourne.audit";
    public static final String JWKS_CACHE_CONTROL = "max-age=60";

    public static final int WORKERS = 16;
    public static final int QUEUE = 256;
    public static final int BACKLOG = 128;

    /** The JDK HttpServer's switch for TCP_NODELAY on accepted connections, read once when the first server starts. */
    public static final String NODELAY_PROPERTY = "sun.net.httpserver.nodelay";

    static {
        // The JDK's HttpServer leaves Nagle's algorithm on: each response's last segment then waits for the client's
        // delayed ACK (about 40 ms on Linux) on a kept-alive connection. Nova's vendordata call sits in an instance's
        // boot path, so the service turns it off unless the operator set the property explicitly.
        if (System.getProperty(NODELAY_PROPERTY) == null) {
            System.setProperty(NODELAY_PROPERTY, "true");
        }
    }
    /**
     * An oversized body up to this size is read and dropped after it is refused, so that a client that sends its
     * whole body before reading gets the 413; beyond it the connection is closed on the client.
     */
    public static final long MAX_DISCARD_BYTES = 1024 * 1024;

    public static final String UNAUTHENTICATED = "authentication required";
    public static final String UNSUPPORTED_MEDIA_TYPE = "Content-Type must be application/json";
    public static final String BAD_CONTENT_LENGTH = "Content-Length is not a number";
    public static final String NOT_FOUND = "not found";
    public static final String METHOD_NOT_ALLOWED = "method not allowed";
    public static final String SIGNING_UNAVAILABLE = "the signing key is unavailable; retry later";
    public static final String NOT_READY_KEYS = "not ready: the signing keys are not loaded";
    public static final String NOT_READY_KEY_MANAGER = "not ready: the KeyManager cannot sign";
    public static final String INTERNAL_ERROR = "internal error (correlation id %s)";

    private static final Logger LOG = LoggerFactory.getLogger(VendordataServer.class);
    private static final Logger AUDIT = LoggerFactory.getLogger(AUDIT_LOGGER);

    private final HttpsServer server;
    private final ThreadPoolExecutor executor;
    private final CallerAuthenticator authenticator;
    private final IidSigner signer;
    private final IidSigningKeys keys;
    private final Supplier<KeyManagerStatus> keyManagerStatus;
    private final Consumer<String> audit;

    private VendordataServer(HttpsServer server, ThreadPoolExecutor executor, CallerAuthenticator authenticator,
            IidSigner signer, IidSigningKeys keys, Supplier<KeyManagerStatus> keyManagerStatus,
            Consumer<String> audit) {
        this.server = server;
        this.executor = executor;
        this.authenticator = authenticator;
        this.signer = signer;
        this.keys = keys;
        this.keyManagerStatus = keyManagerStatus;
        this.audit = audit;
    }

    /**
     * Starts listening on {@code address} (port 0 picks a free one) with audit lines going to {@value #AUDIT_LOGGER}.
     *
     * @param keyManagerStatus the KeyManager's status, for {@code /ready}
     */
    public static VendordataServer start(InetSocketAddress address, VendordataTls tls,
            CallerAuthenticator authenticator, IidSigner signer, IidSigningKeys keys,
            Supplier<KeyManagerStatus> keyManagerStatus) throws IOException {
        return start(address, tls, authenticator, signer, keys, keyManagerStatus, AUDIT::info);
    }

    /** As {@link #start(InetSocketAddress, VendordataTls, CallerAuthenticator, IidSigner, IidSigningKeys, Supplier)},
     * with audit lines going to {@code audit}. */
    public static VendordataServer start(InetSocketAddress address, VendordataTls tls,
            CallerAuthenticator authenticator, IidSigner signer, IidSigningKeys keys,
            Supplier<KeyManagerStatus> keyManagerStatus, Consumer<String> audit) throws IOException {
        Objects.requireNonNull(tls, "tls");
        if (authenticator.requiresClientCertificate() && !tls.requestsClientCertificates()) {
            throw new IllegalArgumentException("client certificates are required but TLS does not request them");
        }
        HttpsServer server = HttpsServer.create(address, BACKLOG);
        server.setHttpsConfigurator(new HttpsConfigurator(tls.context()) {
            @Override
            public void configure(HttpsParameters params) {
                params.setSSLParameters(tls.parameters());
            }
        });
        AtomicInteger threads = new AtomicInteger();
        ThreadPoolExecutor executor = new ThreadPoolExecutor(WORKERS, WORKERS, 60, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(QUEUE), runnable -> {
                    Thread thread = new Thread(runnable, "bourne-vendordata-" + threads.incrementAndGet());
                    thread.setDaemon(true);
                    return thread;
                }, new ThreadPoolExecutor.AbortPolicy());
        executor.allowCoreThreadTimeOut(true);
        server.setExecutor(executor);
        VendordataServer vendordata = new VendordataServer(server, executor, Objects.requireNonNull(authenticator),
                Objects.requireNonNull(signer), Objects.requireNonNull(keys), Objects.requireNonNull(keyManagerStatus),
                Objects.requireNonNull(audit));
        server.createContext("/", vendordata::handle);
        server.start();
        LOG.info("IID signing service listening on https://{}:{} ({}{})", address.getHostString(), vendordata.port(),
                authenticator.requiresToken() ? "token" : "", authenticator.requiresClientCertificate()
                        ? (authenticator.requiresToken() ? " and " : "") + "client certificate" : "");
        return vendordata;
    }

    /** The port listened on. */
    public int port() {
        return server.getAddress().getPort();
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String path = exchange.getRequestURI().getRawPath();
            String method = exchange.getRequestMethod();
            switch (path == null ? "" : path) {
                case IID_PATH -> {
                    if (!method.equals("POST")) {
                        methodNotAllowed(exchange, "POST");
                    } else {
                        issue(exchange);
                    }
                }
                case JWKS_PATH -> {
                    if (readOnly(exchange, method)) {
                        jwks(exchange);
                    }
                }
                case LIVE_PATH -> {
                    if (readOnly(exchange, method)) {
                        text(exchange, 200, "live\n");
                    }
                }
                case READY_PATH -> {
                    if (readOnly(exchange, method)) {
                        ready(exchange);
                    }
                }
                default -> error(exchange, 404, NOT_FOUND);
            }
        } catch (IOException e) {
            // The client went away or the connection broke: nothing to answer.
            LOG.debug("vendordata exchange failed: {}", e.getMessage());
        } catch (RuntimeException e) {
            String id = UUID.randomUUID().toString();
            LOG.error("vendordata request failed (correlation id {})", id, e);
            try {
                error(exchange, 500, String.format(INTERNAL_ERROR, id));
            } catch (IOException | RuntimeException ignored) {
                // The response may have started already; the failure is logged.
            }
        }
    }

    private void issue(HttpExchange exchange) throws IOException {
        CallerAuthenticator.Verdict verdict = authenticator.authenticate(exchange.getRequestHeaders(),
                exchange instanceof HttpsExchange https ? https.getSSLSession() : null);
        if (!verdict.authenticated()) {
            LOG.warn("refused a signing request from {}: {}", exchange.getRemoteAddress().getAddress().getHostAddress(),
                    verdict.refusal().orElseThrow().description());
            exchange.getResponseHeaders().set("WWW-Authenticate", authenticator.challenge());
            error(exchange, 401, UNAUTHENTICATED);
            return;
        }
        if (!isJson(exchange.getRequestHeaders().getFirst("Content-Type"))) {
            error(exchange, 415, UNSUPPORTED_MEDIA_TYPE);
            return;
        }
        String length = exchange.getRequestHeaders().getFirst("Content-Length");
        if (length != null) {
            long declared;
            try {
                declared = Long.parseLong(length.strip());
            } catch (NumberFormatException e) {
                error(exchange, 400, BAD_CONTENT_LENGTH);
                return;
            }
            if (declared > VendordataRequest.MAX_BODY_BYTES) {
                // Refused before a byte of the body is read. A body not much larger is read and dropped so that the
                // client, still sending it, gets the 413 rather than a reset connection; a huge one is not.
                if (declared <= MAX_DISCARD_BYTES) {
                    discard(exchange.getRequestBody(), declared);
                }
                error(exchange, 413, VendordataRequest.TOO_LARGE);
                return;
            }
        }
        byte[] body;
        InputStream in = exchange.getRequestBody();
        body = in.readNBytes(VendordataRequest.MAX_BODY_BYTES + 1);
        if (body.length > VendordataRequest.MAX_BODY_BYTES) {
            discard(in, MAX_DISCARD_BYTES);
            error(exchange, 413, VendordataRequest.TOO_LARGE);
            return;
        }
        VendordataRequest request;
        try {
            request = VendordataRequest.parse(body);
        } catch (VendordataRequestException e) {
            LOG.info("refused a signing request: {}", e.getMessage());
            error(exchange, 400, e.getMessage());
            return;
        }
        SignedIid signed;
        try {
            signed = signer.sign(request);
        } catch (HsmAuthenticationException e) {
            LOG.error("cannot sign an IID: the KeyManager refused its credentials: {}", e.getMessage());
            error(exchange, 503, SIGNING_UNAVAILABLE);
            return;
        } catch (KeyManagerException | SigningKeysException e) {
            LOG.warn("cannot sign an IID now: {}", e.getMessage());
            error(exchange, 503, SIGNING_UNAVAILABLE);
            return;
        }
        audit.accept(auditLine(signed, verdict.caller().orElseThrow()));
        exchange.getResponseHeaders().set("Cache-Control", "no-store");
        json(exchange, 200, Map.of(OpenStackIid.DATA_MEMBER, signed.jws()));
    }

    /** Reads and drops at most {@code limit} bytes: never kept, only so that the client can read our answer. */
    private static void discard(InputStream in, long limit) throws IOException {
        byte[] buffer = new byte[8192];
        long left = limit;
        int read;
        while (left > 0 && (read = in.read(buffer, 0, (int) Math.min(buffer.length, left))) >= 0) {
            left -= read;
        }
    }

    /** The audit line for one issued document: identifiers only, never the JWS. */
    static String auditLine(SignedIid signed, String caller) {
        return "IID issued: project_id=" + signed.claims().projectId() + " instance_id=" + signed.claims().instanceId()
                + " jti=" + signed.claims().jti() + " kid=" + signed.kid() + " exp=" + signed.claims().expiresAt()
                + " caller=[" + caller + "]";
    }

    private void jwks(HttpExchange exchange) throws IOException {
        String body;
        try {
            // toPublicJWKSet: the set holds public keys only, and this makes sure no private member is ever written.
            body = JSONObjectUtils.toJSONString(keys.publicKeys().toPublicJWKSet().toJSONObject(true));
        } catch (KeyManagerException | SigningKeysException e) {
            LOG.warn("cannot publish the JWK set: {}", e.getMessage());
            error(exchange, 503, SIGNING_UNAVAILABLE);
            return;
        }
        exchange.getResponseHeaders().set("Cache-Control", JWKS_CACHE_CONTROL);
        send(exchange, 200, "application/json", body);
    }

    /** Ready when the keys are loaded and the KeyManager can sign; the reason why not is logged, not sent. */
    private void ready(HttpExchange exchange) throws IOException {
        if (!keys.loaded()) {
            try {
                keys.rotateIfDue();
            } catch (KeyManagerException | SigningKeysException e) {
                LOG.warn("not ready: the signing keys cannot be loaded: {}", e.getMessage());
                text(exchange, 503, NOT_READY_KEYS + "\n");
                return;
            }
        }
        KeyManagerStatus status = keyManagerStatus.get();
        if (!status.isActive()) {
            LOG.warn("not ready: the KeyManager is {}: {}", status.state(), status.reason());
            text(exchange, 503, NOT_READY_KEY_MANAGER + "\n");
            return;
        }
        text(exchange, 200, "ready\n");
    }

    private static boolean readOnly(HttpExchange exchange, String method) throws IOException {
        if (method.equals("GET") || method.equals("HEAD")) {
            return true;
        }
        methodNotAllowed(exchange, "GET, HEAD");
        return false;
    }

    private static void methodNotAllowed(HttpExchange exchange, String allowed) throws IOException {
        exchange.getResponseHeaders().set("Allow", allowed);
        error(exchange, 405, METHOD_NOT_ALLOWED);
    }

    /** {@code application/json}, with or without parameters such as {@code charset=utf-8}. */
    static boolean isJson(String contentType) {
        if (contentType == null) {
            return false;
        }
        int semicolon = contentType.indexOf(';');
        String type = (semicolon < 0 ? contentType : contentType.substring(0, semicolon)).strip();
        return type.toLowerCase(Locale.ROOT).equals("application/json");
    }

    private static void error(HttpExchange exchange, int status, String message) throws IOException {
        exchange.getResponseHeaders().set("Cache-Control", "no-store");
        json(exchange, status, Map.of("error", message));
    }

    private static void json(HttpExchange exchange, int status, Map<String, ?> body) throws IOException {
        send(exchange, status, "application/json", JSONObjectUtils.toJSONString(body));
    }

    private static void text(HttpExchange exchange, int status, String body) throws IOException {
        exchange.getResponseHeaders().set("Cache-Control", "no-store");
        send(exchange, status, "text/plain; charset=utf-8", body);
    }

    private static void send(HttpExchange exchange, int status, String contentType, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", contentType);
        exchange.getResponseHeaders().set("X-Content-Type-Options", "nosniff");
        boolean head = exchange.getRequestMethod().equals("HEAD");
        exchange.sendResponseHeaders(status, head ? -1 : bytes.length);
        if (!head) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        }
    }

    @Override
    public String toString() {
        return "VendordataServer[port=" + port() + "]";
    }
}
