package dev.bourne.testing.openstack;

import com.nimbusds.jose.util.JSONObjectUtils;
import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;

/**
 * A fake of Keystone v3 and Nova's compute API in one HTTP server, for the server's optional Nova check: exactly the
 * calls it makes, with the real JSON layouts and status codes.
 *
 * <p><b>Keystone</b> at {@link #identityUrl()} ({@code <uri>/identity/v3}): {@code POST /auth/tokens} with
 * <ul>
 * <li>method {@code password}: user {@link #USER_NAME} in the domain named {@link #USER_DOMAIN_NAME} with
 *     {@link #PASSWORD}, scoped to project {@link #PROJECT_NAME} in the domain named {@link #PROJECT_DOMAIN_NAME}
 *     (without a scope: an unscoped token, without a catalog, as Keystone does);</li>
 * <li>method {@code application_credential}: {@link #APPLICATION_CREDENTIAL_ID} with
 *     {@link #APPLICATION_CREDENTIAL_SECRET} (scoped to {@link #PROJECT_NAME} by the credential itself).</li>
 * </ul>
 * Accepted: 201, the token in {@code X-Subject-Token}, and Keystone's body ({@code token}: {@code methods},
 * {@code user}, {@code audit_ids}, {@code expires_at}, {@code issued_at}, {@code project}, {@code is_domain},
 * {@code roles}, {@code catalog}). The catalog lists identity, image and compute services; compute has an endpoint
 * per region in {@link #REGIONS} and interface ({@code public}, {@code internal}, {@code admin}), each with its own
 * URL ({@link #computeUrl}) so a test can see which one a client chose. Refused credentials: 401 with Keystone's
 * error body; a malformed request: 400.
 *
 * <p><b>Nova</b> at each compute URL: {@code GET /servers/{id}} needs a valid {@code X-Auth-Token} (401 with
 * keystonemiddleware's body otherwise; 403 for an unscoped token) and answers microversion 2.1's
 * {@code {"server": {...}}} (id, name, status, tenant_id, user_id, metadata, image, flavor, hostId, created, updated,
 * addresses, links, the OS-EXT-* attributes) or 404 {@code {"itemNotFound": {...}}}.
 *
 * <p>Tokens expire at {@code issued_at} + {@link #tokenLifetime(Duration)} by the clock given to {@link #start(Clock)}
 * (a {@code MutableClock} lets a test pass expiry without waiting), or all at once by {@link #expireTokens()}.
 * Failure modes: {@link #failAuthWith}, {@link #failServersWith}, {@link #delay}, {@link #rawTokenBody},
 * {@link #rawServerBody}, {@link #down()}; counters: {@link #authCount()}, {@link #serverCallCount()}.
 *
 * <p>Listens on 127.0.0.1 with a free port, over plain HTTP or ({@link #startHttps}) HTTPS; {@link #close()} stops it.
 * Thread-safe.
 */
public final class FakeNova implements AutoCloseable {

    public static final String USER_NAME = "bourne-nova-check";
    public static final String USER_DOMAIN_NAME = "Default";
    public static final String PASSWORD = "fake-nova-password-3f9c";
    public static final String PROJECT_NAME = "service";
    public static final String PROJECT_DOMAIN_NAME = "Default";
    public static final String APPLICATION_CREDENTIAL_ID = "5d0e4a1c9e7f4b3aa3c2f1e0d9c8b7a6";
    public static final String APPLICATION_CREDENTIAL_SECRET = "fake-application-credential-secret-8e21";
    /** The regions of the compute endpoints, in catalog order. */
    public static final List<String> REGIONS = List.of("RegionOne", "RegionTwo");
    /** Keystone's interfaces, in catalog order. */
    public static final List<String> INTERFACES = List.of("public", "internal", "admin");
    /** The image every fake server was booted from. */
    public static final String IMAGE_ID = "70a599e0-31e7-49b7-b260-868f441e862b";
    public static final Duration DEFAULT_TOKEN_LIFETIME = Duration.ofHours(1);

