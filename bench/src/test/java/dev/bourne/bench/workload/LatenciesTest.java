package dev.bourne.bench.workload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** Nearest-rank percentiles on the sorted samples, and pooling of rounds. */
class LatenciesTest {

    @Test
    void percentilesAreNearestRankOnSortedSamples() {
        long[] samples = new long[100];
        for (int i = 0; i < samples.length; i++) {
            samples[i] = 100 - i; // reversed: the constructor sorts
        }
        Latencies l = new Latencies(samples);
        assertEquals(50, l.percentile(50));
        assertEquals(99, l.percentile(99));
        assertEquals(100, l.percentile(100));
        assertEquals(1, l.percentile(0.5));
        assertEquals(100, l.max());
        assertEquals(100, l.count());
    }

    @Test
    void pooledRoundsFormOneDistribution() {
        Latencies pooled = Latencies.pooled(new Latencies(new long[] {5, 1}), new Latencies(new long[] {3, 7}));
        assertEquals(4, pooled.count());
        assertEquals(3, pooled.percentile(50));
        assertEquals(7, pooled.max());
    }

    @Test
    void rejectsNoSamplesAndPercentilesOutsideTheRange() {
        assertThrows(IllegalArgumentException.class, () -> new Latencies(new long[0]));
        Latencies l = new Latencies(new long[] {1});
        assertThrows(IllegalArgumentException.class, () -> l.percentile(0));
        assertThrows(IllegalArgumentException.class, () -> l.percentile(100.5));
        assertThrows(IllegalArgumentException.class, () -> l.percentile(Double.NaN));
    }
}
