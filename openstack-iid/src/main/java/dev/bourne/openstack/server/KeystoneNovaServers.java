package dev.bourne.openstack.server;

import com.nimbusds.jose.util.JSONObjectUtils;
import dev.bourne.openstack.internal.BoundedHttp;
import dev.bourne.openstack.internal.BoundedHttp.BodyTooLargeException;
import dev.bourne.openstack.internal.JsonObjects;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManagerFactory;

/**
 * Nova's view of instances through Keystone v3 and the compute API: the production {@link NovaServers}.
 *
 * <p>It authenticates ({@code POST /v3/auth/tokens}, password scoped to a project or an application credential) on
 * first use and keeps the token until its {@code expires_at} minus {@link #TOKEN_REFRESH_MARGIN}, so that a busy
 * server authenticates about once an hour rather than once per attestation. The compute endpoint comes from the
 * token's catalog (type {@code compute}, the configured interface, the configured region or else the first), unless
 * {@code compute_url} overrides it. {@code GET {compute}/servers/{id}} then answers: 200 is the instance, 404 is no
 * such instance, 401 (a token Keystone revoked or expired early) makes it authenticate once more and retry once.
 *
 * <p>It fails closed: anything else (unreachable, timeout, another status, an oversized or malformed answer) is a
 * {@link NovaUnavailableException} naming what failed. Those messages never contain the token or the password:
 * they are built from constants, URLs and status codes only. Each exchange is bounded by the settings' timeout, body
 * included, and by a size limit ({@link #MAX_TOKEN_BYTES} for Keystone's answer with its catalog,
 * {@link #MAX_SERVER_BYTES} for Nova's). Redirects are not followed (the token must go nowhere else), HTTP/1.1 only,
 * TLS trusting the settings' {@code caFile} when set, else the system's CAs.
 *
 * <p>Thread-safe: one token is shared, and one thread at a time authenticates.
 */
public final class KeystoneNovaServers implements NovaServers {

    /** Largest Keystone token answer read: a big cloud's catalog runs to tens of KiB. */
    public static final int MAX_TOKEN_BYTES = 1024 * 1024;
    /** Largest Nova server answer read: Nova's own limits (128 metadata items, addresses) fit in far less. */
    public static final int MAX_SERVER_BYTES = 256 * 1024;
    /** A token is renewed this long before Keystone's {@code expires_at}, so it never expires between check and use. */
    public static final Duration TOKEN_REFRESH_MARGIN = Duration.ofMinutes(1);
    /** Largest {@code caFile} read. */
    public static final int MAX_CA_FILE_BYTES = 1024 * 1024;
    /** Longest {@code X-Subject-Token} accepted (Fernet tokens are about 200 characters, PKI ones a few KiB). */
    public static final int MAX_TOKEN_CHARS = 16 * 1024;