    /** Keystone's message for refused credentials and keystonemiddleware's for a missing or invalid token. */
    public static final String UNAUTHORIZED_MESSAGE = "The request you have made requires authentication.";

    private static final String JSON = "application/json";
    private static final String IDENTITY_PREFIX = "/identity/v3";
    private static final String TOKENS_PATH = IDENTITY_PREFIX + "/auth/tokens";
    private static final String COMPUTE_PREFIX = "/compute/";
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final DateTimeFormatter KEYSTONE_TIME =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSS'Z'", Locale.ROOT).withZone(ZoneOffset.UTC);
    private static final DateTimeFormatter LAUNCHED_TIME =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSS", Locale.ROOT).withZone(ZoneOffset.UTC);
    private static final DateTimeFormatter NOVA_TIME =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss'Z'", Locale.ROOT).withZone(ZoneOffset.UTC);

    private final Clock clock;
    private final FakeHttp http;
    private final String userId = randomHex();
    private final String projectId = randomHex();
    private final Map<String, Server> servers = new ConcurrentHashMap<>();
    private final Map<String, IssuedToken> tokens = new ConcurrentHashMap<>();
    private final List<String> serverPaths = new CopyOnWriteArrayList<>();
    private final List<String> issuedTokens = new CopyOnWriteArrayList<>();
    private final AtomicInteger authCount = new AtomicInteger();
    private final AtomicInteger serverCallCount = new AtomicInteger();
    private volatile Duration tokenLifetime = DEFAULT_TOKEN_LIFETIME;
    private volatile int authFailure;
    private volatile int serverFailure;
    private volatile Duration delay = Duration.ZERO;
    private volatile String rawTokenBody;
    private volatile String rawServerBody;

    private FakeNova(Clock clock, Optional<SSLContext> tls) {
        this.clock = Objects.requireNonNull(clock, "clock");
        this.http = FakeHttp.start("fake-nova", this::handle, tls);
    }

    /** Keystone and Nova on the system clock. */
    public static FakeNova start() {
        return new FakeNova(Clock.systemUTC(), Optional.empty());
    }

    /** Keystone and Nova stamping and expiring tokens by {@code clock}. */
    public static FakeNova start(Clock clock) {
        return new FakeNova(clock, Optional.empty());
    }

    /**
     * Keystone and Nova over HTTPS with {@code tls} (its key and a certificate naming {@code localhost}), at
     * {@code https://localhost:<port>}.
     */
    public static FakeNova startHttps(Clock clock, SSLContext tls) {
        return new FakeNova(clock, Optional.of(tls));
    }

    /** {@code http://127.0.0.1:<port>}, or {@code https://localhost:<port>} when started with TLS. */
    public URI uri() {
        return http.uri();
    }

    /** Keystone's v3 base URL, {@code <uri>/identity/v3}: the Nova check's {@code identity_url}. */
    public URI identityUrl() {
        return URI.create(uri() + IDENTITY_PREFIX);
    }

    /** The catalog's compute endpoint for {@code region} and {@code endpointInterface}, ending {@code /v2.1}. */
    public URI computeUrl(String region, String endpointInterface) {
        if (!REGIONS.contains(region) || !INTERFACES.contains(endpointInterface)) {
            throw new IllegalArgumentException("no compute endpoint for " + region + "/" + endpointInterface);
        }
        return URI.create(uri() + COMPUTE_PREFIX + region + "/" + endpointInterface + "/v2.1");
    }

    /** The ID of project {@link #PROJECT_NAME}, which tokens are scoped to. */
    public String serviceProjectId() {
        return projectId;
    }

    /** Adds the server, or replaces the one with its ID. */
    public void putServer(Server server) {
        servers.put(server.id(), Objects.requireNonNull(server, "server"));
    }

