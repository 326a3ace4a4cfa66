package dev.bourne.bench.workload;

import java.util.Arrays;

/**
 * Latency samples of one measurement, in nanoseconds, sorted once: percentiles by nearest rank on the plain sorted
 * array (no histogram, so no bucketing error).
 */
public final class Latencies {
    private final long[] sorted;

    public Latencies(long[] samples) {
        if (samples.length == 0) {
            throw new IllegalArgumentException("a measurement without samples");
        }
        sorted = samples.clone();
        Arrays.sort(sorted);
    }

    /** Samples of several runs of the same measurement pooled into one distribution. */
    public static Latencies pooled(Latencies... runs) {
        int total = 0;
        for (Latencies run : runs) {
            total += run.sorted.length;
        }
        long[] all = new long[total];
        int at = 0;
        for (Latencies run : runs) {
            System.arraycopy(run.sorted, 0, all, at, run.sorted.length);
            at += run.sorted.length;
        }
        return new Latencies(all);
    }

    public int count() {
        return sorted.length;
    }

    /** The nearest-rank percentile {@code p} (0 < p <= 100), in nanoseconds. */
    public long percentile(double p) {
        if (!(p > 0 && p <= 100)) {
            throw new IllegalArgumentException("percentile must be in (0, 100], got " + p);
        }
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.max(rank, 1) - 1];
    }

    public long max() {
        return sorted[sorted.length - 1];
    }
}
