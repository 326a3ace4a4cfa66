package dev.bourne.agent.runtime;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class BackoffTest {
    private final Backoff backoff = new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(60), new SplittableRandom(1));

    @Test
    void delay_doublesWithinJitterAndIsCapped() {
        for (int failures = 1; failures <= 12; failures++) {
            long ceiling = Math.min(60_000, 1000L << (failures - 1));
            for (int i = 0; i < 50; i++) {
                long ms = backoff.delay(failures).toMillis();
                assertTrue(ms >= ceiling / 2 && ms <= ceiling, failures + ": " + ms);
            }
        }
    }

    @Test
    void delay_isJittered() {
        long distinct = java.util.stream.IntStream.range(0, 50).mapToLong(i -> backoff.delay(5).toMillis())
                .distinct().count();
        assertTrue(distinct > 10, "distinct delays: " + distinct);
    }

    @Test
    void badBounds_rejected() {
        assertThrows(IllegalArgumentException.class,
                () -> new Backoff(Duration.ZERO, Duration.ofSeconds(1), new SplittableRandom()));
        assertThrows(IllegalArgumentException.class,
                () -> new Backoff(Duration.ofSeconds(2), Duration.ofSeconds(1), new SplittableRandom()));
    }
}