    /** Removes the server {@code id}: Nova answers 404 for it from now on. */
    public void removeServer(String id) {
        servers.remove(id);
    }

    /** The server {@code id}, if Nova knows it. */
    public Optional<Server> server(String id) {
        return Optional.ofNullable(servers.get(id));
    }

    /** How long the tokens issued from now on live. */
    public void tokenLifetime(Duration lifetime) {
        if (lifetime.isNegative() || lifetime.isZero()) {
            throw new IllegalArgumentException("token lifetime must be positive");
        }
        this.tokenLifetime = lifetime;
    }

    /** Forgets every token issued: Nova answers 401 to each until the client authenticates again. */
    public void expireTokens() {
        tokens.clear();
    }

    /** Answers every token request with {@code status} and Keystone's error body, until {@link #healthy()}. */
    public void failAuthWith(int status) {
        this.authFailure = checkStatus(status);
    }

    /** Answers every server request with {@code status} and Nova's fault body, until {@link #healthy()}. */
    public void failServersWith(int status) {
        this.serverFailure = checkStatus(status);
    }

    /** Waits {@code delay} before answering each request, Keystone's and Nova's, until {@link #healthy()}. */
    public void delay(Duration delay) {
        if (delay.isNegative()) {
            throw new IllegalArgumentException("negative delay");
        }
        this.delay = delay;
    }

    /**
     * Answers accepted token requests with 201, a valid token in {@code X-Subject-Token} and {@code body} as it is
     * (a malformed token body, a catalog without compute, an oversized catalog), until {@link #healthy()}. Sent
     * without {@code Content-Length}.
     */
    public void rawTokenBody(String body) {
        this.rawTokenBody = Objects.requireNonNull(body, "body");
    }

    /**
     * Answers authenticated server requests with 200 and {@code body} as it is (malformed or oversized), until
     * {@link #healthy()}. Sent without {@code Content-Length}.
     */
    public void rawServerBody(String body) {
        this.rawServerBody = Objects.requireNonNull(body, "body");
    }

    /** Ends every failure mode and delay (not {@link #down()}). */
    public void healthy() {
        authFailure = 0;
        serverFailure = 0;
        delay = Duration.ZERO;
        rawTokenBody = null;
        rawServerBody = null;
    }

    /** Stops listening for good: Keystone and Nova become unreachable (connection refused). */
    public void down() {
        http.close();
    }

    /** Token requests received ({@code POST /auth/tokens}), refused ones included. */
    public int authCount() {
        return authCount.get();
    }

    /** Server requests received ({@code GET .../servers/{id}}), refused ones included. */
    public int serverCallCount() {
        return serverCallCount.get();
    }

    /** Every token issued so far, for tests asserting that no token appears in an error message or a log. */
    public List<String> issuedTokens() {
        return List.copyOf(issuedTokens);
    }

    /** The paths of the server requests received, in order: which compute endpoint a client used. */
    public List<String> serverRequestPaths() {
        return List.copyOf(serverPaths);
    }

    @Override
    public void close() {
        http.close();
    }