    public static final String INSTANCE_ID_INVALID = "the instance ID is not a UUID";
    /** {@code %s}: the CA file, then why. */
    public static final String CA_FILE_UNREADABLE = "CA file %s cannot be read: %s";
    public static final String CA_FILE_TOO_LARGE = "CA file %s is larger than " + MAX_CA_FILE_BYTES + " bytes";
    public static final String CA_FILE_NO_CERTIFICATE = "CA file %s holds no PEM certificate";
    /** {@code %s}: the Keystone URL, then why. */
    public static final String KEYSTONE_UNREACHABLE = "Keystone at %s cannot be reached: %s";
    /** {@code %s}: the Keystone URL, then why (an untrusted certificate, a wrong name). */
    public static final String KEYSTONE_TLS = "Keystone at %s failed the TLS handshake: %s";
    /** {@code %s}: the Keystone URL, then the timeout. */
    public static final String KEYSTONE_TIMEOUT = "Keystone at %s did not answer within %s";
    public static final String KEYSTONE_REFUSED =
            "Keystone refused the credentials (HTTP 401): check the user, project or application credential";
    /** {@code %d}: the status. */
    public static final String KEYSTONE_STATUS = "Keystone answered HTTP %d to the token request";
    public static final String KEYSTONE_TOO_LARGE = "Keystone's token answer is larger than " + MAX_TOKEN_BYTES
            + " bytes";
    /** {@code %s}: one of the {@code TOKEN_*} reasons. */
    public static final String KEYSTONE_MALFORMED = "Keystone's token answer is malformed: %s";
    public static final String TOKEN_NO_SUBJECT_TOKEN = "no usable X-Subject-Token header";
    public static final String TOKEN_NOT_JSON = "the body is not a JSON object";
    public static final String TOKEN_NO_TOKEN = "no token object";
    public static final String TOKEN_NO_EXPIRY = "no expires_at time";
    public static final String TOKEN_EXPIRED = "the token has already expired";
    public static final String TOKEN_NO_CATALOG = "no catalog list (is the token scoped to a project?)";
    public static final String TOKEN_BAD_COMPUTE_URL = "the catalog's compute URL is not an absolute http(s) URL";
    /** {@code %s}: the interface, then {@code " in region <r>"} or nothing. */
    public static final String NO_COMPUTE_ENDPOINT = "the token's catalog has no compute endpoint with interface %s%s";
    /** {@code %s}: the compute URL, then why. */
    public static final String NOVA_UNREACHABLE = "Nova at %s cannot be reached: %s";
    /** {@code %s}: the compute URL, then why. */
    public static final String NOVA_TLS = "Nova at %s failed the TLS handshake: %s";
    /** {@code %s}: the compute URL, then the timeout. */
    public static final String NOVA_TIMEOUT = "Nova at %s did not answer within %s";
    /** {@code %d}: the status. */
    public static final String NOVA_STATUS = "Nova answered HTTP %d for the instance";
    public static final String NOVA_REFUSED_TOKEN = "Nova refused a fresh token (HTTP 401)";
    public static final String NOVA_TOO_LARGE = "Nova's answer for the instance is larger than " + MAX_SERVER_BYTES
            + " bytes";
    /** {@code %s}: one of the {@code SERVER_*} reasons. */
    public static final String NOVA_MALFORMED = "Nova's answer for the instance is malformed: %s";
    public static final String SERVER_NOT_JSON = "the body is not a JSON object";
    public static final String SERVER_NO_SERVER = "no server object";
    /** {@code %s}: the field. */
    public static final String SERVER_NO_FIELD = "no %s string";
    public static final String SERVER_OTHER_INSTANCE = "it describes another instance";
    /** {@code %s}: Keystone or Nova. */
    public static final String INTERRUPTED = "interrupted while asking %s";

    private static final Pattern UUID = Pattern.compile(
            "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");
    private static final Pattern TOKEN_CHARS = Pattern.compile("[\\x21-\\x7e]+");

    private final NovaSettings settings;
    private final Clock clock;
    private final HttpClient client;
    private final URI tokensUrl;
    private final Object authLock = new Object();
    private volatile Session session;

