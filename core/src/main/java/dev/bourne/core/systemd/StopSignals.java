package dev.bourne.core.systemd;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * SIGTERM and SIGINT as a request for an orderly stop, which the process's main thread carries out before it exits
 * with status 0.
 *
 * <p>Why not a shutdown hook: the JVM's own handler for these signals runs the hooks and then exits with 128 + the
 * signal number (143 for SIGTERM), which systemd counts as a failure unless the unit says
 * {@code SuccessExitStatus=143}; and inside a hook the process cannot tell a stop from any other exit. So this
 * replaces the JVM's handler for exactly these two signals (through {@code sun.misc.Signal}, the supported way in the
 * {@code jdk.unsupported} module); every other way out (SIGHUP, {@code System.exit}) still runs the shutdown hooks.
 * When the JVM refuses (run with {@code -Xrs}), the default handling stays and a stop exits with 143.
 */
public final class StopSignals {
    static final List<String> SIGNALS = List.of("TERM", "INT");

    private static final Logger LOG = LoggerFactory.getLogger(StopSignals.class);

    private final CountDownLatch requested = new CountDownLatch(1);
    private final AtomicReference<String> signal = new AtomicReference<>();
    private final boolean installed;

    private StopSignals(boolean install) {
        boolean all = install;
        if (install) {
            for (String name : SIGNALS) {
                try {
                    sun.misc.Signal.handle(new sun.misc.Signal(name), s -> request("SIG" + s.getName()));
                } catch (IllegalArgumentException e) {
                    LOG.warn("cannot handle SIG{} ({}): a stop by that signal exits with status {}", name,
                            e.getMessage(), 128 + new sun.misc.Signal(name).getNumber());
                    all = false;
                }
            }
        }
        this.installed = all;
    }

    /** Handles SIGTERM and SIGINT in this process from now on. Call once, from a process's entry point. */
    public static StopSignals install() {
        return new StopSignals(true);
    }

    /** Stop requests that only {@link #request} makes (no signal handler): for tests and embedded use. */
    public static StopSignals manual() {
        return new StopSignals(false);
    }

    /** Whether both signals are handled here (a stop by signal then exits with 0). */
    public boolean installed() {
        return installed;
    }

    /** Asks for a stop, as a signal does; {@code why} is kept (the first one wins). */
    public void request(String why) {
        if (signal.compareAndSet(null, why)) {
            LOG.info("{} received: stopping", why);
        }
        requested.countDown();
    }

    /** Waits until a stop is requested, at most {@code bound}; returns whether it was. */
    public boolean await(Duration bound) throws InterruptedException {
        return requested.await(bound.toNanos(), TimeUnit.NANOSECONDS);
    }

    /** What asked for the stop ({@code SIGTERM}, {@code SIGINT} or a {@link #request} reason), once asked. */
    public Optional<String> reason() {
        return Optional.ofNullable(signal.get());
    }
}