    private static int checkStatus(int status) {
        if (status < 400 || status > 599) {
            throw new IllegalArgumentException("not an HTTP error status: " + status);
        }
        return status;
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            if (!FakeHttp.pause(delay)) {
                FakeHttp.drop(exchange);
                return;
            }
            String path = exchange.getRequestURI().getRawPath();
            if (path.equals(TOKENS_PATH)) {
                authCount.incrementAndGet();
                if (!exchange.getRequestMethod().equals("POST")) {
                    methodNotAllowed(exchange, "POST");
                    return;
                }
                authenticate(exchange);
            } else if (path.startsWith(COMPUTE_PREFIX)) {
                compute(exchange, path);
            } else {
                FakeHttp.send(exchange, 404, "text/plain", "404 Not Found\n\nThe resource could not be found.\n\n");
            }
        }
    }

    // Keystone -------------------------------------------------------------------------------------------------

    private void authenticate(HttpExchange exchange) throws IOException {
        if (authFailure != 0) {
            keystoneError(exchange, authFailure, authFailure == 401 ? UNAUTHORIZED_MESSAGE
                    : "An unexpected error prevented the server from fulfilling your request.");
            return;
        }
        byte[] body = FakeHttp.body(exchange);
        if (body == null) {
            keystoneError(exchange, 413, "Request Entity Too Large");
            return;
        }
        Map<String, Object> json;
        try {
            json = JSONObjectUtils.parse(new String(body, StandardCharsets.UTF_8));
        } catch (ParseException e) {
            keystoneError(exchange, 400, "Expecting to find auth in request body.");
            return;
        }
        Map<?, ?> identity = path(json, "auth", "identity");
        if (identity == null || !(identity.get("methods") instanceof List<?> methods) || methods.size() != 1) {
            keystoneError(exchange, 400, "Expecting to find identity in auth.");
            return;
        }
        Object scope = path(json, "auth").get("scope");
        Object method = methods.get(0);
        Optional<Boolean> scoped;
        if ("password".equals(method)) {
            scoped = passwordAccepted(path(json, "auth", "identity", "password", "user"), scope);
        } else if ("application_credential".equals(method)) {
            scoped = applicationCredentialAccepted(path(json, "auth", "identity", "application_credential"), scope);
        } else {
            keystoneError(exchange, 401, UNAUTHORIZED_MESSAGE);
            return;
        }
        if (scoped.isEmpty()) {
            exchange.getResponseHeaders().set("WWW-Authenticate", "Keystone uri=\"" + uri() + "/identity\"");
            keystoneError(exchange, 401, UNAUTHORIZED_MESSAGE);
            return;
        }
        Instant issued = clock.instant().truncatedTo(ChronoUnit.MICROS);
        Instant expires = issued.plus(tokenLifetime);
        String token = newToken();
        tokens.put(token, new IssuedToken(expires, scoped.get()));
        issuedTokens.add(token);
        exchange.getResponseHeaders().set("X-Subject-Token", token);
        String raw = rawTokenBody;
        if (raw != null) {
            FakeHttp.sendChunked(exchange, 201, JSON, raw.getBytes(StandardCharsets.UTF_8));
            return;
        }
        FakeHttp.json(exchange, 201, Map.of("token", tokenBody((String) method, scoped.get(), issued, expires)));
    }

    /** Scoped (true) or unscoped (false) when the password credentials are ours; empty when refused. */
    private static Optional<Boolean> passwordAccepted(Map<?, ?> user, Object scope) {
        if (user == null || !USER_NAME.equals(user.get("name")) || !PASSWORD.equals(user.get("password"))
                || !(user.get("domain") instanceof Map<?, ?> domain) || !USER_DOMAIN_NAME.equals(domain.get("name"))) {
            return Optional.empty();
        }
        if (scope == null) {
            return Optional.of(false);
        }
        if (!(scope instanceof Map<?, ?> scopeMap) || !(scopeMap.get("project") instanceof Map<?, ?> project)
                || !PROJECT_NAME.equals(project.get("name")) || !(project.get("domain") instanceof Map<?, ?> pd)
                || !PROJECT_DOMAIN_NAME.equals(pd.get("name"))) {
            return Optional.empty();
        }
        return Optional.of(true);
    }

    /** Scoped when the application credential is ours and asks for no scope of its own; empty when refused. */
    private static Optional<Boolean> applicationCredentialAccepted(Map<?, ?> credential, Object scope) {
        if (credential == null || scope != null || !APPLICATION_CREDENTIAL_ID.equals(credential.get("id"))
                || !APPLICATION_CREDENTIAL_SECRET.equals(credential.get("secret"))) {
            return Optional.empty();
        }
        return Optional.of(true);
    }

    private Map<String, Object> tokenBody(String method, boolean scoped, Instant issued, Instant expires) {
        Map<String, Object> domain = Map.of("id", "default", "name", "Default");
        Map<String, Object> user = new LinkedHashMap<>();
        user.put("domain", domain);
        user.put("id", userId);
        user.put("name", USER_NAME);
        user.put("password_expires_at", null);
        Map<String, Object> token = new LinkedHashMap<>();
        token.put("methods", List.of(method));
        token.put("user", user);
        token.put("audit_ids", List.of(Base64.getUrlEncoder().withoutPadding().encodeToString(randomBytes(16))));
        token.put("expires_at", KEYSTONE_TIME.format(expires));
        token.put("issued_at", KEYSTONE_TIME.format(issued));
        if (scoped) {
            token.put("project", Map.of("domain", domain, "id", projectId, "name", PROJECT_NAME));
            token.put("is_domain", false);
            token.put("roles", List.of(Map.of("id", "8aaea39029464511b9a3b3fc30e59224", "name", "reader"),
                    Map.of("id", "fa454288e5a34b45b1286aa3a3cf90b6", "name", "admin")));
            token.put("catalog", catalog());
            if (method.equals("application_credential")) {
                token.put("application_credential", Map.of("id", APPLICATION_CREDENTIAL_ID, "name", "bourne",
                        "restricted", true));
            }
        }
        return token;
    }

    private List<Object> catalog() {
        List<Object> compute = new ArrayList<>();
        for (String region : REGIONS) {
            for (String endpointInterface : INTERFACES) {
                compute.add(endpoint(region, endpointInterface, computeUrl(region, endpointInterface).toString()));
            }
        }
        List<Object> identity = new ArrayList<>();
        List<Object> image = new ArrayList<>();
        for (String endpointInterface : INTERFACES) {
            identity.add(endpoint(REGIONS.get(0), endpointInterface, identityUrl().toString()));
            image.add(endpoint(REGIONS.get(0), endpointInterface, uri() + "/image"));
        }
        return List.of(service("identity", "keystone", identity), service("image", "glance", image),
                service("compute", "nova", compute));
    }

    private static Map<String, Object> service(String type, String name, List<Object> endpoints) {
        Map<String, Object> service = new LinkedHashMap<>();
        service.put("endpoints", endpoints);
        service.put("id", randomHex());
        service.put("type", type);
        service.put("name", name);
        return service;
    }

    private static Map<String, Object> endpoint(String region, String endpointInterface, String url) {
        Map<String, Object> endpoint = new LinkedHashMap<>();
        endpoint.put("id", randomHex());
        endpoint.put("interface", endpointInterface);
        endpoint.put("region_id", region);
        endpoint.put("url", url);
        endpoint.put("region", region);
        return endpoint;
    }

    private static void keystoneError(HttpExchange exchange, int status, String message) throws IOException {
        FakeHttp.json(exchange, status, Map.of("error", Map.of("code", status, "message", message, "title",
                title(status))));
    }

    private static String title(int status) {
        return switch (status) {
            case 400 -> "Bad Request";
            case 401 -> "Unauthorized";
            case 403 -> "Forbidden";
            case 404 -> "Not Found";
            case 413 -> "Request Entity Too Large";
            case 503 -> "Service Unavailable";
            default -> "Internal Server Error";
        };
    }

    // Nova -----------------------------------------------------------------------------------------------------

    private void compute(HttpExchange exchange, String path) throws IOException {
        // /compute/<region>/<interface>/v2.1/servers/<id>
        String[] parts = path.substring(COMPUTE_PREFIX.length()).split("/", -1);
        if (parts.length != 5 || !REGIONS.contains(parts[0]) || !INTERFACES.contains(parts[1])
                || !parts[2].equals("v2.1") || !parts[3].equals("servers") || parts[4].isEmpty()) {
            novaFault(exchange, 404, "itemNotFound", "The resource could not be found.");
            return;
        }
        serverCallCount.incrementAndGet();
        serverPaths.add(path);
        if (!exchange.getRequestMethod().equals("GET")) {
            methodNotAllowed(exchange, "GET");
            return;
        }
        IssuedToken token = Optional.ofNullable(exchange.getRequestHeaders().getFirst("X-Auth-Token"))
                .map(tokens::get).orElse(null);
        if (token == null || !clock.instant().isBefore(token.expiresAt())) {
            exchange.getResponseHeaders().set("WWW-Authenticate", "Keystone uri=\"" + uri() + "/identity\"");
            FakeHttp.json(exchange, 401, Map.of("error", Map.of("code", 401, "title", "Unauthorized", "message",
                    UNAUTHORIZED_MESSAGE)));
            return;
        }
        if (!token.scoped()) {
            novaFault(exchange, 403, "forbidden", "Policy doesn't allow os_compute_api:servers:show to be performed.");
            return;
        }
        if (serverFailure != 0) {
            novaFault(exchange, serverFailure, serverFailure == 503 ? "serviceUnavailable" : "computeFault",
                    "Unexpected API Error. Please report this at http://bugs.launchpad.net/nova/ and attach the "
                            + "Nova API log if possible.");
            return;
        }
        String raw = rawServerBody;
        if (raw != null) {
            FakeHttp.sendChunked(exchange, 200, JSON, raw.getBytes(StandardCharsets.UTF_8));
            return;
        }
        String id = parts[4];
        Server server = servers.get(id);
        if (server == null) {
            novaFault(exchange, 404, "itemNotFound", "Instance " + id + " could not be found.");
            return;
        }
        exchange.getResponseHeaders().set("OpenStack-API-Version", "compute 2.1");
        exchange.getResponseHeaders().set("X-OpenStack-Nova-API-Version", "2.1");
        FakeHttp.json(exchange, 200, Map.of("server", serverBody(server, parts[0], parts[1])));
    }

    private Map<String, Object> serverBody(Server server, String region, String endpointInterface) {
        String base = computeUrl(region, endpointInterface).toString();
        Instant created = server.created();
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("accessIPv4", "");
        body.put("accessIPv6", "");
        body.put("addresses", Map.of("private", List.of(Map.of("addr", "10.0.0.5", "version", 4,
                "OS-EXT-IPS:type", "fixed", "OS-EXT-IPS-MAC:mac_addr", "fa:16:3e:4c:2c:30"))));
        body.put("created", NOVA_TIME.format(created));
        body.put("flavor", Map.of("id", "1", "links", List.of(Map.of("href", base + "/flavors/1", "rel",
                "bookmark"))));
        body.put("hostId", sha224Hex(server.projectId() + "compute-1"));
        body.put("id", server.id());
        body.put("image", Map.of("id", IMAGE_ID, "links", List.of(Map.of("href", base + "/images/" + IMAGE_ID,
                "rel", "bookmark"))));
        body.put("key_name", null);
        body.put("links", List.of(Map.of("href", base + "/servers/" + server.id(), "rel", "self"),
                Map.of("href", base + "/servers/" + server.id(), "rel", "bookmark")));
        body.put("metadata", server.metadata());
        body.put("name", server.name());
        body.put("config_drive", "");
        body.put("OS-DCF:diskConfig", "MANUAL");
        body.put("OS-EXT-AZ:availability_zone", "nova");
        body.put("OS-EXT-SRV-ATTR:host", "compute-1");
        body.put("OS-EXT-SRV-ATTR:hypervisor_hostname", "compute-1.example.org");
        body.put("OS-EXT-SRV-ATTR:instance_name", "instance-00000001");
        body.put("OS-EXT-STS:power_state", server.status().equals("ACTIVE") ? 1 : 4);
        body.put("OS-EXT-STS:task_state", null);
        body.put("OS-EXT-STS:vm_state", vmState(server.status()));
        body.put("os-extended-volumes:volumes_attached", List.of());
        body.put("OS-SRV-USG:launched_at", LAUNCHED_TIME.format(created));
        body.put("OS-SRV-USG:terminated_at", null);
        body.put("progress", 0);
        body.put("security_groups", List.of(Map.of("name", "default")));
        body.put("status", server.status());
        body.put("tenant_id", server.projectId());
        body.put("updated", NOVA_TIME.format(created));
        body.put("user_id", userId);
        return body;
    }

    /** Nova's {@code OS-EXT-STS:vm_state} for a {@code status} (nova/api/openstack/common.py's mapping, reversed). */
    private static String vmState(String status) {
        return switch (status) {
            case "ACTIVE" -> "active";
            case "BUILD" -> "building";
            case "SHUTOFF" -> "stopped";
            case "PAUSED" -> "paused";
            case "SUSPENDED" -> "suspended";
            case "SHELVED_OFFLOADED" -> "shelved_offloaded";
            case "DELETED" -> "deleted";
            case "SOFT_DELETED" -> "soft-delete";
            default -> status.toLowerCase(Locale.ROOT);
        };
    }

    private static void novaFault(HttpExchange exchange, int status, String name, String message)
            throws IOException {
        FakeHttp.json(exchange, status, Map.of(name, Map.of("code", status, "message", message)));
    }

    private static void methodNotAllowed(HttpExchange exchange, String allow) throws IOException {
        exchange.getResponseHeaders().set("Allow", allow);
        FakeHttp.send(exchange, 405, "text/plain", "405 Method Not Allowed\n\n");
    }

    // helpers --------------------------------------------------------------------------------------------------

    private static Map<?, ?> path(Map<?, ?> json, String... keys) {
        Object current = json;
        for (String key : keys) {
            if (!(current instanceof Map<?, ?> map)) {
                return null;
            }
            current = map.get(key);
        }
        return current instanceof Map<?, ?> map ? map : null;
    }

    /** A Fernet-like opaque token: {@code gAAAAA} then base64url, about as long as Keystone's. */
    private static String newToken() {
        return "gAAAAA" + Base64.getUrlEncoder().withoutPadding().encodeToString(randomBytes(128));
    }

    private static byte[] randomBytes(int length) {
        byte[] bytes = new byte[length];
        RANDOM.nextBytes(bytes);
        return bytes;
    }

    private static String randomHex() {
        return HexFormat.of().formatHex(randomBytes(16));
    }

    private static String sha224Hex(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-224")
                    .digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-224 is a required JDK algorithm", e);
        }
    }

    private record IssuedToken(Instant expiresAt, boolean scoped) {
    }

    /**
     * One instance as Nova stores it.
     *
     * @param id the instance UUID
     * @param status Nova's {@code status}: {@code ACTIVE}, {@code BUILD}, {@code SHUTOFF}, {@code ERROR}, ...
     * @param projectId the owning project, answered as {@code tenant_id}
     * @param name the display name
     * @param metadata the user metadata
     * @param created when it was created ({@code created}, {@code updated}, {@code OS-SRV-USG:launched_at})
     */
    public record Server(String id, String status, String projectId, String name, Map<String, String> metadata,
            Instant created) {
        public Server {
            Objects.requireNonNull(id, "id");
            Objects.requireNonNull(status, "status");
            Objects.requireNonNull(projectId, "projectId");
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(created, "created");
            metadata = Collections.unmodifiableMap(new TreeMap<>(metadata));
        }

        /** An {@code ACTIVE} server named {@code bourne-test} without metadata. */
        public static Server active(String id, String projectId) {
            return new Server(id, "ACTIVE", projectId, "bourne-test", Map.of(),
                    Instant.parse("2026-03-01T10:00:00Z"));
        }

        /** A copy with another status. */
        public Server withStatus(String status) {
            return new Server(id, status, projectId, name, metadata, created);
        }

        /** A copy owned by another project. */
        public Server withProjectId(String projectId) {
            return new Server(id, status, projectId, name, metadata, created);
        }
    }
}
