package dev.bourne.openstack.server;

import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.KeyOperation;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.util.JSONObjectUtils;
import dev.bourne.core.config.ConfigError;
import dev.bourne.core.config.ConfigResult;
import dev.bourne.core.config.PluginConfig;
import dev.bourne.openstack.internal.BoundedHttp;
import dev.bourne.openstack.server.OpenStackServerSettings.JwksFile;
import dev.bourne.openstack.server.OpenStackServerSettings.JwksUrl;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The signing service's public keys, as a JWK set (RFC 7517) read from a file or an https URL the operator configured:
 * never from the node, never from a header of the document ({@code jku}, {@code jwk}, {@code x5u} are ignored).
 *
 * <p>Keys are cached and read again every {@code jwks_refresh}, so rotated keys appear and retired keys go; a
 * document whose {@code kid} is not cached triggers one read at once (the signing service publishes a new key before
 * it signs with it), but at most one read per {@code jwks_min_refresh}, so a flood of documents with made-up
 * {@code kid}s cannot turn the server into a load generator against the signing service. When a read fails the last
 * good keys stay in use (with a warning in the log): a signing service that is down for a while must not stop
 * attestation; only when no key was ever loaded does {@link #find} fail (closed).
 *
 * <p>A set is bounded ({@value #MAX_BYTES} bytes, {@value #MAX_KEYS} keys) and checked: a key with private or secret
 * material makes the whole set an error (whoever published it has leaked a signing key, and accepting the rest would
 * hide that); keys with a {@code use} other than {@code sig}, {@code key_ops} without {@code verify}, an {@code alg}
 * outside the allowlist, no {@code kid}, a curve other than P-256, P-384 and P-521, or an RSA modulus under 2048 bits
 * are skipped. Two usable keys with one {@code kid} make the set an error.
 *
 * <p>Thread-safe: lookups read one immutable snapshot through a volatile field; reads of the source happen under a
 * lock, so concurrent attestations that need new keys cause one read and all see its result. A lookup whose kid is
 * cached never waits for a periodic refresh another thread is doing: it uses the cached keys. Reads happen on the
 * attestation thread that needs them, bounded by {@link #FETCH_TIMEOUT}.
 */
public final class JwksSource {

    private static final Logger LOG = LoggerFactory.getLogger(JwksSource.class);

    /** Largest JWK set read: 32 RSA-4096 keys with certificates fit in well under this. */
    public static final int MAX_BYTES = 64 * 1024;
    /** Most keys in a set: two slots per signing service, a few services, room for rotation. */
    public static final int MAX_KEYS = 32;
    /** The longest one fetch of a JWK set URL may take, connection to last byte. */
    public static final Duration FETCH_TIMEOUT = Duration.ofSeconds(10);
    /** Largest CA file read for {@code jwks_ca_file}. */
    public static final int MAX_CA_FILE_BYTES = 1024 * 1024;

    public static final String SET_TOO_LARGE = "the JWK set is larger than " + MAX_BYTES + " bytes";
    public static final String SET_NOT_JSON = "the JWK set is not a UTF-8 JSON object";
    public static final String SET_NO_KEYS = "the JWK set has no \"keys\" array";
    public static final String SET_TOO_MANY_KEYS = "the JWK set has more than " + MAX_KEYS + " keys";
    /** {@code %d} is the key's index in the set. */
    public static final String KEY_NOT_OBJECT = "key %d of the JWK set is not a JSON object";
    public static final String KEY_PRIVATE = "key %d of the JWK set holds private or secret key material; a JWK set "
            + "must publish public keys only";
    public static final String KEY_DUPLICATE_KID = "key %d of the JWK set has the same kid as an earlier key";
    public static final String CA_FILE_NO_CERTIFICATE = "holds no PEM certificate";
    public static final String CA_FILE_TOO_LARGE = "is larger than " + MAX_CA_FILE_BYTES + " bytes";
    public static final String URL_UNREACHABLE_WARNING = "cannot be fetched now (%s); OpenStack attestation fails "
            + "until it can";

    /** JWK members that only a private or secret key has (RFC 7518 section 6). */
    private static final Set<String> PRIVATE_MEMBERS = Set.of("d", "p", "q", "dp", "dq", "qi", "oth", "k");
    private static final Set<Curve> CURVES = Set.of(Curve.P_256, Curve.P_384, Curve.P_521);

    private final Reader reader;
    private final Set<IidSignatureAlgorithm> algorithms;
    private final Duration refresh;
    private final Duration minRefresh;
    private final Clock clock;
    private final ReentrantLock lock = new ReentrantLock();
    /** The last keys read successfully, or null before the first; replaced whole, never changed. */
    private volatile Snapshot snapshot;
    /** When a read was last tried, successful or not; guarded by {@link #lock}. */
    private Instant lastAttempt;
    /** Why the last read failed, for {@link KeysUnavailableException}. */
    private volatile String lastFailure = "not read yet";

    private JwksSource(Reader reader, Set<IidSignatureAlgorithm> algorithms, Duration refresh, Duration minRefresh,
            Clock clock) {
        this.reader = reader;
        this.algorithms = Collections.unmodifiableSet(EnumSet.copyOf(algorithms));
        this.refresh = Objects.requireNonNull(refresh, "refresh");
        this.minRefresh = Objects.requireNonNull(minRefresh, "minRefresh");
        this.clock = Objects.requireNonNull(clock, "clock");
        if (refresh.isNegative() || refresh.isZero() || minRefresh.isNegative() || minRefresh.compareTo(refresh) > 0) {
            throw new IllegalArgumentException("need 0 <= minRefresh <= refresh, 0 < refresh");
        }
    }

    /** Keys from a JWK set file; nothing is read until {@link #reload} or {@link #find}. */
    public static JwksSource file(Path file, Set<IidSignatureAlgorithm> algorithms, Duration refresh,
            Duration minRefresh, Clock clock) {
        return new JwksSource(new FileReader(Objects.requireNonNull(file, "file")), algorithms, refresh, minRefresh,
                clock);
    }

    /**
     * Keys from a JWK set URL, fetched with the JDK's HTTP client: no redirects followed, TLS trusting
     * {@code tls} (the system's CAs when empty), each fetch bounded in time and size. Nothing is fetched until
     * {@link #reload} or {@link #find}.
     */
    public static JwksSource url(URI url, Optional<SSLContext> tls, Set<IidSignatureAlgorithm> algorithms,
            Duration refresh, Duration minRefresh, Clock clock) {
        HttpClient.Builder client = HttpClient.newBuilder().connectTimeout(FETCH_TIMEOUT)
                .followRedirects(HttpClient.Redirect.NEVER);
        tls.ifPresent(client::sslContext);
        return new JwksSource(new UrlReader(Objects.requireNonNull(url, "url"), client.build()), algorithms, refresh,
                minRefresh, clock);
    }

    /**
     * The source the settings describe, with a first read done: what {@link OpenStackServerAttestor#configure} uses.
     * An unreadable {@code jwks_ca_file} or {@code jwks_file} is an error of its key; a {@code jwks_url} that cannot be
     * fetched now is a warning (the signing service may start after the server), and attestation fails closed until
     * a later read succeeds.
     */
    public static ConfigResult<JwksSource> configure(OpenStackServerSettings settings, PluginConfig plugin,
            Clock clock) {
        String keyPrefix = plugin.keyPath() + ".";
        JwksSource source;
        if (settings.jwks() instanceof JwksFile file) {
            source = file(file.path(), settings.algorithms(), settings.jwksRefresh(), settings.jwksMinRefresh(), clock);
            try {
                source.reload();
            } catch (JwksException e) {
                return new ConfigResult.Invalid<>(List.of(new ConfigError(plugin.file(),
                        keyPrefix + OpenStackServerSettings.JWKS_FILE, e.getMessage())));
            }
            return new ConfigResult.Valid<>(source, List.of());
        }
        JwksUrl url = (JwksUrl) settings.jwks();
        Optional<SSLContext> tls = Optional.empty();
        if (settings.jwksCaFile().isPresent()) {
            try {
                tls = Optional.of(trusting(settings.jwksCaFile().get()));
            } catch (JwksException e) {
                return new ConfigResult.Invalid<>(List.of(new ConfigError(plugin.file(),
                        keyPrefix + OpenStackServerSettings.JWKS_CA_FILE, e.getMessage())));
            }
        }
        source = url(url.url(), tls, settings.algorithms(), settings.jwksRefresh(), settings.jwksMinRefresh(), clock);
        try {
            source.reload();
            return new ConfigResult.Valid<>(source, List.of());
        } catch (JwksException e) {
            return new ConfigResult.Valid<>(source, List.of(new ConfigError(plugin.file(),
                    keyPrefix + OpenStackServerSettings.JWKS_URL, String.format(URL_UNREACHABLE_WARNING,
                            e.getMessage()))));
        }
    }

    /**
     * An SSL context trusting only the PEM certificates in {@code caFile}.
     *
     * @throws JwksException with a reason to print after the key {@code jwks_ca_file}
     */
    public static SSLContext trusting(Path caFile) throws JwksException {
        byte[] pem = readBounded(caFile, MAX_CA_FILE_BYTES, CA_FILE_TOO_LARGE);
        try {
            Collection<? extends Certificate> certificates = CertificateFactory.getInstance("X.509")
                    .generateCertificates(new java.io.ByteArrayInputStream(pem));
            if (certificates.isEmpty()) {
                throw new JwksException(CA_FILE_NO_CERTIFICATE);
            }
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            int i = 0;
            for (Certificate certificate : certificates) {
                trust.setCertificateEntry("ca-" + i++, certificate);
            }
            TrustManagerFactory factory = TrustManagerFactory.getInstance("PKIX");
            factory.init(trust);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, factory.getTrustManagers(), null);
            return context;
        } catch (GeneralSecurityException | IOException e) {
            throw new JwksException(CA_FILE_NO_CERTIFICATE, e);
        }
    }

    /**
     * The key with this {@code kid}: from the cache, after a periodic refresh when the cache is older than
     * {@code jwks_refresh}, or after one rate-limited refetch when the kid is not cached.
     *
     * @return empty when no key has this kid, even after the refetch
     * @throws KeysUnavailableException when no key set was ever loaded and none can be now
     */
    public Optional<TrustedKey> find(String kid) throws KeysUnavailableException {
        Objects.requireNonNull(kid, "kid");
        Instant now = clock.instant();
        Snapshot seen = snapshot;
        if (seen == null) {
            seen = refresh(now, null, true);
        } else if (!now.isBefore(seen.loadedAt.plus(refresh))) {
            // Stale keys are still good keys: while another thread refreshes them, use them rather than wait.
            seen = refresh(now, seen, false);
        }
        if (seen == null) {
            throw new KeysUnavailableException(lastFailure);
        }
        TrustedKey key = seen.keys.get(kid);
        if (key == null) {
            Snapshot after = refresh(now, seen, true);
            key = after.keys.get(kid);
        }
        return Optional.ofNullable(key);
    }

    /**
     * Reads the source now, whatever the rate limit (at start-up and from an operator's reload).
     *
     * @throws JwksException when the read fails; the keys read before stay in use
     */
    public void reload() throws JwksException {
        lock.lock();
        try {
            lastAttempt = clock.instant();
            load(lastAttempt);
        } finally {
            lock.unlock();
        }
    }

    /** The kids of the cached keys, in set order (empty before the first successful read). */
    public List<String> kids() {
        Snapshot current = snapshot;
        return current == null ? List.of() : List.copyOf(current.keys.keySet());
    }

    /** Whether a key set was ever loaded. */
    public boolean loaded() {
        return snapshot != null;
    }

    /**
     * Tries a read unless another thread replaced {@code seen} already or the last try was too recent.
     *
     * @param wait whether to wait for a read under way in another thread (else {@code seen} is returned at once)
     */
    private Snapshot refresh(Instant now, Snapshot seen, boolean wait) {
        if (wait) {
            lock.lock();
        } else if (!lock.tryLock()) {
            return seen;
        }
        try {
            Snapshot current = snapshot;
            if (current != seen) {
                return current;
            }
            if (lastAttempt != null && now.isBefore(lastAttempt.plus(minRefresh))) {
                return current;
            }
            lastAttempt = now;
            try {
                return load(now);
            } catch (JwksException e) {
                if (current == null) {
                    LOG.warn("openstack_iid: cannot read the JWK set from {}: {}; no keys loaded yet, attestation "
                            + "fails until a read succeeds", reader, e.getMessage());
                } else {
                    LOG.warn("openstack_iid: cannot refresh the JWK set from {}: {}; keeping the {} keys read at {}",
                            reader, e.getMessage(), current.keys.size(), current.loadedAt);
                }
                return current;
            }
        } finally {
            lock.unlock();
        }
    }

    /** Reads and parses the source and publishes the keys; the caller holds the lock. */
    private Snapshot load(Instant now) throws JwksException {
        Map<String, TrustedKey> keys;
        try {
            keys = parse(reader.read(), algorithms);
        } catch (JwksException e) {
            lastFailure = e.getMessage();
            throw e;
        }
        Snapshot previous = snapshot;
        Snapshot next = new Snapshot(keys, now);
        snapshot = next;
        if (previous == null || !previous.keys.keySet().equals(keys.keySet())) {
            LOG.info("openstack_iid: JWK set from {} has {} usable keys: {}", reader, keys.size(), keys.keySet());
        }
        return next;
    }

    /**
     * The usable verification keys of a JWK set document, by kid, in set order.
     *
     * @param algorithms the algorithms documents may use: a key no allowed algorithm fits is skipped
     * @throws JwksException when the document is oversized, malformed, holds a private key or repeats a kid
     */
    public static Map<String, TrustedKey> parse(byte[] json, Set<IidSignatureAlgorithm> algorithms)
            throws JwksException {
        if (json.length > MAX_BYTES) {
            throw new JwksException(SET_TOO_LARGE);
        }
        Map<String, Object> set;
        try {
            String text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(json)).toString();
            set = JSONObjectUtils.parse(text);
        } catch (CharacterCodingException | ParseException e) {
            throw new JwksException(SET_NOT_JSON, e);
        }
        if (!(set.get("keys") instanceof List<?> items)) {
            throw new JwksException(SET_NO_KEYS);
        }
        if (items.size() > MAX_KEYS) {
            throw new JwksException(SET_TOO_MANY_KEYS);
        }
        Map<String, TrustedKey> keys = new LinkedHashMap<>();
        for (int i = 0; i < items.size(); i++) {
            if (!(items.get(i) instanceof Map<?, ?> raw)) {
                throw new JwksException(String.format(KEY_NOT_OBJECT, i));
            }
            if (raw.keySet().stream().anyMatch(PRIVATE_MEMBERS::contains) || "oct".equals(raw.get("kty"))) {
                throw new JwksException(String.format(KEY_PRIVATE, i));
            }
            Optional<JWK> usable = usable(i, raw, algorithms);
            if (usable.isEmpty()) {
                continue;
            }
            JWK key = usable.get();
            if (keys.putIfAbsent(key.getKeyID(), new TrustedKey(key.getKeyID(), key)) != null) {
                throw new JwksException(String.format(KEY_DUPLICATE_KID, i));
            }
        }
        return Collections.unmodifiableMap(keys);
    }

    /** Key {@code index} when it is a public signature verification key we can use; logs why not otherwise. */
    private static Optional<JWK> usable(int index, Map<?, ?> raw, Set<IidSignatureAlgorithm> algorithms)
            throws JwksException {
        JWK key;
        try {
            @SuppressWarnings("unchecked")
            Map<String, Object> members = (Map<String, Object>) raw;
            key = JWK.parse(members);
        } catch (ParseException | RuntimeException e) {
            LOG.warn("openstack_iid: skipping key {} of the JWK set: {}", index, e.getMessage());
            return Optional.empty();
        }
        if (key.isPrivate()) {
            throw new JwksException(String.format(KEY_PRIVATE, index));
        }
        String skip = null;
        if (key.getKeyID() == null || key.getKeyID().isEmpty()) {
            skip = "it has no kid";
        } else if (key.getKeyUse() != null && !KeyUse.SIGNATURE.equals(key.getKeyUse())) {
            skip = "its use is not sig";
        } else if (key.getKeyOperations() != null && !key.getKeyOperations().contains(KeyOperation.VERIFY)) {
            skip = "its key_ops do not include verify";
        } else if (key instanceof ECKey ec && !CURVES.contains(ec.getCurve())) {
            skip = "its curve is not P-256, P-384 or P-521";
        } else if (key instanceof RSAKey rsa && rsa.size() < IidSignatureAlgorithm.MIN_RSA_BITS) {
            skip = "its RSA modulus is shorter than " + IidSignatureAlgorithm.MIN_RSA_BITS + " bits";
        } else if (algorithms.stream().noneMatch(algorithm -> algorithm.fits(key))) {
            skip = "no allowed algorithm verifies with it";
        }
        if (skip != null) {
            LOG.debug("openstack_iid: skipping key {} of the JWK set: {}", index, skip);
            return Optional.empty();
        }
        return Optional.of(key);
    }

    private static byte[] readBounded(Path file, int max, String tooLarge) throws JwksException {
        try (InputStream in = Files.newInputStream(file)) {
            byte[] bytes = in.readNBytes(max + 1);
            if (bytes.length > max) {
                throw new JwksException(tooLarge);
            }
            return bytes;
        } catch (NoSuchFileException e) {
            throw new JwksException("cannot be read: no such file", e);
        } catch (AccessDeniedException e) {
            throw new JwksException("cannot be read: permission denied", e);
        } catch (IOException e) {
            throw new JwksException(Files.isDirectory(file) ? "is a directory, not a file"
                    : "cannot be read: " + e.getClass().getSimpleName(), e);
        }
    }

    /** One public verification key of the set: its kid and its JWK (public members only). */
    public record TrustedKey(String kid, JWK key) {
        public TrustedKey {
            Objects.requireNonNull(kid, "kid");
            Objects.requireNonNull(key, "key");
            if (key.isPrivate()) {
                throw new IllegalArgumentException("a trusted key is public");
            }
        }
    }

    /** The keys read at one instant. */
    private record Snapshot(Map<String, TrustedKey> keys, Instant loadedAt) {
    }

    /** Where a set is read. */
    private interface Reader {
        byte[] read() throws JwksException;
    }

    private static final class FileReader implements Reader {
        private final Path file;

        FileReader(Path file) {
            this.file = file;
        }

        @Override
        public byte[] read() throws JwksException {
            return readBounded(file, MAX_BYTES, SET_TOO_LARGE);
        }

        @Override
        public String toString() {
            return file.toString();
        }
    }

    private static final class UrlReader implements Reader {
        private final URI url;
        private final HttpClient client;

        UrlReader(URI url, HttpClient client) {
            this.url = url;
            this.client = client;
        }

        @Override
        public byte[] read() throws JwksException {
            HttpRequest request = HttpRequest.newBuilder(url).timeout(FETCH_TIMEOUT)
                    .header("Accept", "application/jwk-set+json, application/json").GET().build();
            HttpResponse<byte[]> response;
            try {
                // The request timeout ends at the response headers; BoundedHttp bounds the body too (a slow sender).
                response = BoundedHttp.send(client, request, MAX_BYTES, FETCH_TIMEOUT);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new JwksException("interrupted while fetching the JWK set", e);
            } catch (HttpTimeoutException e) {
                throw new JwksException("the JWK set URL did not answer within " + FETCH_TIMEOUT.toSeconds() + "s",
                        e);
            } catch (BoundedHttp.BodyTooLargeException e) {
                throw new JwksException(SET_TOO_LARGE, e);
            } catch (IOException e) {
                throw new JwksException("the JWK set URL cannot be fetched: " + BoundedHttp.describe(e), e);
            }
            if (response.statusCode() != 200) {
                throw new JwksException("the JWK set URL answered HTTP " + response.statusCode());
            }
            return response.body();
        }

        @Override
        public String toString() {
            return url.toString();
        }
    }

    /** A JWK set (or its CA file) cannot be read or used; the message is a reason for the log or a config error. */
    public static final class JwksException extends Exception {
        private static final long serialVersionUID = 1L;

        public JwksException(String message) {
            super(message);
        }

        public JwksException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** No key set was ever loaded and none can be read now. */
    public static final class KeysUnavailableException extends Exception {
        private static final long serialVersionUID = 1L;

        public KeysUnavailableException(String message) {
            super(message);
        }
    }
}
