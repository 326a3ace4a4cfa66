package dev.bourne.bench.tpm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The round harness counts only the nanoseconds an operation reports, interleaves operations, and caps calls. */
class ThroughputTest {

    @Test
    void measure_rateIsCallsPerCountedSecond_perRound() throws Exception {
        Throughput throughput = new Throughput();
        AtomicInteger order = new AtomicInteger();
        int[] firstCall = new int[2];
        // Each call claims 1 ms (or 4 ms) whatever the wall time: 1,000 (or 250) calls per counted second.
        throughput.add("fast", i -> {
            if (i == 0) {
                firstCall[0] = order.incrementAndGet();
            }
            return 1_000_000;
        });
        throughput.add("slow", i -> {
            if (i == 0) {
                firstCall[1] = order.incrementAndGet();
            }
            return 4_000_000;
        });
        Throughput.Rates rates = throughput.measure(3, 0, 1_000_000, 50);

        assertEquals(List.of("fast", "slow"), throughput.names());
        assertArrayEquals(new double[] {1000, 1000, 1000}, rates.of("fast"), 1e-9);
        assertArrayEquals(new double[] {250, 250, 250}, rates.of("slow"), 1e-9);
        // Warm-up, then 3 rounds, each running "fast" then "slow": the last round's first calls are 7th and 8th.
        assertArrayEquals(new int[] {7, 8}, firstCall);
    }

    @Test
    void measure_capsCallsPerSlice() throws Exception {
        Throughput throughput = new Throughput();
        AtomicInteger calls = new AtomicInteger();
        throughput.add("op", i -> {
            calls.incrementAndGet();
            return 1;
        });
        throughput.measure(2, 60_000_000_000L, 60_000_000_000L, 10);
        assertEquals(30, calls.get()); // warm-up and two rounds, 10 each, long before a minute passes
    }

    @Test
    void addAndOf_unknownOrTwice_rejected() throws Exception {
        Throughput throughput = new Throughput();
        throughput.add("op", i -> 1);
        assertEquals("measurement op added twice",
                assertThrows(IllegalArgumentException.class, () -> throughput.add("op", i -> 1)).getMessage());
        Throughput.Rates rates = throughput.measure(1, 0, 1, 1);
        assertEquals("no measurement named other",
                assertThrows(IllegalArgumentException.class, () -> rates.of("other")).getMessage());
    }

    @Test
    void median_oddAndEven() {
        assertEquals(2, Throughput.median(new double[] {3, 1, 2}));
        assertEquals(2.5, Throughput.median(new double[] {4, 1, 3, 2}));
    }
}
