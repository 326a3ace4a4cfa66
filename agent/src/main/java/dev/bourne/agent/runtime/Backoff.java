package dev.bourne.agent.runtime;

import java.time.Duration;
import java.util.random.RandomGenerator;

/**
 * Jittered exponential backoff: after {@code n} consecutive failures wait a random time between half and all of
 * {@code min(max, base * 2^n)}, so agents that lost the server together do not reconnect in lockstep.
 */
public final class Backoff {
    private final Duration base;
    private final Duration max;
    private final RandomGenerator random;

    public Backoff(Duration base, Duration max, RandomGenerator random) {
        if (base.isNegative() || base.isZero() || max.compareTo(base) < 0) {
            throw new IllegalArgumentException("backoff needs 0 < base <= max");
        }
        this.base = base;
        this.max = max;
        this.random = random;
    }

    /** The wait after {@code failures} consecutive failures (1 for the first). */
    public Duration delay(int failures) {
        long ceiling = base.toMillis();
        for (int i = 1; i < failures && ceiling < max.toMillis(); i++) {
            ceiling *= 2;
        }
        ceiling = Math.min(ceiling, max.toMillis());
        long floor = ceiling / 2;
        return Duration.ofMillis(floor + random.nextLong(ceiling - floor + 1));
    }
}
