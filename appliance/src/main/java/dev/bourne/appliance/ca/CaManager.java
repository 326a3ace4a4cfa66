package dev.bourne.appliance.ca;

import dev.bourne.appliance.ca.internal.CaCertificates;
import dev.bourne.appliance.ca.internal.ManagedKeyContentSigner;
import dev.bourne.appliance.ca.journal.AuthorityState;
import dev.bourne.appliance.ca.journal.CaJournal;
import dev.bourne.appliance.ca.journal.JournalContent;
import dev.bourne.appliance.ca.journal.JournalException;
import dev.bourne.appliance.ca.journal.JwtAuthorityRecord;
import dev.bourne.appliance.ca.journal.X509AuthorityRecord;
import dev.bourne.core.bundle.SpiffeBundle;
import dev.bourne.core.config.internal.GoDuration;
import dev.bourne.core.internal.Texts;
import dev.bourne.core.keymanager.KeyManager;
import dev.bourne.core.keymanager.KeyManagerException;
import dev.bourne.core.keymanager.KeyType;
import dev.bourne.core.keymanager.ManagedKey;
import dev.bourne.core.keymanager.SignatureAlgorithm;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import javax.security.auth.x500.X500Principal;
import org.bouncycastle.asn1.x500.X500Name;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server's local authorities: one X.509 CA and one JWT signing key in use at a time, each with two key manager
 * slots ({@code x509-CA-A}/{@code x509-CA-B}, {@code JWT-Signer-A}/{@code JWT-Signer-B}) so the next key can be
 * prepared and published before it signs, and the previous one stays trusted until it expires.
 *
 * <p>Timeline of one authority of lifetime {@code T} (the CA certificate's or JWT key's validity): at {@code T/2} the
 * next key is prepared in the free slot and published in the bundle; at {@code 5T/6} it becomes active and this one
 * old; at {@code T} this one expires and leaves the bundle. {@link #rotate()} applies that timeline at the injected
 * clock's time; the server calls it periodically ({@link CaRotationScheduler}). Operators can also prepare, activate,
 * taint and revoke by hand, with SPIRE's rules.
 *
 * <p>Every change is first written to the {@link CaJournal}, then published as a new immutable {@link CaSnapshot}
 * (one volatile swap), then announced to listeners. A failed journal write leaves the state as it was. Thread-safe:
 * changes are serialised, reads never block.
 */
public final class CaManager implements AutoCloseable {
    public static final String X509_SLOT_A = "x509-CA-A";
    public static final String X509_SLOT_B = "x509-CA-B";
    public static final String JWT_SLOT_A = "JWT-Signer-A";
    public static final String JWT_SLOT_B = "JWT-Signer-B";
    static final List<String> X509_SLOTS = List.of(X509_SLOT_A, X509_SLOT_B);
    static final List<String> JWT_SLOTS = List.of(JWT_SLOT_A, JWT_SLOT_B);

    /** Bytes of randomness in a JWT {@code kid}: unguessable and never reused across keys. */
    static final int KID_BYTES = 24;

    public static final String X509 = "X.509";
    public static final String JWT = "JWT";

    /** Format arguments: upstream end, resulting lifetime, default_x509_svid_ttl. */
    public static final String UPSTREAM_TOO_SHORT = "the upstream authority's certificate ends at %s: a new CA would"
            + " live only %s, not more than default_x509_svid_ttl (%s); renew the upstream certificate";
    /** Format argument: what is inconsistent. */
    public static final String JOURNAL_INCONSISTENT = "CA journal is inconsistent: %s";

    private static final Logger LOG = LoggerFactory.getLogger(CaManager.class);

    private final CaOptions options;
    private final KeyManager keyManager;
    private final Optional<UpstreamAuthority> upstream;
    private final CaJournal journal;
    private final Clock clock;
    private final SecureRandom random;
    private final X500Name subject;
    private final Object lock = new Object();
    private final List<Consumer<CaSnapshot>> listeners = new CopyOnWriteArrayList<>();

    /** Guarded by {@link #lock} for writes: the journal content and the slot keys behind {@link #snapshot}. */
    private State state;
    private volatile CaSnapshot snapshot;

    /** The mutable-free internal state: persisted content plus the key handles of slot-holding authorities. */
    private record State(JournalContent content, Map<String, ManagedKey> keys) {
        State {
            keys = Map.copyOf(keys);
        }
    }

    private CaManager(CaOptions options, KeyManager keyManager, Optional<UpstreamAuthority> upstream,
            CaJournal journal, Clock clock, SecureRandom random) {
        this.options = Objects.requireNonNull(options, "options");
        this.keyManager = Objects.requireNonNull(keyManager, "keyManager");
        this.upstream = Objects.requireNonNull(upstream, "upstream");
        this.journal = Objects.requireNonNull(journal, "journal");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.random = Objects.requireNonNull(random, "random");
        this.subject = CaCertificates.name(options.caSubject());
    }

    /**
     * Starts the CA: resumes the authorities in the journal whose keys the key manager still holds (and whose
     * certificates still fit this configuration and are not expired), then prepares and activates fresh ones where
     * none is active, and publishes the first snapshot.
     *
     * @param upstream the upstream authority, or empty for a self-signed root; the manager closes it on close
     * @throws CaException when the journal is damaged or inconsistent, or keys cannot be generated or certified
     */
    public static CaManager start(CaOptions options, KeyManager keyManager, Optional<UpstreamAuthority> upstream,
            CaJournal journal, Clock clock, SecureRandom random) throws CaException {
        CaManager manager = new CaManager(options, keyManager, upstream, journal, clock, random);
        manager.resume();
        return manager;
    }

    // ------------------------------------------------------------------------------------------------ reads

    /** The current snapshot; never null once started. */
    public CaSnapshot snapshot() {
        return snapshot;
    }

    /** The X.509 authority that signs SVIDs now. */
    public X509Authority activeX509Authority() {
        return snapshot.activeX509();
    }

    /** The key that signs JWT-SVIDs now. */
    public JwtAuthority activeJwtAuthority() {
        return snapshot.activeJwt();
    }

    /** The trust domain's current bundle. */
    public SpiffeBundle bundle() {
        return snapshot.bundle();
    }

    public CaOptions options() {
        return options;
    }

    /**
     * Registers a listener called with every new snapshot, in order, on the thread that made the change. It must
     * return quickly; an exception it throws is logged and does not undo the change.
     */
    public void addListener(Consumer<CaSnapshot> listener) {
        listeners.add(Objects.requireNonNull(listener, "listener"));
    }

    public void removeListener(Consumer<CaSnapshot> listener) {
        listeners.remove(listener);
    }

    // ------------------------------------------------------------------------------------------------ rotation

    /**
     * Applies the rotation timeline at the clock's time: prepares the next X.509 CA and JWT key at half the active
     * one's lifetime, activates it at five sixths, replaces an expired active authority at once, and drops expired
     * authorities from the bundle. Does nothing when nothing is due.
     */
    public void rotate() throws CaException {
        synchronized (lock) {
            Instant now = clock.instant();
            Work work = new Work(state);
            rotateX509(work, now);
            rotateJwt(work, now);
            prune(work, now);
            commit(work);
        }
    }

    private void rotateX509(Work work, Instant now) throws CaException {
        Optional<X509AuthorityRecord> active = work.x509In(AuthorityState.ACTIVE);
        if (active.isEmpty() || !active.get().notAfter().isAfter(now)) {
            LOG.warn("no usable active X.509 authority at {}: preparing and activating a new one at once", now);
            X509AuthorityRecord fresh = prepareX509(work, now);
            activateX509(work, fresh.authorityId());
            return;
        }
        X509AuthorityRecord current = active.get();
        Optional<X509AuthorityRecord> prepared = work.x509In(AuthorityState.PREPARED);
        if (prepared.isEmpty() && !now.isBefore(point(current.notBefore(), current.notAfter(), 1, 2))) {
            prepared = Optional.of(prepareX509(work, now));
            LOG.info("prepared X.509 authority {} in slot {} at half the lifetime of {}",
                    prepared.get().authorityId(), prepared.get().slotId(), current.authorityId());
        }
        if (prepared.isPresent() && !now.isBefore(point(current.notBefore(), current.notAfter(), 5, 6))) {
            activateX509(work, prepared.get().authorityId());
            LOG.info("activated X.509 authority {}; {} is now old", prepared.get().authorityId(),
                    current.authorityId());
        }
    }

    private void rotateJwt(Work work, Instant now) throws CaException {
        Optional<JwtAuthorityRecord> active = work.jwtIn(AuthorityState.ACTIVE);
        if (active.isEmpty() || !active.get().notAfter().isAfter(now)) {
            LOG.warn("no usable active JWT key at {}: preparing and activating a new one at once", now);
            JwtAuthorityRecord fresh = prepareJwt(work, now);
            activateJwt(work, fresh.keyId());
            return;
        }
        JwtAuthorityRecord current = active.get();
        Optional<JwtAuthorityRecord> prepared = work.jwtIn(AuthorityState.PREPARED);
        if (prepared.isEmpty() && !now.isBefore(point(current.notBefore(), current.notAfter(), 1, 2))) {
            prepared = Optional.of(prepareJwt(work, now));
            LOG.info("prepared JWT key {} in slot {}", prepared.get().keyId(), prepared.get().slotId());
        }
        if (prepared.isPresent() && !now.isBefore(point(current.notBefore(), current.notAfter(), 5, 6))) {
            activateJwt(work, prepared.get().keyId());
            LOG.info("activated JWT key {}; {} is now old", prepared.get().keyId(), current.keyId());
        }
    }

    /** {@code from + (to - from) * numerator / denominator}, to the nanosecond. */
    static Instant point(Instant from, Instant to, long numerator, long denominator) {
        Duration lifetime = Duration.between(from, to);
        return from.plus(lifetime.multipliedBy(numerator).dividedBy(denominator));
    }

    /** Drops authorities that no longer sign and whose validity ended: they leave the bundle. */
    private static void prune(Work work, Instant now) {
        work.x509.removeIf(r -> r.state() != AuthorityState.ACTIVE && !r.notAfter().isAfter(now));
        work.jwt.removeIf(r -> r.state() != AuthorityState.ACTIVE && !r.notAfter().isAfter(now));
    }

    // -------------------------------------------------------------------------------------------- manual operations

    /** Prepares a new X.509 authority in the slot the active one does not use, and publishes it. */
    public X509AuthorityRecord prepareX509() throws CaException {
        synchronized (lock) {
            Work work = new Work(state);
            X509AuthorityRecord record = prepareX509(work, clock.instant());
            commit(work);
            return record;
        }
    }

    /** Makes the prepared X.509 authority {@code authorityId} the one that signs; the active one becomes old. */
    public X509AuthorityRecord activateX509(String authorityId) throws CaException {
        synchronized (lock) {
            Work work = new Work(state);
            X509AuthorityRecord record = findX509(work, authorityId);
            if (record.state() != AuthorityState.PREPARED) {
                throw refused(LocalAuthorityException.ACTIVATE_NOT_PREPARED, X509, authorityId,
                        record.state().journalName());
            }
            activateX509(work, authorityId);
            commit(work);
            return work.x509In(AuthorityState.ACTIVE).orElseThrow();
        }
    }

    /**
     * Marks the old X.509 authority {@code authorityId} as tainted (compromised or to be retired early): agents
     * should renew SVIDs it signed. Only an old authority can be tainted.
     */
    public X509AuthorityRecord taintX509(String authorityId) throws CaException {
        synchronized (lock) {
            Work work = new Work(state);
            X509AuthorityRecord record = findX509(work, authorityId);
            checkTaint(X509, authorityId, record.state(), record.tainted());
            X509AuthorityRecord tainted = record.withTainted();
            work.x509.set(work.x509.indexOf(record), tainted);
            LOG.warn("X.509 authority {} tainted", authorityId);
            commit(work);
            return tainted;
        }
    }

    /**
     * Removes the tainted X.509 authority {@code authorityId} from the bundle: SVIDs it signed no longer validate.
     * Only a tainted authority can be revoked, and not under an upstream authority.
     */
    public X509AuthorityRecord revokeX509(String authorityId) throws CaException {
        synchronized (lock) {
            Work work = new Work(state);
            X509AuthorityRecord record = findX509(work, authorityId);
            if (!record.tainted()) {
                throw refused(LocalAuthorityException.REVOKE_NOT_TAINTED, X509, authorityId,
                        record.state().journalName());
            }
            if (upstream.isPresent()) {
                throw new LocalAuthorityException(String.format(LocalAuthorityException.REVOKE_UPSTREAM,
                        Texts.quote(authorityId)), false);
            }
            work.x509.remove(record);
            if (record.state().holdsSlot()) {
                work.keys.remove(record.slotId());
            }
            LOG.warn("X.509 authority {} revoked and removed from the bundle", authorityId);
            commit(work);
            return record;
        }
    }

    /** Prepares a new JWT key in the slot the active one does not use, and publishes it. */
    public JwtAuthorityRecord prepareJwt() throws CaException {
        synchronized (lock) {
            Work work = new Work(state);
            JwtAuthorityRecord record = prepareJwt(work, clock.instant());
            commit(work);
            return record;
        }
    }

    /** Makes the prepared JWT key {@code keyId} the one that signs; the active one becomes old. */
    public JwtAuthorityRecord activateJwt(String keyId) throws CaException {
        synchronized (lock) {
            Work work = new Work(state);
            JwtAuthorityRecord record = findJwt(work, keyId);
            if (record.state() != AuthorityState.PREPARED) {
                throw refused(LocalAuthorityException.ACTIVATE_NOT_PREPARED, JWT, keyId, record.state().journalName());
            }
            activateJwt(work, keyId);
            commit(work);
            return work.jwtIn(AuthorityState.ACTIVE).orElseThrow();
        }
    }

    /** Marks the old JWT key {@code keyId} as tainted. Only an old key can be tainted. */
    public JwtAuthorityRecord taintJwt(String keyId) throws CaException {
        synchronized (lock) {
            Work work = new Work(state);
            JwtAuthorityRecord record = findJwt(work, keyId);
            checkTaint(JWT, keyId, record.state(), record.tainted());
            JwtAuthorityRecord tainted = record.withTainted();
            work.jwt.set(work.jwt.indexOf(record), tainted);
            LOG.warn("JWT key {} tainted", keyId);
            commit(work);
            return tainted;
        }
    }

    /** Removes the tainted JWT key {@code keyId} from the bundle. Only a tainted key can be revoked. */
    public JwtAuthorityRecord revokeJwt(String keyId) throws CaException {
        synchronized (lock) {
            Work work = new Work(state);
            JwtAuthorityRecord record = findJwt(work, keyId);
            if (!record.tainted()) {
                throw refused(LocalAuthorityException.REVOKE_NOT_TAINTED, JWT, keyId, record.state().journalName());
            }
            work.jwt.remove(record);
            if (record.state().holdsSlot()) {
                work.keys.remove(record.slotId());
            }
            LOG.warn("JWT key {} revoked and removed from the bundle", keyId);
            commit(work);
            return record;
        }
    }

    private static void checkTaint(String kind, String id, AuthorityState state, boolean tainted)
            throws LocalAuthorityException {
        switch (state) {
            case ACTIVE -> throw refused(LocalAuthorityException.TAINT_ACTIVE, kind, id);
            case PREPARED -> throw refused(LocalAuthorityException.TAINT_PREPARED, kind, id);
            default -> {
                if (tainted) {
                    throw refused(LocalAuthorityException.ALREADY_TAINTED, kind, id);
                }
            }
        }
    }

    private static LocalAuthorityException refused(String format, String kind, String id, Object... more) {
        Object[] arguments = new Object[2 + more.length];
        arguments[0] = kind;
        arguments[1] = Texts.quote(id);
        System.arraycopy(more, 0, arguments, 2, more.length);
        return new LocalAuthorityException(String.format(format, arguments), false);
    }

    private static X509AuthorityRecord findX509(Work work, String authorityId) throws LocalAuthorityException {
        Objects.requireNonNull(authorityId, "authorityId");
        return work.x509.stream().filter(r -> r.authorityId().equals(authorityId)).findFirst()
                .orElseThrow(() -> new LocalAuthorityException(String.format(LocalAuthorityException.NOT_FOUND, X509,
                        Texts.quote(authorityId)), true));
    }

    private static JwtAuthorityRecord findJwt(Work work, String keyId) throws LocalAuthorityException {
        Objects.requireNonNull(keyId, "keyId");
        return work.jwt.stream().filter(r -> r.keyId().equals(keyId)).findFirst()
                .orElseThrow(() -> new LocalAuthorityException(String.format(LocalAuthorityException.NOT_FOUND, JWT,
                        Texts.quote(keyId)), true));
    }

    // ------------------------------------------------------------------------------------------------ transitions

    /** The slot to prepare in: the one the active authority does not hold (slot A when nothing is active). */
    private static String freeSlot(List<String> slots, Optional<String> activeSlot) {
        return activeSlot.map(s -> s.equals(slots.get(0)) ? slots.get(1) : slots.get(0)).orElse(slots.get(0));
    }

    private X509AuthorityRecord prepareX509(Work work, Instant now) throws CaException {
        String slot = freeSlot(X509_SLOTS, work.x509In(AuthorityState.ACTIVE).map(X509AuthorityRecord::slotId));
        Instant notAfter = now.plus(options.caTtl());
        if (upstream.isPresent()) {
            Instant limit = upstream.get().notAfterLimit();
            if (limit.isBefore(notAfter)) {
                Duration left = Duration.between(now, limit);
                if (left.compareTo(options.x509SvidTtl()) <= 0) {
                    throw new CaException(String.format(UPSTREAM_TOO_SHORT, limit,
                            left.isNegative() ? "0s" : GoDuration.format(left),
                            GoDuration.format(options.x509SvidTtl())));
                }
                LOG.warn("the upstream authority's certificate ends at {}, before ca_ttl ({}) would: the new CA is"
                        + " capped at {}", limit, GoDuration.format(options.caTtl()), limit);
                notAfter = limit;
            }
        }
        ManagedKey key = generate(slot, options.caKeyType());
        X509Certificate certificate;
        List<X509Certificate> chain;
        if (upstream.isPresent()) {
            UpstreamAuthority.MintedCa minted;
            try {
                minted = upstream.get().mintX509Ca(new UpstreamAuthority.CaRequest(key.publicKey(),
                        new X500Principal(encoded(subject)), options.trustDomain(), now, notAfter));
            } catch (UpstreamAuthorityException e) {
                throw new CaException("upstream authority " + upstream.get().name() + " cannot sign the CA in slot "
                        + slot + ": " + e.getMessage(), e);
            }
            certificate = minted.certificate();
            chain = minted.upstreamChain();
            if (!samePublicKey(certificate.getPublicKey(), key.publicKey()) || !CaCertificates.isSigningCa(certificate)
                    || certificate.getNotAfter().toInstant().isAfter(limitOf(notAfter))) {
                throw new CaException("upstream authority " + upstream.get().name() + " returned a certificate that"
                        + " is not a CA certificate for the key in slot " + slot + " within the requested validity");
            }
        } else {
            try {
                certificate = CaCertificates.sign(new CaCertificates.Request(subject, key.publicKey(),
                        Optional.of(options.trustDomain()), now, notAfter), subject, key.publicKey(),
                        new ManagedKeyContentSigner(key, key.type().defaultSignatureAlgorithm()), random);
            } catch (GeneralSecurityException e) {
                throw new CaException("cannot sign the CA certificate for slot " + slot + ": " + e.getMessage(), e);
            }
            chain = List.of();
        }
        String authorityId = X509Authority.hex(CaCertificates.subjectKeyIdentifier(certificate)
                .orElseGet(() -> CaCertificates.keyIdentifier(certificate.getPublicKey())));
        retireSlot(work.x509, slot, r -> r.slotId(), r -> r.state(), r -> r.withState(AuthorityState.RETIRED));
        X509AuthorityRecord record = new X509AuthorityRecord(authorityId, slot, certificate, chain,
                AuthorityState.PREPARED, false);
        work.x509.add(record);
        work.keys.put(slot, key);
        return record;
    }

    private static Instant limitOf(Instant notAfter) {
        // Certificates carry whole seconds: the requested end rounded up is the latest acceptable NotAfter.
        return notAfter.getNano() == 0 ? notAfter
                : notAfter.truncatedTo(java.time.temporal.ChronoUnit.SECONDS).plusSeconds(1);
    }

    private JwtAuthorityRecord prepareJwt(Work work, Instant now) throws CaException {
        String slot = freeSlot(JWT_SLOTS, work.jwtIn(AuthorityState.ACTIVE).map(JwtAuthorityRecord::slotId));
        ManagedKey key = generate(slot, options.jwtKeyType());
        byte[] kidBytes = new byte[KID_BYTES];
        random.nextBytes(kidBytes);
        String kid = Base64.getUrlEncoder().withoutPadding().encodeToString(kidBytes);
        SignatureAlgorithm algorithm = options.jwtKeyType().defaultSignatureAlgorithm();
        retireSlot(work.jwt, slot, r -> r.slotId(), r -> r.state(), r -> r.withState(AuthorityState.RETIRED));
        JwtAuthorityRecord record = new JwtAuthorityRecord(kid, slot, key.publicKey(), algorithm, now,
                now.plus(options.caTtl()), AuthorityState.PREPARED, false);
        work.jwt.add(record);
        work.keys.put(slot, key);
        return record;
    }

    /** The authority that held {@code slot} lost its key to a new one: it stays published, as retired. */
    private static <R> void retireSlot(List<R> records, String slot, java.util.function.Function<R, String> slotOf,
            java.util.function.Function<R, AuthorityState> stateOf, java.util.function.UnaryOperator<R> retire) {
        for (int i = 0; i < records.size(); i++) {
            R record = records.get(i);
            if (slotOf.apply(record).equals(slot) && stateOf.apply(record).holdsSlot()) {
                records.set(i, retire.apply(record));
            }
        }
    }

    private void activateX509(Work work, String authorityId) {
        for (int i = 0; i < work.x509.size(); i++) {
            X509AuthorityRecord record = work.x509.get(i);
            if (record.state() == AuthorityState.ACTIVE) {
                work.x509.set(i, record.withState(AuthorityState.OLD));
            } else if (record.authorityId().equals(authorityId)) {
                work.x509.set(i, record.withState(AuthorityState.ACTIVE));
            }
        }
    }

    private void activateJwt(Work work, String keyId) {
        for (int i = 0; i < work.jwt.size(); i++) {
            JwtAuthorityRecord record = work.jwt.get(i);
            if (record.state() == AuthorityState.ACTIVE) {
                work.jwt.set(i, record.withState(AuthorityState.OLD));
            } else if (record.keyId().equals(keyId)) {
                work.jwt.set(i, record.withState(AuthorityState.ACTIVE));
            }
        }
    }

    private ManagedKey generate(String slot, KeyType type) throws CaException {
        try {
            return keyManager.generateKey(slot, type);
        } catch (KeyManagerException e) {
            throw new CaException("key manager " + keyManager.name() + " cannot generate a " + type.configName()
                    + " key in slot " + slot + ": " + e.getMessage(), e);
        }
    }

    private static byte[] encoded(X500Name name) {
        try {
            return name.getEncoded();
        } catch (java.io.IOException e) {
            throw new IllegalStateException("cannot encode the CA subject", e);
        }
    }

    static boolean samePublicKey(PublicKey a, PublicKey b) {
        // Compare encodings: a PKCS#11 provider's key object and the JDK's decoding of a certificate never
        // compare equal with equals() even for the same key.
        return Arrays.equals(a.getEncoded(), b.getEncoded());
    }

    // ------------------------------------------------------------------------------------------------ start

    private void resume() throws CaException {
        synchronized (lock) {
            Instant now = clock.instant();
            JournalContent content;
            try {
                content = journal.load().orElse(JournalContent.empty());
            } catch (JournalException e) {
                throw new CaException(e.getMessage(), e);
            }
            checkConsistent(content);
            Work work = new Work(new State(content, Map.of()));
            for (int i = 0; i < work.x509.size(); i++) {
                X509AuthorityRecord record = work.x509.get(i);
                if (!record.state().holdsSlot()) {
                    continue;
                }
                Optional<String> problem = x509Problem(record, now);
                if (problem.isEmpty()) {
                    work.keys.put(record.slotId(), lookUp(record.slotId()).orElseThrow());
                    LOG.info("resumed {} X.509 authority {} in slot {}", record.state().journalName(),
                            record.authorityId(), record.slotId());
                } else {
                    LOG.warn("X.509 authority {} in slot {} is not resumed: {}", record.authorityId(),
                            record.slotId(), problem.get());
                    work.x509.set(i, record.withState(AuthorityState.RETIRED));
                }
            }
            for (int i = 0; i < work.jwt.size(); i++) {
                JwtAuthorityRecord record = work.jwt.get(i);
                if (!record.state().holdsSlot()) {
                    continue;
                }
                Optional<String> problem = keyProblem(record.slotId(), record.publicKey(), record.notAfter(), now);
                if (problem.isEmpty()) {
                    work.keys.put(record.slotId(), lookUp(record.slotId()).orElseThrow());
                    LOG.info("resumed {} JWT key {} in slot {}", record.state().journalName(), record.keyId(),
                            record.slotId());
                } else {
                    LOG.warn("JWT key {} in slot {} is not resumed: {}", record.keyId(), record.slotId(),
                            problem.get());
                    work.jwt.set(i, record.withState(AuthorityState.RETIRED));
                }
            }
            // Without an active authority, a still valid prepared one (already published) takes over; otherwise
            // rotate() below prepares and activates a fresh one.
            if (work.x509In(AuthorityState.ACTIVE).isEmpty()) {
                work.x509In(AuthorityState.PREPARED).ifPresent(p -> activateX509(work, p.authorityId()));
            }
            if (work.jwtIn(AuthorityState.ACTIVE).isEmpty()) {
                work.jwtIn(AuthorityState.PREPARED).ifPresent(p -> activateJwt(work, p.keyId()));
            }
            rotateX509(work, now);
            rotateJwt(work, now);
            prune(work, now);
            // A restart may have changed what is published (dropped authorities, another upstream): always
            // publish a new sequence number.
            work.forceNewSequence = true;
            commit(work);
        }
    }

    private void checkConsistent(JournalContent content) throws CaException {
        Map<String, String> holders = new HashMap<>();
        for (X509AuthorityRecord record : content.x509Authorities()) {
            checkSlot(X509_SLOTS, record.slotId(), record.state(), record.authorityId(), holders);
            String expected = X509Authority.hex(CaCertificates.subjectKeyIdentifier(record.certificate())
                    .orElseGet(() -> CaCertificates.keyIdentifier(record.certificate().getPublicKey())));
            if (!expected.equals(record.authorityId())) {
                throw new CaException(String.format(JOURNAL_INCONSISTENT, "authority " + Texts.quote(
                        record.authorityId()) + " is not the ID of its certificate (" + expected + ")"));
            }
        }
        for (JwtAuthorityRecord record : content.jwtAuthorities()) {
            checkSlot(JWT_SLOTS, record.slotId(), record.state(), record.keyId(), holders);
        }
        for (AuthorityState single : List.of(AuthorityState.ACTIVE, AuthorityState.PREPARED)) {
            if (content.x509Authorities().stream().filter(r -> r.state() == single).count() > 1
                    || content.jwtAuthorities().stream().filter(r -> r.state() == single).count() > 1) {
                throw new CaException(String.format(JOURNAL_INCONSISTENT, "more than one " + single.journalName()
                        + " authority of one kind"));
            }
        }
    }

    private static void checkSlot(List<String> slots, String slot, AuthorityState state, String id,
            Map<String, String> holders) throws CaException {
        if (!slots.contains(slot)) {
            throw new CaException(String.format(JOURNAL_INCONSISTENT, "authority " + Texts.quote(id)
                    + " names unknown slot " + Texts.quote(slot)));
        }
        if (state.holdsSlot() && holders.putIfAbsent(slot, id) != null) {
            throw new CaException(String.format(JOURNAL_INCONSISTENT, "slot " + slot + " is held by both "
                    + Texts.quote(holders.get(slot)) + " and " + Texts.quote(id)));
        }
    }

    /** Why a journal X.509 authority cannot be resumed, if it cannot. */
    private Optional<String> x509Problem(X509AuthorityRecord record, Instant now) throws CaException {
        boolean selfSigned = record.certificate().getSubjectX500Principal()
                .equals(record.certificate().getIssuerX500Principal());
        if (upstream.isEmpty() && !selfSigned) {
            return Optional.of("it was signed by an upstream authority, and none is configured now");
        }
        if (upstream.isPresent() && (selfSigned || !chainsToUpstream(record))) {
            return Optional.of("it does not chain to the configured upstream authority's roots");
        }
        return keyProblem(record.slotId(), record.certificate().getPublicKey(), record.notAfter(), now);
    }

    private boolean chainsToUpstream(X509AuthorityRecord record) {
        List<X509Certificate> path = new ArrayList<>();
        path.add(record.certificate());
        path.addAll(record.upstreamChain());
        X509Certificate top = path.get(path.size() - 1);
        for (X509Certificate root : upstream.orElseThrow().upstreamRoots()) {
            try {
                top.verify(root.getPublicKey());
                return true;
            } catch (GeneralSecurityException e) {
                // try the next root
            }
        }
        return false;
    }

    private Optional<String> keyProblem(String slot, PublicKey expected, Instant notAfter, Instant now)
            throws CaException {
        if (!notAfter.isAfter(now)) {
            return Optional.of("it expired at " + notAfter);
        }
        Optional<ManagedKey> key = lookUp(slot);
        if (key.isEmpty()) {
            return Optional.of("key manager " + keyManager.name() + " holds no key " + slot);
        }
        if (!samePublicKey(key.get().publicKey(), expected)) {
            return Optional.of("the key in " + slot + " is not the key of this authority (it was replaced)");
        }
        return Optional.empty();
    }

    private Optional<ManagedKey> lookUp(String slot) throws CaException {
        try {
            return keyManager.getKey(slot);
        } catch (KeyManagerException e) {
            throw new CaException("key manager " + keyManager.name() + " cannot look up slot " + slot + ": "
                    + e.getMessage(), e);
        }
    }

    // ------------------------------------------------------------------------------------------------ commit

    /** A mutable copy of the state that one operation edits; {@link #commit} makes it the state, or nothing. */
    private static final class Work {
        final long sequence;
        final List<X509AuthorityRecord> x509;
        final List<JwtAuthorityRecord> jwt;
        final Map<String, ManagedKey> keys;
        boolean forceNewSequence;

        Work(State state) {
            this.sequence = state.content().bundleSequence();
            this.x509 = new ArrayList<>(state.content().x509Authorities());
            this.jwt = new ArrayList<>(state.content().jwtAuthorities());
            this.keys = new HashMap<>(state.keys());
        }

        Optional<X509AuthorityRecord> x509In(AuthorityState wanted) {
            return x509.stream().filter(r -> r.state() == wanted).findFirst();
        }

        Optional<JwtAuthorityRecord> jwtIn(AuthorityState wanted) {
            return jwt.stream().filter(r -> r.state() == wanted).findFirst();
        }
    }

    private void commit(Work work) throws CaException {
        CaSnapshot previous = snapshot;
        SpiffeBundle contents = bundleContents(work);
        boolean bundleChanged = previous == null || work.forceNewSequence
                || !sameContents(previous.bundle(), contents);
        long sequence = bundleChanged ? work.sequence + 1 : work.sequence;
        JournalContent content = new JournalContent(sequence, work.x509, work.jwt);
        State next = new State(content, work.keys);
        if (previous != null && next.equals(state)) {
            return;
        }
        X509AuthorityRecord activeX509 = work.x509In(AuthorityState.ACTIVE).orElseThrow();
        JwtAuthorityRecord activeJwt = work.jwtIn(AuthorityState.ACTIVE).orElseThrow();
        X509Authority x509Authority = previous != null
                && previous.activeX509().authorityId().equals(activeX509.authorityId())
                ? previous.activeX509()
                : new X509Authority(activeX509.slotId(), work.keys.get(activeX509.slotId()), activeX509.certificate(),
                        activeX509.upstreamChain(), activeX509.authorityId());
        JwtAuthority jwtAuthority = previous != null && previous.activeJwt().keyId().equals(activeJwt.keyId())
                ? previous.activeJwt()
                : new JwtAuthority(activeJwt.slotId(), work.keys.get(activeJwt.slotId()), activeJwt.keyId(),
                        activeJwt.notAfter(), activeJwt.signatureAlgorithm());
        SpiffeBundle bundle = new SpiffeBundle(options.trustDomain(), contents.x509Authorities(),
                contents.jwtAuthorities(), OptionalLong.of(sequence), Optional.of(options.refreshHint()));
        try {
            journal.save(content);
        } catch (JournalException e) {
            throw new CaException("the CA state change was not made: " + e.getMessage(), e);
        }
        state = next;
        CaSnapshot published = new CaSnapshot(x509Authority, jwtAuthority, bundle, work.x509, work.jwt);
        snapshot = published;
        for (Consumer<CaSnapshot> listener : listeners) {
            try {
                listener.accept(published);
            } catch (RuntimeException e) {
                LOG.warn("a CA snapshot listener failed: {}", e.toString());
            }
        }
    }

    private SpiffeBundle bundleContents(Work work) {
        // Self-signed mode publishes only roots: an intermediate left over from an earlier upstream configuration
        // is not a trust anchor (SVIDs it signed chain to that upstream's roots, not to this bundle).
        List<X509Certificate> roots = upstream.isPresent()
                ? upstream.get().upstreamRoots()
                : work.x509.stream().map(X509AuthorityRecord::certificate).filter(CaManager::selfIssued).toList();
        Map<String, PublicKey> keys = new LinkedHashMap<>();
        work.jwt.forEach(r -> keys.put(r.keyId(), r.publicKey()));
        return SpiffeBundle.of(options.trustDomain(), roots, keys);
    }

    private static boolean selfIssued(X509Certificate certificate) {
        return certificate.getSubjectX500Principal().equals(certificate.getIssuerX500Principal());
    }

    private static boolean sameContents(SpiffeBundle a, SpiffeBundle b) {
        return a.x509Authorities().equals(b.x509Authorities()) && a.jwtAuthorities().keySet()
                .equals(b.jwtAuthorities().keySet());
    }

    /** Closes the upstream authority; the key manager belongs to the caller. */
    @Override
    public void close() {
        upstream.ifPresent(UpstreamAuthority::close);
    }

    @Override
    public String toString() {
        CaSnapshot current = snapshot;
        return "CaManager{" + options.trustDomain() + ", " + (current == null ? "not started"
                : current.activeX509() + ", " + current.activeJwt()) + "}";
    }
}
