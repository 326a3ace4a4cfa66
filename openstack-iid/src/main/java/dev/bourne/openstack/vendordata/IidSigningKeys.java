package dev.bourne.openstack.vendordata;

import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import dev.bourne.core.keymanager.KeyManager;
import dev.bourne.core.keymanager.KeyManagerException;
import dev.bourne.core.keymanager.KeyType;
import dev.bourne.core.keymanager.ManagedKey;
import dev.bourne.openstack.common.OpenStackIid;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The signing service's rotating pair of keys: two KeyManager slots ({@link KeySlot}), one signing, the other empty,
 * holding the next key or holding the previous one, recorded in a journal in {@code data_dir} so that a restart
 * resumes where the service stood.
 *
 * <p>Timeline of a key activated at {@code T} with lifetime {@code L} and document lifetime {@code ttl}:
 * <ol>
 * <li>{@code T + L/2}: the next key is generated in the other slot and published in the JWK set at once, so that
 *     verifiers, which cache the set, know it long before it signs anything;</li>
 * <li>{@code T + L}: the next key signs; the previous key is retired but stays published, because documents it
 *     signed a moment ago are still valid;</li>
 * <li>{@code T + L + ttl + 1 minute}: every document the previous key signed has expired (the minute covers clock
 *     skew between us and verifiers), so it leaves the JWK set; its slot is empty until the next preparation.</li>
 * </ol>
 * A service that was down across one of these times catches up on its next call: with the active key's lifetime
 * over and no key prepared, it prepares and activates at once (verifiers refresh their set on an unknown {@code kid}).
 *
 * <p>Restarts: the active key named by the journal is taken from the KeyManager; if it is missing, a new one is
 * generated in its slot, and if another key is found under its name, that key is used: both are logged, since either
 * means the KeyManager lost or was given keys behind the service's back. A prepared or retired key that is missing
 * (or was replaced) is dropped from the JWK set.
 *
 * <p>The KeyManager is first used on the first call, not at {@link #open}: a service whose HSM is down starts, reports
 * not ready, and loads its keys when the HSM comes back. State changes are serialised; readers take an immutable
 * snapshot. {@link #rotateIfDue} is called by the service's scheduler and by every signing and JWK set request, so
 * rotation follows the clock without depending on the scheduler's timing.
 */
public final class IidSigningKeys {
    /** How long a retired key stays published after its last document can have expired: clock skew allowance. */
    public static final Duration RETIREMENT_GRACE = Duration.ofMinutes(1);


    private static final Logger LOG = LoggerFactory.getLogger(IidSigningKeys.class);

    private final KeyManager keyManager;
    private final SigningKeyJournal journal;
    private final KeyType keyType;
    private final Duration keyLifetime;
    private final Duration documentTtl;
    private final Clock clock;
    /** The journal's content at open; read once, so a damaged journal stops the service before it listens. */
    private final Optional<SigningKeyState> recorded;
    private volatile Published published;

    /** What is published now: an immutable snapshot. */
    private record Published(SigningKeyState state, SigningKey active, Optional<SigningKey> standby, JWKSet jwks,
            Instant nextChange) {
    }

    private IidSigningKeys(KeyManager keyManager, SigningKeyJournal journal, KeyType keyType, Duration keyLifetime,
            Duration documentTtl, Clock clock, Optional<SigningKeyState> recorded) {
        this.keyManager = keyManager;
        this.journal = journal;
        this.keyType = keyType;
        this.keyLifetime = keyLifetime;
        this.documentTtl = documentTtl;
        this.clock = clock;
        this.recorded = recorded;
    }

    /**
     * Opens the keys recorded in {@code dataDir}'s journal (reading the journal only: the KeyManager is used on the
     * first call).
     *
     * @param keyType the type of keys generated from now on (existing keys sign until they rotate out)
     * @param keyLifetime how long a key signs; at least twice {@code documentTtl} plus {@link #RETIREMENT_GRACE}
     * @param documentTtl the lifetime of the documents signed, which sets how long a retired key stays published
     * @throws SigningKeysException when the journal exists but cannot be read or is damaged
     */
    public static IidSigningKeys open(KeyManager keyManager, Path dataDir, KeyType keyType, Duration keyLifetime,
            Duration documentTtl, Clock clock) throws SigningKeysException {
        Objects.requireNonNull(keyManager, "keyManager");
        Objects.requireNonNull(keyType, "keyType");
        Objects.requireNonNull(clock, "clock");
        if (documentTtl.isNegative() || documentTtl.isZero() || documentTtl.compareTo(OpenStackIid.MAX_TTL) > 0) {
            throw new IllegalArgumentException("documentTtl must be positive and at most " + OpenStackIid.MAX_TTL);
        }
        // The previous key must have left the JWK set before its slot is reused half a lifetime later.
        if (keyLifetime.dividedBy(2).compareTo(documentTtl.plus(RETIREMENT_GRACE)) <= 0) {
            throw new IllegalArgumentException("keyLifetime must exceed twice documentTtl plus "
                    + RETIREMENT_GRACE.toMinutes() + " minutes");
        }
        SigningKeyJournal journal = SigningKeyJournal.inDataDir(dataDir);
        return new IidSigningKeys(keyManager, journal, keyType, keyLifetime, documentTtl, clock, journal.load());
    }

    /**
     * The key that signs now, after any rotation that is due. A rotation that fails (HSM unavailable, journal
     * unwritable) is logged and retried on the next call; the current key keeps signing meanwhile.
     *
     * @throws KeyManagerException when the keys were never loaded and the KeyManager cannot load them now
     * @throws SigningKeysException when the keys were never loaded and the journal cannot be written
     */
    public SigningKey activeKey() throws KeyManagerException, SigningKeysException {
        return current().active();
    }

    /**
     * The public keys to publish, after any rotation that is due: the active key, and the prepared or retired one
     * when there is one. Failures as {@link #activeKey()}.
     */
    public JWKSet publicKeys() throws KeyManagerException, SigningKeysException {
        return current().jwks();
    }

    /** The slots' state, or empty before the keys are loaded. */
    public Optional<SigningKeyState> state() {
        Published now = published;
        return now == null ? Optional.empty() : Optional.of(now.state());
    }

    /** Whether the keys are loaded (the KeyManager answered at least once). */
    public boolean loaded() {
        return published != null;
    }

    /** The journal file. */
    public Path journalFile() {
        return journal.file();
    }

    private Published current() throws KeyManagerException, SigningKeysException {
        Published now = published;
        if (now == null) {
            rotateIfDue();
            return published;
        }
        if (!clock.instant().isBefore(now.nextChange())) {
            try {
                rotateIfDue();
            } catch (KeyManagerException | SigningKeysException e) {
                LOG.warn("signing key rotation failed, will retry; the current key keeps signing: {}",
                        e.getMessage());
            }
        }
        return published;
    }

    /**
     * Loads the keys if they are not loaded, then makes every change that is due by the clock: drops an expired
     * retired key, prepares the next key, activates it.
     */
    public synchronized void rotateIfDue() throws KeyManagerException, SigningKeysException {
        if (published == null) {
            published = load();
        }
        // At most three steps are ever due at once (drop, prepare, activate); the bound guards against a loop.
        for (int step = 0; step < 3; step++) {
            Published now = published;
            Instant time = clock.instant();
            if (time.isBefore(now.nextChange())) {
                return;
            }
            published = advance(now, time);
        }
    }

    private Published advance(Published now, Instant time) throws KeyManagerException, SigningKeysException {
        SigningKeyState state = now.state();
        SigningKeyState.Standby standby = state.standby();
        switch (standby.phase()) {
            case RETIRED -> {
                SigningKeyState next = state.withStandby(SigningKeyState.Standby.empty());
                journal.save(next);
                LOG.info("retired IID signing key {} ({}) left the JWK set: every document it signed has expired",
                        standby.kid().orElseThrow(), state.standbySlot().keyId());
                return publish(next, now.active(), Optional.empty());
            }
            case EMPTY -> {
                SigningKey prepared = SigningKey.of(state.standbySlot(),
                        keyManager.generateKey(state.standbySlot().keyId(), keyType));
                SigningKeyState next = state.withStandby(SigningKeyState.Standby.prepared(prepared.kid(), time));
                journal.save(next);
                LOG.info("prepared the next IID signing key {} ({}, {}), published now, signing from {}",
                        prepared.kid(), prepared.slot().keyId(), prepared.jwsAlgorithm(),
                        state.activeSince().plus(keyLifetime).isAfter(time) ? state.activeSince().plus(keyLifetime)
                                : "now");
                return publish(next, now.active(), Optional.of(prepared));
            }
            case PREPARED -> {
                SigningKey next = now.standby().orElseThrow();
                SigningKey previous = now.active();
                Instant until = time.plus(documentTtl).plus(RETIREMENT_GRACE);
                SigningKeyState activated = new SigningKeyState(next.slot(), next.kid(), time,
                        SigningKeyState.Standby.retired(previous.kid(), time, until));
                journal.save(activated);
                LOG.info("IID signing key {} ({}) signs from now on; the previous key {} stays published until {}",
                        next.kid(), next.slot().keyId(), previous.kid(), until);
                return publish(activated, next, Optional.of(previous));
            }
            default -> throw new IllegalStateException("unknown phase " + standby.phase());
        }
    }

    /** Resumes from the journal (or starts with a first key), checking each recorded key against the KeyManager. */
    private Published load() throws KeyManagerException, SigningKeysException {
        Instant time = clock.instant();
        if (recorded.isEmpty()) {
            SigningKey first = SigningKey.of(KeySlot.A, keyManager.generateKey(KeySlot.A.keyId(), keyType));
            SigningKeyState state = new SigningKeyState(KeySlot.A, first.kid(), time, SigningKeyState.Standby.empty());
            journal.save(state);
            LOG.info("generated the first IID signing key {} ({}, {}); journal {}", first.kid(), KeySlot.A.keyId(),
                    first.jwsAlgorithm(), journal.file());
            return publish(state, first, Optional.empty());
        }
        SigningKeyState state = recorded.get();
        boolean changed = false;
        KeySlot activeSlot = state.activeSlot();
        Optional<ManagedKey> activeKey = keyManager.getKey(activeSlot.keyId());
        SigningKey active;
        if (activeKey.isEmpty()) {
            active = SigningKey.of(activeSlot, keyManager.generateKey(activeSlot.keyId(), keyType));
            LOG.warn("the active IID signing key {} ({}) is missing from the KeyManager; generated a new key {} in its "
                    + "slot: documents signed with the lost key no longer verify", state.activeKid(),
                    activeSlot.keyId(), active.kid());
            state = new SigningKeyState(activeSlot, active.kid(), time, state.standby());
            changed = true;
        } else {
            active = SigningKey.of(activeSlot, activeKey.get());
            if (!active.kid().equals(state.activeKid())) {
                LOG.warn("the KeyManager holds another key under {} than the journal records ({} instead of {}); "
                        + "signing with the key it holds", activeSlot.keyId(), active.kid(), state.activeKid());
                state = new SigningKeyState(activeSlot, active.kid(), state.activeSince(), state.standby());
                changed = true;
            }
        }
        if (active.type() != keyType) {
            LOG.info("the active IID signing key is {}; key_type is now {}: the next key will be one",
                    active.type().configName(), keyType.configName());
        }
        Optional<SigningKey> standby = Optional.empty();
        SigningKeyState.Standby other = state.standby();
        if (other.phase() != SigningKeyState.Phase.EMPTY) {
            KeySlot slot = state.standbySlot();
            Optional<ManagedKey> key = keyManager.getKey(slot.keyId());
            String recordedKid = other.kid().orElseThrow();
            if (key.isEmpty()) {
                LOG.warn("the {} IID signing key {} ({}) is missing from the KeyManager; it is no longer published",
                        other.phase().journalName(), recordedKid, slot.keyId());
                state = state.withStandby(SigningKeyState.Standby.empty());
                changed = true;
            } else {
                SigningKey found = SigningKey.of(slot, key.get());
                if (found.kid().equals(recordedKid)) {
                    standby = Optional.of(found);
                } else if (other.phase() == SigningKeyState.Phase.PREPARED) {
                    LOG.warn("the KeyManager holds another key under {} than the journal records ({} instead of {});"
                            + " publishing it as the next key", slot.keyId(), found.kid(), recordedKid);
                    standby = Optional.of(found);
                    state = state.withStandby(SigningKeyState.Standby.prepared(found.kid(), time));
                    changed = true;
                } else {
                    LOG.warn("the KeyManager holds another key under {} than the retired key {} the journal records;"
                            + " the retired key is no longer published", slot.keyId(), recordedKid);
                    state = state.withStandby(SigningKeyState.Standby.empty());
                    changed = true;
                }
            }
        }
        if (changed) {
            journal.save(state);
        }
        LOG.info("resumed IID signing keys from {}: {} ({}) signs since {}, {} slot {}", journal.file(), active.kid(),
                activeSlot.keyId(), state.activeSince(), state.standbySlot().keyId(),
                state.standby().phase().journalName());
        return publish(state, active, standby);
    }

    private Published publish(SigningKeyState state, SigningKey active, Optional<SigningKey> standby) {
        List<JWK> keys = new ArrayList<>();
        keys.add(active.publicJwk());
        standby.ifPresent(key -> keys.add(key.publicJwk()));
        return new Published(state, active, standby, new JWKSet(keys), nextChange(state));
    }

    private Instant nextChange(SigningKeyState state) {
        return switch (state.standby().phase()) {
            case EMPTY -> state.activeSince().plus(keyLifetime.dividedBy(2));
            case PREPARED -> state.activeSince().plus(keyLifetime);
            case RETIRED -> state.standby().until().orElseThrow();
        };
    }

    @Override
    public String toString() {
        Published now = published;
        return "IidSigningKeys[" + (now == null ? "not loaded" : now.state()) + "]";
    }
}
