package dev.bourne.appliance.agentapi;

import dev.bourne.core.spiffeid.SpiffeId;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The continuous-attestation challenges the server issued and the agents have not answered yet: at most one per agent
 * ID (a new one replaces the old, so only the latest can be answered), each single use and valid for {@link #LIFETIME}.
 * Kept in memory only: a challenge outlives neither a server restart nor a minute, and an agent that lost one simply
 * asks again.
 *
 * <p>Bounded at {@link #MAX_PENDING}: only authenticated agents can add a challenge, one each, so the bound is reached
 * only by a fleet larger than the bound renewing within one minute; then the server answers UNAVAILABLE (retry) rather
 * than grow without limit or drop another agent's challenge.
 */
final class RenewalChallenges {
    /** How long an agent has to answer: a TPM quote takes well under a second, the rest is network and retries. */
    static final Duration LIFETIME = Duration.ofSeconds(60);
    static final int MAX_PENDING = 100_000;

    static final String TOO_MANY = "too many renewal challenges pending; retry later";

    /** A challenge issued to one agent by the attestor recorded for its node. */
    static final class Pending {
        private final String attestor;
        private final byte[] challenge;
        private final Instant expiresAt;

        private Pending(String attestor, byte[] challenge, Instant expiresAt) {
            this.attestor = attestor;
            this.challenge = challenge;
            this.expiresAt = expiresAt;
        }

        String attestor() {
            return attestor;
        }

        byte[] challenge() {
            return challenge.clone();
        }

        @Override
        public String toString() {
            return "Pending[attestor=" + attestor + ", " + challenge.length + " bytes, expires " + expiresAt + "]";
        }
    }

    private final Clock clock;
    private final int maxPending;
    /** Insertion order is expiry order (every entry lives {@link #LIFETIME}; a replaced one is re-inserted). */
    private final LinkedHashMap<SpiffeId, Pending> pending = new LinkedHashMap<>();

    RenewalChallenges(Clock clock) {
        this(clock, MAX_PENDING);
    }

    RenewalChallenges(Clock clock, int maxPending) {
        this.clock = Objects.requireNonNull(clock, "clock");
        if (maxPending < 1) {
            throw new IllegalArgumentException("maxPending must be positive");
        }
        this.maxPending = maxPending;
    }

    /**
     * Records {@code challenge} as the one pending for {@code agentId}, replacing any earlier one.
     *
     * @throws ApiException UNAVAILABLE when {@link #MAX_PENDING} challenges of other agents are live
     */
    synchronized void put(SpiffeId agentId, String attestor, byte[] challenge) throws ApiException {
        Instant now = clock.instant();
        pending.remove(agentId);
        pruneExpired(now);
        if (pending.size() >= maxPending) {
            throw new ApiException(ApiException.Code.UNAVAILABLE, TOO_MANY);
        }
        pending.put(agentId, new Pending(attestor, challenge.clone(), now.plus(LIFETIME)));
    }

    /** Removes and returns the challenge pending for {@code agentId}; empty when none was issued, used or expired. */
    synchronized Optional<Pending> take(SpiffeId agentId) {
        Pending found = pending.remove(agentId);
        if (found == null || !clock.instant().isBefore(found.expiresAt)) {
            return Optional.empty();
        }
        return Optional.of(found);
    }

    /** Forgets the challenge of an agent that was evicted or refused. */
    synchronized void discard(SpiffeId agentId) {
        pending.remove(agentId);
    }

    synchronized int size() {
        return pending.size();
    }

    private void pruneExpired(Instant now) {
        for (Iterator<Map.Entry<SpiffeId, Pending>> it = pending.entrySet().iterator(); it.hasNext(); ) {
            if (now.isBefore(it.next().getValue().expiresAt)) {
                return;
            }
            it.remove();
        }
    }
}
