package dev.bourne.appliance.agentapi;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bourne.core.spiffeid.SpiffeId;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

/** The pending renewal challenges: one per agent, single use, replaced by a newer one, expiring, bounded. */
class RenewalChallengesTest {
    private static final SpiffeId A = SpiffeId.parse("spiffe://example.org/spire/agent/tpm/a");
    private static final SpiffeId B = SpiffeId.parse("spiffe://example.org/spire/agent/tpm/b");
    private static final SpiffeId C = SpiffeId.parse("spiffe://example.org/spire/agent/tpm/c");

    private final MutableClock clock = new MutableClock();

    @Test
    void take_returnsTheChallengeOnce_withItsAttestor() throws Exception {
        RenewalChallenges challenges = new RenewalChallenges(clock);
        challenges.put(A, "tpm", new byte[] {1, 2, 3});
        RenewalChallenges.Pending pending = challenges.take(A).orElseThrow();
        assertEquals("tpm", pending.attestor());
        assertArrayEquals(new byte[] {1, 2, 3}, pending.challenge());
        assertTrue(challenges.take(A).isEmpty());
    }

    @Test
    void challenges_areKeptPerAgent() throws Exception {
        RenewalChallenges challenges = new RenewalChallenges(clock);
        challenges.put(A, "tpm", new byte[] {1});
        assertTrue(challenges.take(B).isEmpty());
        challenges.put(B, "tpm", new byte[] {2});
        assertArrayEquals(new byte[] {2}, challenges.take(B).orElseThrow().challenge());
        assertArrayEquals(new byte[] {1}, challenges.take(A).orElseThrow().challenge());
    }

    @Test
    void aNewChallenge_replacesTheOldOne() throws Exception {
        RenewalChallenges challenges = new RenewalChallenges(clock);
        challenges.put(A, "tpm", new byte[] {1});
        challenges.put(A, "tpm", new byte[] {2});
        assertEquals(1, challenges.size());
        assertArrayEquals(new byte[] {2}, challenges.take(A).orElseThrow().challenge());
        assertTrue(challenges.take(A).isEmpty());
    }

    @Test
    void aChallenge_expiresAfterItsLifetime() throws Exception {
        RenewalChallenges challenges = new RenewalChallenges(clock);
        challenges.put(A, "tpm", new byte[] {1});
        clock.advance(RenewalChallenges.LIFETIME.minusMillis(1));
        assertTrue(challenges.take(A).isPresent());
        challenges.put(A, "tpm", new byte[] {1});
        clock.advance(RenewalChallenges.LIFETIME);
        assertTrue(challenges.take(A).isEmpty());
    }

    @Test
    void discard_forgetsTheAgentsChallenge() throws Exception {
        RenewalChallenges challenges = new RenewalChallenges(clock);
        challenges.put(A, "tpm", new byte[] {1});
        challenges.discard(A);
        assertTrue(challenges.take(A).isEmpty());
    }

    @Test
    void storedChallenge_isACopy() throws Exception {
        RenewalChallenges challenges = new RenewalChallenges(clock);
        byte[] issued = {1, 2};
        challenges.put(A, "tpm", issued);
        issued[0] = 9;
        RenewalChallenges.Pending pending = challenges.take(A).orElseThrow();
        pending.challenge()[1] = 9;
        assertArrayEquals(new byte[] {1, 2}, pending.challenge());
        assertFalse(pending.toString().contains("[1, 2]"));
    }

    @Test
    void full_refusesOtherAgents_untilChallengesExpire() throws Exception {
        RenewalChallenges challenges = new RenewalChallenges(clock, 2);
        challenges.put(A, "tpm", new byte[] {1});
        clock.advance(Duration.ofSeconds(10));
        challenges.put(B, "tpm", new byte[] {2});
        ApiException e = assertThrows(ApiException.class, () -> challenges.put(C, "tpm", new byte[] {3}));
        assertEquals(ApiException.Code.UNAVAILABLE, e.code());
        assertEquals(RenewalChallenges.TOO_MANY, e.getMessage());
        // An agent that already holds one may replace it: it takes no new room.
        challenges.put(B, "tpm", new byte[] {4});
        // Once A's challenge expired, its room is free again.
        clock.advance(RenewalChallenges.LIFETIME.minusSeconds(10));
        challenges.put(C, "tpm", new byte[] {3});
        assertEquals(2, challenges.size());
        assertTrue(challenges.take(A).isEmpty());
        assertArrayEquals(new byte[] {4}, challenges.take(B).orElseThrow().challenge());
    }

    private static final class MutableClock extends Clock {
        private Instant now = Instant.parse("2025-01-01T00:00:00Z");

        void advance(Duration by) {
            now = now.plus(by);
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }
}
