package dev.bourne.appliance.ca;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Calls {@link CaManager#rotate()} every few seconds on a daemon thread of its own, so rotation happens while the
 * server runs. A failing tick (HSM down, journal unwritable) is logged and retried on the next tick: the active
 * authority keeps signing meanwhile. Closing stops the thread.
 */
public final class CaRotationScheduler implements AutoCloseable {
    /** SPIRE's rotation check interval. */
    public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(10);

    /** What the scheduler calls; {@link CaManager#rotate()} in production. */
    @FunctionalInterface
    public interface Tick {
        void run() throws CaException;
    }

    private static final Logger LOG = LoggerFactory.getLogger(CaRotationScheduler.class);

    private final ScheduledExecutorService executor;

    private CaRotationScheduler(ScheduledExecutorService executor) {
        this.executor = executor;
    }

    /** Rotates {@code manager} every {@code interval}, the first time at once. */
    public static CaRotationScheduler start(CaManager manager, Duration interval) {
        Objects.requireNonNull(manager, "manager");
        return start(manager::rotate, interval);
    }

    /** Runs {@code tick} every {@code interval}, the first time at once. */
    public static CaRotationScheduler start(Tick tick, Duration interval) {
        Objects.requireNonNull(tick, "tick");
        if (interval.isNegative() || interval.isZero()) {
            throw new IllegalArgumentException("rotation interval must be positive");
        }
        ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "bourne-ca-rotation");
            thread.setDaemon(true);
            return thread;
        });
        executor.scheduleWithFixedDelay(() -> {
            try {
                tick.run();
            } catch (CaException | RuntimeException e) {
                // Never let an exception escape: the executor would silently stop scheduling.
                LOG.error("CA rotation failed, retrying at the next tick: {}", e.getMessage());
            }
        }, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
        return new CaRotationScheduler(executor);
    }

    /** Whether {@link #close()} was called. */
    public boolean isClosed() {
        return executor.isShutdown();
    }

    /**
     * Stops scheduling and lets a running tick finish (up to 5 seconds: a tick may be generating a key on the
     * HSM), then interrupts it.
     */
    @Override
    public void close() {
        executor.shutdown();
        try {
            if (!executor.awaitTermination(5, TimeUnit.SECONDS)) {
                LOG.warn("a CA rotation tick did not finish within 5 seconds; interrupting it");
                executor.shutdownNow();
            }
        } catch (InterruptedException e) {
            executor.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }
}
