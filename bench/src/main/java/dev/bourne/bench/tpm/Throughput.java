package dev.bourne.bench.tpm;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Throughput of several operations on one thread, measured in interleaved rounds so that every operation and its
 * limit see the same machine: each round runs every operation in turn for a time slice, and every ratio is computed
 * inside a round (shared by the {@code tpm} and {@code iid} suites). An operation returns the nanoseconds to count (its timed part: set-up it needs per call, such as
 * re-making a pending challenge before timing {@code finish}, is left out), and its rate is calls per counted second.
 */
public final class Throughput {

    /** One measured operation; {@code i} counts calls, to cycle through recorded evidence. */
    @FunctionalInterface
    public interface Op {
        long run(int i) throws Exception;
    }

    /** An operation timing itself around {@code body}. */
    public static Op timed(Body body) {
        return i -> {
            long t0 = System.nanoTime();
            body.run(i);
            return System.nanoTime() - t0;
        };
    }

    @FunctionalInterface
    public interface Body {
        void run(int i) throws Exception;
    }

    /** The per-round rates (calls per second) of each operation, by name, in the order added. */
    public record Rates(Map<String, double[]> byName, int rounds) {
        public double[] of(String name) {
            double[] rates = byName.get(name);
            if (rates == null) {
                throw new IllegalArgumentException("no measurement named " + name);
            }
            return rates;
        }
    }

    private final Map<String, Op> ops = new LinkedHashMap<>();

    public void add(String name, Op op) {
        if (ops.putIfAbsent(name, op) != null) {
            throw new IllegalArgumentException("measurement " + name + " added twice");
        }
    }

    public List<String> names() {
        return new ArrayList<>(ops.keySet());
    }

    /**
     * @param warmupNanos time each operation runs before the first round (for the JIT), untimed
     * @param sliceNanos time each operation runs per round
     * @param maxCalls a cap on calls per slice
     */
    public Rates measure(int rounds, long warmupNanos, long sliceNanos, int maxCalls) throws Exception {
        for (Op op : ops.values()) {
            slice(op, warmupNanos, maxCalls);
        }
        Map<String, double[]> rates = new LinkedHashMap<>();
        ops.keySet().forEach(name -> rates.put(name, new double[rounds]));
        for (int round = 0; round < rounds; round++) {
            for (Map.Entry<String, Op> op : ops.entrySet()) {
                rates.get(op.getKey())[round] = slice(op.getValue(), sliceNanos, maxCalls);
            }
        }
        return new Rates(rates, rounds);
    }

    /** Runs {@code op} for about {@code nanos} of wall time (at least once); its rate in calls per counted second. */
    private static double slice(Op op, long nanos, int maxCalls) throws Exception {
        long deadline = System.nanoTime() + nanos;
        long counted = 0;
        int calls = 0;
        do {
            counted += op.run(calls);
            calls++;
        } while (calls < maxCalls && System.nanoTime() < deadline);
        return calls / (Math.max(counted, 1) / 1e9);
    }

    /** The median of {@code values} (the mean of the middle two for an even count). */
    public static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