    /**
     * A client for {@code settings}; nothing is sent until the first {@link #find}.
     *
     * @throws IllegalArgumentException when {@code settings.caFile()} cannot be read or holds no certificate (the
     *     message names the file and why)
     */
    public KeystoneNovaServers(NovaSettings settings, Clock clock) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.clock = Objects.requireNonNull(clock, "clock");
        HttpClient.Builder builder = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(settings.timeout()).followRedirects(HttpClient.Redirect.NEVER);
        settings.caFile().ifPresent(file -> builder.sslContext(trusting(file)));
        this.client = builder.build();
        this.tokensUrl = URI.create(withoutTrailingSlash(settings.identityUrl().toString()) + "/auth/tokens");
    }

    @Override
    public Optional<NovaServer> find(String instanceId) throws NovaUnavailableException {
        Objects.requireNonNull(instanceId, "instanceId");
        // The ID goes into the URL path: only a UUID may, so nothing can add a segment, a query or a fragment.
        if (!UUID.matcher(instanceId).matches()) {
            throw new IllegalArgumentException(INSTANCE_ID_INVALID);
        }
        Session used = session();
        ServerAnswer answer = show(used, instanceId);
        if (answer.unauthorized()) {
            // Keystone may revoke or expire a token before its expires_at: authenticate once more, then give up.
            invalidate(used);
            answer = show(session(), instanceId);
            if (answer.unauthorized()) {
                throw new NovaUnavailableException(NOVA_REFUSED_TOKEN);
            }
        }
        return answer.server();
    }

    // Keystone -------------------------------------------------------------------------------------------------

    private Session session() throws NovaUnavailableException {
        Session current = session;
        if (current != null && clock.instant().isBefore(current.refreshAt())) {
            return current;
        }
        synchronized (authLock) {
            current = session;
            if (current != null && clock.instant().isBefore(current.refreshAt())) {
                return current;
            }
            Session fresh = authenticate();
            session = fresh;
            return fresh;
        }
    }

    private void invalidate(Session used) {
        synchronized (authLock) {
            if (session == used) {
                session = null;
            }
        }
    }

    private Session authenticate() throws NovaUnavailableException {
        HttpRequest request = HttpRequest.newBuilder(tokensUrl).timeout(settings.timeout())
                .header("Content-Type", "application/json").header("Accept", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(JSONObjectUtils.toJSONString(authRequest()))).build();
        HttpResponse<byte[]> response;
        try {
            response = BoundedHttp.send(client, request, MAX_TOKEN_BYTES, settings.timeout());
        } catch (BodyTooLargeException e) {
            throw new NovaUnavailableException(KEYSTONE_TOO_LARGE, e);
        } catch (HttpTimeoutException e) {
            throw new NovaUnavailableException(String.format(KEYSTONE_TIMEOUT, tokensUrl,
                    BoundedHttp.describe(settings.timeout())), e);
        } catch (IOException e) {
            throw new NovaUnavailableException(String.format(tls(e) ? KEYSTONE_TLS : KEYSTONE_UNREACHABLE, tokensUrl,
                    BoundedHttp.describe(e)), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new NovaUnavailableException(String.format(INTERRUPTED, "Keystone"), e);
        }
        if (response.statusCode() == 401) {
            throw new NovaUnavailableException(KEYSTONE_REFUSED);
        }
        if (response.statusCode() != 201) {
            throw new NovaUnavailableException(String.format(KEYSTONE_STATUS, response.statusCode()));
        }
        Optional<String> token = response.headers().firstValue("X-Subject-Token")
                .filter(value -> value.length() <= MAX_TOKEN_CHARS && TOKEN_CHARS.matcher(value).matches());
        if (token.isEmpty()) {
            throw malformedToken(TOKEN_NO_SUBJECT_TOKEN);
        }
        Map<String, Object> body = JsonObjects.parse(response.body())
                .orElseThrow(() -> malformedToken(TOKEN_NOT_JSON));
        if (!(body.get("token") instanceof Map<?, ?> tokenBody)) {
            throw malformedToken(TOKEN_NO_TOKEN);
        }
        Instant expiresAt = instant(tokenBody.get("expires_at")).orElseThrow(() -> malformedToken(TOKEN_NO_EXPIRY));
        if (!clock.instant().isBefore(expiresAt)) {
            throw malformedToken(TOKEN_EXPIRED);
        }
        URI compute = settings.computeUrl().isPresent() ? settings.computeUrl().get() : computeEndpoint(tokenBody);
        return new Session(token.get(), compute, expiresAt.minus(TOKEN_REFRESH_MARGIN));
    }

    private Map<String, Object> authRequest() {
        Map<String, Object> identity = new LinkedHashMap<>();
        Map<String, Object> auth = new LinkedHashMap<>();
        if (settings.auth() instanceof NovaSettings.PasswordAuth password) {
            identity.put("methods", List.of("password"));
            identity.put("password", Map.of("user", Map.of("name", password.username(), "domain",
                    Map.of("name", password.userDomain()), "password", password.password().reveal())));
            auth.put("identity", identity);
            auth.put("scope", Map.of("project", Map.of("name", password.project(), "domain",
                    Map.of("name", password.projectDomain()))));
        } else if (settings.auth() instanceof NovaSettings.ApplicationCredentialAuth credential) {
            identity.put("methods", List.of("application_credential"));
            identity.put("application_credential", Map.of("id", credential.id(), "secret",
                    credential.secret().reveal()));
            auth.put("identity", identity);
        }
        return Map.of("auth", auth);
    }

    /** The compute endpoint of the configured interface (and region) in the token's catalog. */
    private URI computeEndpoint(Map<?, ?> token) throws NovaUnavailableException {
        if (!(token.get("catalog") instanceof List<?> catalog)) {
            throw malformedToken(TOKEN_NO_CATALOG);
        }
        for (Object service : catalog) {
            if (!(service instanceof Map<?, ?> entry) || !"compute".equals(entry.get("type"))
                    || !(entry.get("endpoints") instanceof List<?> endpoints)) {
                continue;
            }
            for (Object candidate : endpoints) {
                if (candidate instanceof Map<?, ?> endpoint
                        && settings.endpointInterface().equals(endpoint.get("interface"))
                        && settings.region().map(region -> region.equals(endpoint.get("region_id"))
                                || region.equals(endpoint.get("region"))).orElse(true)) {
                    return httpUrl(endpoint.get("url")).orElseThrow(() -> malformedToken(TOKEN_BAD_COMPUTE_URL));
                }
            }
        }
        throw new NovaUnavailableException(String.format(NO_COMPUTE_ENDPOINT, settings.endpointInterface(),
                settings.region().map(region -> " in region " + region).orElse("")));
    }

    private static NovaUnavailableException malformedToken(String reason) {
        return new NovaUnavailableException(String.format(KEYSTONE_MALFORMED, reason));
    }

    // Nova -----------------------------------------------------------------------------------------------------

    private ServerAnswer show(Session session, String instanceId) throws NovaUnavailableException {
        URI url = URI.create(withoutTrailingSlash(session.compute().toString()) + "/servers/" + instanceId);
        HttpRequest request = HttpRequest.newBuilder(url).timeout(settings.timeout())
                .header("X-Auth-Token", session.token()).header("Accept", "application/json").GET().build();
        HttpResponse<byte[]> response;
        try {
            response = BoundedHttp.send(client, request, MAX_SERVER_BYTES, settings.timeout());
        } catch (BodyTooLargeException e) {
            throw new NovaUnavailableException(NOVA_TOO_LARGE, e);
        } catch (HttpTimeoutException e) {
            throw new NovaUnavailableException(String.format(NOVA_TIMEOUT, session.compute(),
                    BoundedHttp.describe(settings.timeout())), e);
        } catch (IOException e) {
            throw new NovaUnavailableException(String.format(tls(e) ? NOVA_TLS : NOVA_UNREACHABLE, session.compute(),
                    BoundedHttp.describe(e)), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new NovaUnavailableException(String.format(INTERRUPTED, "Nova"), e);
        }
        return switch (response.statusCode()) {
            case 200 -> new ServerAnswer(false, Optional.of(server(response.body(), instanceId)));
            case 404 -> new ServerAnswer(false, Optional.empty());
            case 401 -> new ServerAnswer(true, Optional.empty());
            default -> throw new NovaUnavailableException(String.format(NOVA_STATUS, response.statusCode()));
        };
    }

    private static NovaServer server(byte[] body, String instanceId) throws NovaUnavailableException {
        Map<String, Object> json = JsonObjects.parse(body).orElseThrow(() -> malformedServer(SERVER_NOT_JSON));
        if (!(json.get("server") instanceof Map<?, ?> server)) {
            throw malformedServer(SERVER_NO_SERVER);
        }
        String id = string(server, "id");
        String status = string(server, "status");
        String projectId = string(server, "tenant_id");
        if (!id.equalsIgnoreCase(instanceId)) {
            throw malformedServer(SERVER_OTHER_INSTANCE);
        }
        return new NovaServer(id, status, projectId);
    }

    private static String string(Map<?, ?> server, String field) throws NovaUnavailableException {
        if (!(server.get(field) instanceof String value) || value.isEmpty()) {
            throw malformedServer(String.format(SERVER_NO_FIELD, field));
        }
        return value;
    }

    private static NovaUnavailableException malformedServer(String reason) {
        return new NovaUnavailableException(String.format(NOVA_MALFORMED, reason));
    }

    // helpers --------------------------------------------------------------------------------------------------

    private static Optional<Instant> instant(Object value) {
        if (!(value instanceof String text)) {
            return Optional.empty();
        }
        try {
            return Optional.of(Instant.parse(text));
        } catch (DateTimeParseException e) {
            try {
                return Optional.of(OffsetDateTime.parse(text).toInstant());
            } catch (DateTimeParseException again) {
                return Optional.empty();
            }
        }
    }

    private static Optional<URI> httpUrl(Object value) {
        if (!(value instanceof String text)) {
            return Optional.empty();
        }
        try {
            URI uri = new URI(text);
            String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            if (!(scheme.equals("http") || scheme.equals("https")) || uri.getHost() == null
                    || uri.getRawQuery() != null || uri.getRawFragment() != null) {
                return Optional.empty();
            }
            return Optional.of(uri);
        } catch (URISyntaxException e) {
            return Optional.empty();
        }
    }

    private static boolean tls(Throwable failure) {
        for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
            if (cause instanceof SSLException) {
                return true;
            }
        }
        return false;
    }

    private static String withoutTrailingSlash(String url) {
        String result = url;
        while (result.endsWith("/")) {
            result = result.substring(0, result.length() - 1);
        }
        return result;
    }

    /** An SSL context trusting exactly the PEM certificates in {@code file}. */
    private static SSLContext trusting(Path file) {
        byte[] pem;
        try (InputStream in = Files.newInputStream(file)) {
            pem = in.readNBytes(MAX_CA_FILE_BYTES + 1);
        } catch (IOException e) {
            throw new IllegalArgumentException(String.format(CA_FILE_UNREADABLE, file, BoundedHttp.describe(e)), e);
        }
        if (pem.length > MAX_CA_FILE_BYTES) {
            throw new IllegalArgumentException(String.format(CA_FILE_TOO_LARGE, file));
        }
        Collection<? extends Certificate> certificates;
        try {
            certificates = CertificateFactory.getInstance("X.509").generateCertificates(new ByteArrayInputStream(pem));
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException(String.format(CA_FILE_NO_CERTIFICATE, file), e);
        }
        if (certificates.isEmpty()) {
            throw new IllegalArgumentException(String.format(CA_FILE_NO_CERTIFICATE, file));
        }
        try {
            KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
            trust.load(null, null);
            List<Certificate> list = new ArrayList<>(certificates);
            for (int i = 0; i < list.size(); i++) {
                trust.setCertificateEntry("ca-" + i, list.get(i));
            }
            TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            factory.init(trust);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, factory.getTrustManagers(), null);
            return context;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalArgumentException(String.format(CA_FILE_UNREADABLE, file, BoundedHttp.describe(e)), e);
        }
    }

    @Override
    public String toString() {
        return "KeystoneNovaServers[" + settings.identityUrl() + "]";
    }

    /** What Nova said about one instance, or that it refused the token. */
    private record ServerAnswer(boolean unauthorized, Optional<NovaServer> server) {
    }

    /**
     * A token and where to use it. A class, not a record, so the token cannot reach a log through {@code toString}.
     */
    private static final class Session {
        private final String token;
        private final URI compute;
        private final Instant refreshAt;

        Session(String token, URI compute, Instant refreshAt) {
            this.token = token;
            this.compute = compute;
            this.refreshAt = refreshAt;
        }

        String token() {
            return token;
        }

        URI compute() {
            return compute;
        }

        Instant refreshAt() {
            return refreshAt;
        }

        @Override
        public String toString() {
            return "Session[compute=" + compute + ", refreshAt=" + refreshAt + ", token=[redacted]]";
        }
    }
}
