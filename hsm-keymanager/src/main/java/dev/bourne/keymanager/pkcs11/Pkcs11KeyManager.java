package dev.bourne.keymanager.pkcs11;

import dev.bourne.core.keymanager.HsmAuthenticationException;
import dev.bourne.core.keymanager.HsmUnavailableException;
import dev.bourne.core.keymanager.KeyManager;
import dev.bourne.core.keymanager.KeyManagerException;
import dev.bourne.core.keymanager.KeyManagerStatus;
import dev.bourne.core.keymanager.KeyType;
import dev.bourne.core.keymanager.ManagedKey;
import dev.bourne.core.keymanager.SignatureAlgorithm;
import dev.bourne.keymanager.internal.JcaManagedKey;
import dev.bourne.keymanager.internal.KeyIds;
import dev.bourne.keymanager.internal.Signatures;
import dev.bourne.keymanager.pkcs11.internal.Pkcs11Failure;
import dev.bourne.keymanager.pkcs11.internal.Pkcs11Module;
import dev.bourne.keymanager.pkcs11.internal.Pkcs11Module.ObjectClass;
import dev.bourne.keymanager.pkcs11.internal.Pkcs11Module.TokenObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.ProviderException;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Security;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.RSAPublicKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Date;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.DERNull;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.sec.SECObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code pkcs11} key manager: keys generated on a PKCS#11 token (an HSM in production, SoftHSM2 in tests) as
 * private, sensitive, never-extractable token objects, used through a SunPKCS11 provider of its own.
 *
 * <p>Objects on the token: each key is a pair labelled {@code bourne:<key_identifier>:<key id>} with a
 * {@code CKA_ID} of 24 bytes (the first 16 bytes of SHA-256 of the label, then the generation as a big-endian
 * millisecond count, so a replacement never shares an id with the key it replaces), plus a self-signed holder
 * certificate with the same {@code CKA_ID}, labelled {@code <label>#<hex id>}: SunPKCS11's {@code KeyStore} only
 * exposes private keys that have a certificate, and it is how a restarted server gets JCA handles for its keys.
 * Several servers share a token by using different key identifiers; a server only lists, uses and destroys objects
 * under its own label prefix.
 *
 * <p>Lifecycle: nothing is contacted until first use. {@link #status()} is ACTIVE, UNAVAILABLE (library missing, token
 * label not found, module error: retried in the background with exponential backoff, so the key manager recovers
 * without a restart when the HSM comes back) or AUTHENTICATION_FAILED (PIN refused or locked, PIN file unusable:
 * tried once and never again, because repeated wrong PINs lock a token; operations fail fast until closed).
 *
 * <p>Signing is bounded: at most {@code max_sessions} signatures run at once; a caller waits at most
 * {@link Options#permitTimeout()} for a turn and then gets a {@link KeyManagerException}, so the token's own session
 * limit ("No more sessions available" in SunPKCS11) is never reached by signing.
 */
public final class Pkcs11KeyManager implements KeyManager {
    public static final String NAME = "pkcs11";

    public static final String REASON_NOT_CONNECTED = "not connected to the token yet";
    public static final String REASON_LIBRARY_MISSING = "the PKCS#11 library %s does not exist";
    public static final String REASON_LIBRARY_FAILED = "cannot load the PKCS#11 library %s: %s";
    public static final String REASON_TOKEN_NOT_FOUND = "no token labelled \"%s\" is present (tokens: %s)";
    public static final String REASON_MODULE_ERROR = "PKCS#11 module error: %s";
    public static final String REASON_PIN_REFUSED = "the token refused the PIN (%s): fix the PIN and restart; not "
            + "retried, because repeated wrong PINs lock the token";
    public static final String REASON_PIN_UNAVAILABLE = "%s: fix it and restart";
    public static final String REASON_KEY_UNUSABLE = "key %s on the token is unusable: %s";
    public static final String REASON_CLOSED = "the key manager is closed";
    public static final String SIGN_TIMEOUT = "no signing session became free within %s (max_sessions = %d): the "
            + "token is overloaded or stuck";
    public static final String SIGN_INTERRUPTED = "interrupted while waiting for a signing session";
    public static final String KEY_REPLACED = "key %s was replaced by a newer key under the same id: get it again";
    public static final String KEY_NOT_PROTECTED = "its private key is not sensitive and non-extractable on the token";
    public static final String KEY_TYPE_UNKNOWN = "its type is not one of " + KeyType.allConfigNames();

    private static final Logger LOG = LoggerFactory.getLogger(Pkcs11KeyManager.class);
    private static final String LABEL_PREFIX = "bourne:";
    private static final int ID_HASH_BYTES = 16;
    private static final byte[] P256_OID_DER = HexFormat.of().parseHex("06082a8648ce3d030107");
    private static final byte[] P384_OID_DER = HexFormat.of().parseHex("06052b81040022");
    /** RFC 5280, 4.1.2.5: the holder certificate has no meaningful expiry. */
    private static final Date NO_EXPIRY = Date.from(Instant.parse("9999-12-31T23:59:59Z"));

    /**
     * Tuning of the reconnect backoff, the wait for a signing turn, and where {@code pin_env} is looked up.
     *
     * @param environment reads an environment variable ({@code System::getenv} in production)
     */
    public record Options(Duration initialBackoff, Duration maxBackoff, Duration permitTimeout,
            Function<String, String> environment) {
        public Options {
            Objects.requireNonNull(initialBackoff, "initialBackoff");
            Objects.requireNonNull(maxBackoff, "maxBackoff");
            Objects.requireNonNull(permitTimeout, "permitTimeout");
            Objects.requireNonNull(environment, "environment");
        }

        /** 1 s doubling to 60 s between reconnects, 10 s for a signing turn, the process environment. */
        public static Options defaults() {
            return new Options(Duration.ofSeconds(1), Duration.ofSeconds(60), Duration.ofSeconds(10), System::getenv);
        }
    }

    private final Pkcs11Settings settings;
    private final String keyIdentifier;
    private final String labelPrefix;
    private final Clock clock;
    private final SecureRandom random;
    private final Options options;
    private final Semaphore permits;
    private final AtomicInteger signing = new AtomicInteger();
    private final AtomicInteger peakSigning = new AtomicInteger();
    private final AtomicInteger loginAttempts = new AtomicInteger();
    /** Serialises changes to this server's objects on the token (generation, replacement, loading). */
    private final ReentrantLock objects = new ReentrantLock();

    /** Guards the connection state below; never held while signing. */
    private final Object lock = new Object();
    private volatile Connection connection;
    private volatile KeyManagerStatus status = new KeyManagerStatus(KeyManagerStatus.State.UNAVAILABLE,
            REASON_NOT_CONNECTED);
    private boolean attempted;
    private boolean closed;
    private Duration backoff;
    private Instant nextAttempt = Instant.MIN;
    private ScheduledExecutorService scheduler;
    private ScheduledFuture<?> retry;
    private long lastGeneration;

    /**
     * A key manager for the token of {@code settings}; connects on first use, never here.
     *
     * @param keyIdentifier this server's name on the token (see {@link KeyIdentifiers#resolve})
     */
    public Pkcs11KeyManager(Pkcs11Settings settings, String keyIdentifier, Clock clock, SecureRandom random,
            Options options) {
        this.settings = Objects.requireNonNull(settings, "settings");
        if (!Pkcs11Settings.isValidKeyIdentifier(keyIdentifier)) {
            throw new IllegalArgumentException("key identifier " + Pkcs11Settings.KEY_IDENTIFIER_INVALID);
        }
        this.keyIdentifier = keyIdentifier;
        this.labelPrefix = LABEL_PREFIX + keyIdentifier + ":";
        this.clock = Objects.requireNonNull(clock, "clock");
        this.random = Objects.requireNonNull(random, "random");
        this.options = Objects.requireNonNull(options, "options");
        this.permits = new Semaphore(settings.maxSessions());
        this.backoff = options.initialBackoff();
    }

    public Pkcs11KeyManager(Pkcs11Settings settings, String keyIdentifier, Clock clock, SecureRandom random) {
        this(settings, keyIdentifier, clock, random, Options.defaults());
    }

    @Override
    public String name() {
        return NAME;
    }

    /** This server's name on the token. */
    public String keyIdentifier() {
        return keyIdentifier;
    }

    /** The {@code CKA_LABEL} of key {@code id} on the token. */
    public String label(String id) {
        return labelPrefix + KeyIds.check(id);
    }

    @Override
    public ManagedKey generateKey(String id, KeyType type) throws KeyManagerException {
        KeyIds.check(id);
        Objects.requireNonNull(type, "type");
        Connection c = activeConnection();
        objects.lock();
        try {
            return generate(c, id, type);
        } catch (Pkcs11Failure e) {
            throw failure(c, e);
        } finally {
            objects.unlock();
        }
    }

    @Override
    public Optional<ManagedKey> getKey(String id) throws KeyManagerException {
        KeyIds.check(id);
        Connection c = activeConnection();
        Pkcs11ManagedKey cached = c.keys.get(id);
        if (cached != null) {
            return Optional.of(cached);
        }
        objects.lock();
        try {
            return Optional.ofNullable(load(c, id, c.session.findObjects(ObjectClass.PRIVATE_KEY, labelPrefix + id)));
        } catch (Pkcs11Failure e) {
            throw failure(c, e);
        } finally {
            objects.unlock();
        }
    }

    @Override
    public List<ManagedKey> getKeys() throws KeyManagerException {
        Connection c = activeConnection();
        objects.lock();
        try {
            return List.copyOf(loadAll(c));
        } catch (Pkcs11Failure e) {
            throw failure(c, e);
        } finally {
            objects.unlock();
        }
    }

    @Override
    public KeyManagerStatus status() {
        if (connection != null) {
            return KeyManagerStatus.active();
        }
        synchronized (lock) {
            if (!attempted && !closed) {
                attempt();
            }
            return status;
        }
    }

    /**
     * Tries to connect now when the key manager is UNAVAILABLE, without waiting for the next scheduled retry; never
     * after an authentication failure. Returns the status afterwards.
     */
    public KeyManagerStatus reconnect() {
        synchronized (lock) {
            if (connection == null && !closed && status.state() != KeyManagerStatus.State.AUTHENTICATION_FAILED) {
                attempt();
            }
            return status;
        }
    }

    @Override
    public void close() {
        ScheduledExecutorService toStop;
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            Connection c = connection;
            connection = null;
            if (c != null) {
                c.close();
            }
            status = new KeyManagerStatus(KeyManagerStatus.State.UNAVAILABLE, REASON_CLOSED);
            toStop = scheduler;
            lock.notifyAll();
        }
        if (toStop != null) {
            toStop.shutdownNow();
        }
    }

    @Override
    public String toString() {
        return "Pkcs11KeyManager[token=" + settings.tokenLabel() + ", keyIdentifier=" + keyIdentifier + ", status="
                + status.state() + "]";
    }

    // ---- Connection lifecycle ----

    /** What a successful connection holds: the module, the management session, the provider and its key store. */
    static final class Connection {
        final Pkcs11Module module;
        final Pkcs11Module.Session session;
        final Provider provider;
        final KeyStore keyStore;
        final Map<String, Pkcs11ManagedKey> keys = new ConcurrentHashMap<>();

        Connection(Pkcs11Module module, Pkcs11Module.Session session, Provider provider, KeyStore keyStore) {
            this.module = module;
            this.session = session;
            this.provider = provider;
            this.keyStore = keyStore;
        }

        void close() {
            // No logout: PKCS#11 login state is per token and application, and a logout would also end the login of
            // any other provider of this JVM on the same token. The sessions go with the provider.
            session.close();
        }
    }

    /** The live connection, connecting first when due; throws when the token cannot be used now. */
    Connection activeConnection() throws KeyManagerException {
        Connection c = connection;
        if (c != null) {
            return c;
        }
        synchronized (lock) {
            if (connection != null) {
                return connection;
            }
            if (closed) {
                throw new HsmUnavailableException(REASON_CLOSED);
            }
            if (status.state() == KeyManagerStatus.State.UNAVAILABLE
                    && (!attempted || !clock.instant().isBefore(nextAttempt))) {
                attempt();
            }
            if (connection != null) {
                return connection;
            }
            if (status.state() == KeyManagerStatus.State.AUTHENTICATION_FAILED) {
                throw new HsmAuthenticationException(status.reason());
            }
            throw new HsmUnavailableException(status.reason());
        }
    }

    /** One connection attempt; called with {@code lock} held. */
    private void attempt() {
        attempted = true;
        Pkcs11Module.Session session = null;
        try {
            if (!Files.exists(settings.library())) {
                unavailable(String.format(REASON_LIBRARY_MISSING, settings.library()));
                return;
            }
            Pkcs11Module module;
            try {
                module = Pkcs11Module.open(settings.library());
            } catch (Pkcs11Failure e) {
                unavailable(String.format(REASON_LIBRARY_FAILED, settings.library(), e.getMessage()));
                return;
            }
            OptionalLong slot = module.findSlot(settings.tokenLabel());
            if (slot.isEmpty()) {
                unavailable(String.format(REASON_TOKEN_NOT_FOUND, settings.tokenLabel(),
                        module.tokenLabels().values()));
                return;
            }
            session = module.openSession(slot.getAsLong());
            try (Pkcs11Pin pin = Pkcs11Pin.read(settings.pinSource(), options.environment())) {
                loginAttempts.incrementAndGet();
                session.login(pin.chars());
            } catch (Pkcs11Pin.UnavailableException e) {
                authenticationFailed(String.format(REASON_PIN_UNAVAILABLE, e.getMessage()));
                session.close();
                return;
            } catch (Pkcs11Failure e) {
                if (e.isPinFailure()) {
                    authenticationFailed(String.format(REASON_PIN_REFUSED, e.getMessage()));
                    session.close();
                    return;
                }
                throw e;
            }
            Provider provider = newProvider(slot.getAsLong());
            KeyStore keyStore = KeyStore.getInstance("PKCS11", provider);
            // Already logged in above (login state is the token's), so no PIN here.
            keyStore.load(null, null);
            Connection c = new Connection(module, session, provider, keyStore);
            try {
                // Self-test every key of this server on activation: a key that cannot sign is found now, not at
                // the first certificate. No `objects` lock: the connection is not published yet, so nobody else uses
                // it, and taking that lock under `lock` could deadlock with a failing operation.
                for (Pkcs11ManagedKey key : loadAll(c)) {
                    JcaManagedKey.selfTest(key.direct());
                }
            } catch (KeyManagerException e) {
                c.close();
                unavailable(e.getMessage());
                return;
            }
            connection = c;
            status = KeyManagerStatus.active();
            backoff = options.initialBackoff();
            LOG.info("pkcs11 key manager active: token \"{}\" in slot {}, key identifier {}", settings.tokenLabel(),
                    slot.getAsLong(), keyIdentifier);
            lock.notifyAll();
        } catch (Pkcs11Failure e) {
            if (session != null) {
                session.close();
            }
            unavailable(String.format(REASON_MODULE_ERROR, e.getMessage()));
        } catch (GeneralSecurityException | IOException | RuntimeException e) {
            // RuntimeException too: SunPKCS11 reports configuration and module problems as ProviderException or
            // InvalidParameterException, and status() must never throw.
            if (session != null) {
                session.close();
            }
            unavailable(String.format(REASON_MODULE_ERROR, e.getClass().getSimpleName() + ": " + e.getMessage()));
        }
    }

    private Provider newProvider(long slot) {
        Provider sunPkcs11 = Security.getProvider("SunPKCS11");
        if (sunPkcs11 == null) {
            throw new ProviderException("this JDK has no SunPKCS11 provider (module jdk.crypto.cryptoki)");
        }
        // Its own provider instance, never registered globally. The generation template matters only if something
        // generates through the provider (this class generates through Pkcs11Module with the same attributes): without
        // it SoftHSM2 makes private keys readable in clear.
        String config = "name = bourne-" + keyIdentifier + "\n"
                + "library = " + settings.library() + "\n"
                + "slot = " + slot + "\n"
                + "attributes(generate, CKO_PRIVATE_KEY, *) = {\n"
                + "  CKA_TOKEN = true\n"
                + "  CKA_PRIVATE = true\n"
                + "  CKA_SENSITIVE = true\n"
                + "  CKA_EXTRACTABLE = false\n"
                + "  CKA_SIGN = true\n"
                + "}\n"
                + "attributes(generate, CKO_PUBLIC_KEY, *) = {\n"
                + "  CKA_TOKEN = true\n"
                + "  CKA_VERIFY = true\n"
                + "}\n";
        return sunPkcs11.configure("--" + config);
    }

    private void unavailable(String reason) {
        status = new KeyManagerStatus(KeyManagerStatus.State.UNAVAILABLE, reason);
        LOG.warn("pkcs11 key manager unavailable: {}; retrying in {}", reason, backoff);
        nextAttempt = clock.instant().plus(backoff);
        if (scheduler == null) {
            scheduler = Executors.newSingleThreadScheduledExecutor(runnable -> {
                Thread thread = new Thread(runnable, "bourne-pkcs11-reconnect-" + keyIdentifier);
                thread.setDaemon(true);
                return thread;
            });
        }
        if (retry != null) {
            retry.cancel(false);
        }
        retry = scheduler.schedule(this::scheduledRetry, backoff.toMillis(), TimeUnit.MILLISECONDS);
        Duration doubled = backoff.multipliedBy(2);
        backoff = doubled.compareTo(options.maxBackoff()) > 0 ? options.maxBackoff() : doubled;
        lock.notifyAll();
    }

    private void authenticationFailed(String reason) {
        status = new KeyManagerStatus(KeyManagerStatus.State.AUTHENTICATION_FAILED, reason);
        LOG.error("pkcs11 key manager cannot log in to token \"{}\": {}", settings.tokenLabel(), reason);
        lock.notifyAll();
    }

    private void scheduledRetry() {
        synchronized (lock) {
            if (!closed && connection == null && status.state() == KeyManagerStatus.State.UNAVAILABLE) {
                attempt();
            }
        }
    }

    /** Drops a connection whose module failed and schedules a reconnect; returns the exception to throw. */
    private KeyManagerException failure(Connection c, Pkcs11Failure e) {
        String reason = String.format(REASON_MODULE_ERROR, e.getMessage());
        if (e.isPinFailure() || Pkcs11Module.isDeviceFailure(e)) {
            markUnavailable(c, reason);
            return new HsmUnavailableException(reason, e);
        }
        return new KeyManagerException(reason, e);
    }

    private void markUnavailable(Connection c, String reason) {
        synchronized (lock) {
            if (connection == c && !closed) {
                connection = null;
                c.close();
                unavailable(reason);
            }
        }
    }

    /**
     * Handles a module failure as if an operation had just seen one: drops the connection, reports UNAVAILABLE and
     * schedules a reconnect. For tests of what follows (SoftHSM2 cannot be made to fail on demand).
     */
    void connectionFailed(String reason) {
        Connection c = connection;
        if (c != null) {
            markUnavailable(c, reason);
        }
    }

    /** Waits until the state is {@code state} or {@code timeout} passes; true when reached. For tests. */
    boolean awaitState(KeyManagerStatus.State state, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (lock) {
            while (status.state() != state) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                TimeUnit.NANOSECONDS.timedWait(lock, left);
            }
            return true;
        }
    }

    /** How many times this key manager sent the PIN to the token. For tests: proves a wrong PIN is not retried. */
    int loginAttempts() {
        return loginAttempts.get();
    }

    /** The most signatures that ran at once. For tests: proves max_sessions bounds concurrency. */
    int peakConcurrentSignatures() {
        return peakSigning.get();
    }

    /** The signing turns. For tests: occupying them proves the wait times out. */
    Semaphore signingPermits() {
        return permits;
    }

    // ---- Signing ----

    byte[] sign(Pkcs11ManagedKey key, SignatureAlgorithm algorithm, byte[] data) throws KeyManagerException {
        Objects.requireNonNull(data, "data");
        try {
            if (!permits.tryAcquire(options.permitTimeout().toNanos(), TimeUnit.NANOSECONDS)) {
                throw new KeyManagerException(String.format(SIGN_TIMEOUT, options.permitTimeout(),
                        settings.maxSessions()));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new KeyManagerException(SIGN_INTERRUPTED, e);
        }
        int now = signing.incrementAndGet();
        peakSigning.accumulateAndGet(now, Math::max);
        try {
            Queue<Signature> pool = key.signers(algorithm);
            Signature signer = pool.poll();
            if (signer == null) {
                signer = newSigner(key, algorithm);
            }
            signer.update(data);
            byte[] signature = signer.sign();
            // sign() leaves the Signature initialised for the same key: ready for the next caller.
            pool.offer(signer);
            return signature;
        } catch (GeneralSecurityException | ProviderException e) {
            // The failed Signature is dropped, not pooled: its state is unknown.
            if (Pkcs11Module.isDeviceFailure(e)) {
                String reason = String.format(REASON_MODULE_ERROR, e.getMessage());
                markUnavailable(key.connection(), reason);
                throw new HsmUnavailableException(reason, e);
            }
            throw new KeyManagerException("key " + key.id() + " cannot sign with " + algorithm + ": "
                    + e.getMessage(), e);
        } finally {
            signing.decrementAndGet();
            permits.release();
        }
    }

    private static Signature newSigner(Pkcs11ManagedKey key, SignatureAlgorithm algorithm)
            throws GeneralSecurityException {
        return Signatures.signer(algorithm, key.privateKey(), key.connection().provider);
    }

    /** The same key through the current connection, after a reconnect. */
    Pkcs11ManagedKey reload(Pkcs11ManagedKey stale) throws KeyManagerException {
        Optional<ManagedKey> fresh = getKey(stale.id());
        if (fresh.isEmpty() || !(fresh.get() instanceof Pkcs11ManagedKey key)
                || !java.util.Arrays.equals(key.objectId(), stale.objectId())) {
            stale.markReplaced();
            throw new KeyManagerException(String.format(KEY_REPLACED, stale.id()));
        }
        return key;
    }

    // ---- Objects on the token (with `objects` held) ----

    private Pkcs11ManagedKey generate(Connection c, String id, KeyType type) throws Pkcs11Failure,
            KeyManagerException {
        String label = labelPrefix + id;
        long generation = nextGeneration();
        byte[] objectId = objectId(label, generation);
        List<TokenObject> previous = new ArrayList<>(c.session.findObjects(ObjectClass.PRIVATE_KEY, label));
        previous.addAll(c.session.findObjects(ObjectClass.PUBLIC_KEY, label));

        long[] pair = c.session.generateKeyPair(type.isEc() ? curveDer(type) : null, type.bits(), label, objectId);
        Pkcs11ManagedKey key;
        try {
            PublicKey publicKey = readPublicKey(c.session, pair[0], type);
            X509CertificateHolder holder = holderCertificate(c.session, pair[1], type, label, generation, publicKey);
            c.session.createCertificate(certificateLabel(label, objectId), objectId,
                    holder.getSubject().getEncoded(), holder.getEncoded());
            c.keyStore.load(null, null);
            key = fromKeyStore(c, id, objectId, type);
            JcaManagedKey.selfTest(key.direct());
        } catch (Pkcs11Failure | KeyManagerException | IOException | GeneralSecurityException
                | RuntimeException e) {
            // The new key never becomes visible: destroy what was made of it, keep the old one.
            destroyGeneration(c, label, objectId);
            if (e instanceof Pkcs11Failure failure) {
                throw failure;
            }
            if (e instanceof KeyManagerException failure) {
                throw failure;
            }
            throw new KeyManagerException("cannot generate key " + id + " on the token: " + e.getMessage(), e);
        }
        // New key first, then the old objects go: a failure above leaves the old key in place.
        for (TokenObject old : previous) {
            destroyGeneration(c, label, old.id());
        }
        Pkcs11ManagedKey replaced = c.keys.put(id, key);
        if (replaced != null) {
            replaced.markReplaced();
        }
        LOG.info("generated {} key {} on token \"{}\" (label {})", type.configName(), id, settings.tokenLabel(), label);
        return key;
    }

    /** Keys of this server, one per id: the newest complete generation of each. */
    private List<Pkcs11ManagedKey> loadAll(Connection c) throws Pkcs11Failure, KeyManagerException {
        Map<String, List<TokenObject>> byId = new LinkedHashMap<>();
        for (TokenObject object : c.session.findObjects(ObjectClass.PRIVATE_KEY, null)) {
            if (object.label().startsWith(labelPrefix)) {
                String id = object.label().substring(labelPrefix.length());
                byId.computeIfAbsent(id, k -> new ArrayList<>()).add(object);
            }
        }
        List<Pkcs11ManagedKey> keys = new ArrayList<>();
        for (Map.Entry<String, List<TokenObject>> entry : byId.entrySet()) {
            Pkcs11ManagedKey cached = c.keys.get(entry.getKey());
            if (cached != null) {
                keys.add(cached);
                continue;
            }
            Pkcs11ManagedKey key = load(c, entry.getKey(), entry.getValue());
            if (key != null) {
                keys.add(key);
            }
        }
        return keys;
    }

    private Pkcs11ManagedKey load(Connection c, String id, List<TokenObject> privateKeys) throws Pkcs11Failure,
            KeyManagerException {
        if (privateKeys.isEmpty()) {
            return null;
        }
        // Newest generation first; one without its holder certificate (a crash during generation) is skipped.
        List<TokenObject> candidates = new ArrayList<>(privateKeys);
        candidates.sort(Comparator.comparingLong((TokenObject o) -> generationOf(o.id())).reversed());
        try {
            for (int pass = 0; pass < 2; pass++) {
                for (TokenObject candidate : candidates) {
                    if (c.keyStore.containsAlias(certificateLabel(candidate.label(), candidate.id()))) {
                        Pkcs11Module.KeyProtection protection = c.session.protection(candidate.handle());
                        if (!protection.token() || !protection.isPrivate() || !protection.sensitive()
                                || protection.extractable()) {
                            throw new KeyManagerException(String.format(REASON_KEY_UNUSABLE, id, KEY_NOT_PROTECTED));
                        }
                        Pkcs11ManagedKey key = fromKeyStore(c, id, candidate.id(), null);
                        c.keys.put(id, key);
                        return key;
                    }
                }
                // The key store maps labels when loaded: objects made since (by a restart's predecessor) need a reload.
                c.keyStore.load(null, null);
            }
        } catch (IOException | GeneralSecurityException e) {
            throw new KeyManagerException(String.format(REASON_KEY_UNUSABLE, id, e.getMessage()), e);
        }
        return null;
    }

    private Pkcs11ManagedKey fromKeyStore(Connection c, String id, byte[] objectId, KeyType expected)
            throws GeneralSecurityException, KeyManagerException {
        String alias = certificateLabel(labelPrefix + id, objectId);
        if (!(c.keyStore.getKey(alias, null) instanceof PrivateKey privateKey)) {
            throw new KeyManagerException(String.format(REASON_KEY_UNUSABLE, id, "no private key for " + alias));
        }
        Certificate certificate = c.keyStore.getCertificate(alias);
        PublicKey publicKey = KeyFactory.getInstance(certificate.getPublicKey().getAlgorithm())
                .generatePublic(new X509EncodedKeySpec(certificate.getPublicKey().getEncoded()));
        KeyType type = typeOf(publicKey)
                .orElseThrow(() -> new KeyManagerException(String.format(REASON_KEY_UNUSABLE, id, KEY_TYPE_UNKNOWN)));
        if (expected != null && expected != type) {
            throw new KeyManagerException(String.format(REASON_KEY_UNUSABLE, id, "expected " + expected.configName()
                    + ", found " + type.configName()));
        }
        return new Pkcs11ManagedKey(this, c, id, type, publicKey, privateKey, objectId);
    }

    /** Destroys the private key, public key and holder certificate of one generation; best effort. */
    private void destroyGeneration(Connection c, String label, byte[] objectId) {
        try {
            List<TokenObject> doomed = new ArrayList<>();
            for (ObjectClass objectClass : List.of(ObjectClass.PRIVATE_KEY, ObjectClass.PUBLIC_KEY)) {
                for (TokenObject object : c.session.findObjects(objectClass, label)) {
                    if (java.util.Arrays.equals(object.id(), objectId)) {
                        doomed.add(object);
                    }
                }
            }
            doomed.addAll(c.session.findObjects(ObjectClass.CERTIFICATE, certificateLabel(label, objectId)));
            for (TokenObject object : doomed) {
                c.session.destroy(object.handle());
            }
        } catch (Pkcs11Failure e) {
            LOG.warn("cannot destroy the replaced objects labelled {}: {}", label, e.getMessage());
        }
    }

    private synchronized long nextGeneration() {
        lastGeneration = Math.max(clock.millis(), lastGeneration + 1);
        return lastGeneration;
    }

    static byte[] objectId(String label, long generation) {
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256").digest(label.getBytes(StandardCharsets.US_ASCII));
            return ByteBuffer.allocate(ID_HASH_BYTES + Long.BYTES).put(hash, 0, ID_HASH_BYTES).putLong(generation)
                    .array();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("SHA-256 is missing from this JDK", e);
        }
    }

    private static long generationOf(byte[] objectId) {
        return objectId.length == ID_HASH_BYTES + Long.BYTES ? ByteBuffer.wrap(objectId, ID_HASH_BYTES, Long.BYTES)
                .getLong() : Long.MIN_VALUE;
    }

    static String certificateLabel(String label, byte[] objectId) {
        return label + "#" + HexFormat.of().formatHex(objectId);
    }

    private static byte[] curveDer(KeyType type) {
        return switch (type) {
            case EC_P256 -> P256_OID_DER.clone();
            case EC_P384 -> P384_OID_DER.clone();
            default -> throw new IllegalArgumentException(type.configName() + " is not an EC key type");
        };
    }

    private static Optional<KeyType> typeOf(PublicKey key) {
        if (key instanceof ECPublicKey ec) {
            int bits = ec.getParams().getCurve().getField().getFieldSize();
            return bits == 256 ? Optional.of(KeyType.EC_P256) : bits == 384 ? Optional.of(KeyType.EC_P384)
                    : Optional.empty();
        }
        if (key instanceof RSAPublicKey rsa) {
            int bits = rsa.getModulus().bitLength();
            return bits == 2048 ? Optional.of(KeyType.RSA_2048) : bits == 4096 ? Optional.of(KeyType.RSA_4096)
                    : Optional.empty();
        }
        return Optional.empty();
    }

    private static PublicKey readPublicKey(Pkcs11Module.Session session, long handle, KeyType type)
            throws Pkcs11Failure, GeneralSecurityException {
        if (type.isEc()) {
            byte[] point = session.ecPoint(handle);
            // Modules return the point DER-wrapped in an OCTET STRING (PKCS#11 2.40); some return it raw.
            byte[] raw = point.length > 0 && point[0] == 0x04 && point.length % 2 == 1
                    && (point.length - 1) / 2 == (type.bits() + 7) / 8 ? point
                    : ASN1OctetString.getInstance(point).getOctets();
            ASN1ObjectIdentifier curve = type == KeyType.EC_P256 ? SECObjectIdentifiers.secp256r1
                    : SECObjectIdentifiers.secp384r1;
            SubjectPublicKeyInfo info = new SubjectPublicKeyInfo(
                    new AlgorithmIdentifier(X9ObjectIdentifiers.id_ecPublicKey, curve), raw);
            try {
                return KeyFactory.getInstance("EC").generatePublic(new X509EncodedKeySpec(info.getEncoded()));
            } catch (IOException e) {
                throw new GeneralSecurityException("cannot encode the EC public key", e);
            }
        }
        BigInteger[] rsa = session.rsaPublic(handle);
        return KeyFactory.getInstance("RSA").generatePublic(new RSAPublicKeySpec(rsa[0], rsa[1]));
    }

    /**
     * A self-signed certificate for the new key, signed inside the token, whose only job is to make the private key
     * visible through SunPKCS11's {@code KeyStore} (it lists private keys only with a certificate of the same
     * {@code CKA_ID}). Nobody trusts it; its subject names the key.
     */
    private X509CertificateHolder holderCertificate(Pkcs11Module.Session session, long privateKey, KeyType type,
            String label, long generation, PublicKey publicKey) {
        X500Name name = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, label).build();
        Instant now = clock.instant();
        X509v3CertificateBuilder builder = new X509v3CertificateBuilder(name, BigInteger.valueOf(generation),
                Date.from(now), NO_EXPIRY, name, SubjectPublicKeyInfo.getInstance(publicKey.getEncoded()));
        return builder.build(new TokenContentSigner(session, privateKey, type));
    }

    /** Signs a certificate with SHA-256 inside the token, through the management session. */
    private static final class TokenContentSigner implements ContentSigner {
        private final Pkcs11Module.Session session;
        private final long privateKey;
        private final KeyType type;
        private final ByteArrayOutputStream buffer = new ByteArrayOutputStream();

        TokenContentSigner(Pkcs11Module.Session session, long privateKey, KeyType type) {
            this.session = session;
            this.privateKey = privateKey;
            this.type = type;
        }

        @Override
        public AlgorithmIdentifier getAlgorithmIdentifier() {
            return type.isEc() ? new AlgorithmIdentifier(X9ObjectIdentifiers.ecdsa_with_SHA256)
                    : new AlgorithmIdentifier(PKCSObjectIdentifiers.sha256WithRSAEncryption, DERNull.INSTANCE);
        }

        @Override
        public OutputStream getOutputStream() {
            return buffer;
        }

        @Override
        public byte[] getSignature() {
            try {
                byte[] data = buffer.toByteArray();
                if (!type.isEc()) {
                    return session.sign(privateKey, Pkcs11Module.RawMechanism.RSA_PKCS1_SHA256, data);
                }
                byte[] digest = MessageDigest.getInstance("SHA-256").digest(data);
                byte[] rs = session.sign(privateKey, Pkcs11Module.RawMechanism.ECDSA_PREHASHED, digest);
                // PKCS#11 returns r || s; X.509 wants the DER SEQUENCE of two INTEGERs.
                int half = rs.length / 2;
                BigInteger r = new BigInteger(1, java.util.Arrays.copyOfRange(rs, 0, half));
                BigInteger s = new BigInteger(1, java.util.Arrays.copyOfRange(rs, half, rs.length));
                return new DERSequence(new ASN1Encodable[] {new ASN1Integer(r), new ASN1Integer(s)}).getEncoded();
            } catch (Pkcs11Failure | IOException | GeneralSecurityException e) {
                throw new IllegalStateException("cannot sign the holder certificate: " + e.getMessage(), e);
            }
        }
    }
}
