package dev.bourne.bench.workload;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Times one kind of operation with {@code clients} concurrent clients, each on its own thread and connection: every
 * client warms up, all start together, and each repeats its operation until it has {@code countPerClient} samples or
 * the shared time limit has passed, whichever comes first.
 */
final class LatencyRun {
    /** Opens client number {@code index}'s connection. */
    interface ProbeFactory {
        Probes.Probe open(int index) throws Exception;
    }

    private LatencyRun() {
    }

    static Latencies measure(int clients, ProbeFactory factory, int warmupPerClient, int countPerClient,
            Duration limit) throws Exception {
        CountDownLatch ready = new CountDownLatch(clients);
        CountDownLatch go = new CountDownLatch(1);
        AtomicLong deadline = new AtomicLong();
        ExecutorService threads = Executors.newFixedThreadPool(clients);
        try {
            List<Future<long[]>> results = new ArrayList<>();
            for (int i = 0; i < clients; i++) {
                int index = i;
                results.add(threads.submit(() -> {
                    boolean counted = false;
                    try (Probes.Probe probe = factory.open(index)) {
                        for (int w = 0; w < warmupPerClient; w++) {
                            probe.once();
                        }
                        ready.countDown();
                        counted = true;
                        go.await();
                        long end = deadline.get();
                        long[] samples = new long[countPerClient];
                        int n = 0;
                        while (n < countPerClient && System.nanoTime() - end < 0) {
                            samples[n++] = probe.once();
                        }
                        return Arrays.copyOf(samples, n);
                    } finally {
                        if (!counted) {
                            ready.countDown(); // a client that failed must not keep the others waiting
                        }
                    }
                }));
            }
            if (!ready.await(limit.toSeconds() + 120, TimeUnit.SECONDS)) {
                throw new IllegalStateException("clients did not finish warming up in time");
            }
            deadline.set(System.nanoTime() + limit.toNanos());
            go.countDown();
            List<long[]> all = new ArrayList<>();
            int total = 0;
            for (Future<long[]> result : results) {
                long[] samples;
                try {
                    samples = result.get();
                } catch (ExecutionException e) {
                    throw e.getCause() instanceof Exception cause ? cause : e;
                }
                all.add(samples);
                total += samples.length;
            }
            long[] merged = new long[total];
            int at = 0;
            for (long[] samples : all) {
                System.arraycopy(samples, 0, merged, at, samples.length);
                at += samples.length;
            }
            return new Latencies(merged);
        } finally {
            go.countDown();
            threads.shutdownNow();
            threads.awaitTermination(30, TimeUnit.SECONDS);
        }
    }
}
