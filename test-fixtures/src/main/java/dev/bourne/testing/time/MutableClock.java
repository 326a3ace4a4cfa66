package dev.bourne.testing.time;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A UTC clock that stands still until a test moves it ({@link #advance}, {@link #set}), so lifetimes, expiry and
 * rotation timelines are tested without waiting or sleeping. Pass it wherever production code takes a {@link Clock}.
 *
 * <p>Start it at the real time ({@link #MutableClock()}) when what it stamps must also pass checks made against the
 * system clock (the JDK's certificate validity checks, a TLS peer); start it at a fixed instant
 * ({@link #MutableClock(Instant)}, {@link #at(String)}) when a test asserts exact times. Safe to read and move from
 * several threads.
 */
public final class MutableClock extends Clock {
    private final AtomicReference<Instant> now;

    /** A clock standing at {@code start}. */
    public MutableClock(Instant start) {
        this.now = new AtomicReference<>(Objects.requireNonNull(start, "start"));
    }

    /** A clock standing at the current system time. */
    public MutableClock() {
        this(Instant.now());
    }

    /** A clock standing at an ISO-8601 instant such as {@code 2026-03-01T10:00:00Z}. */
    public static MutableClock at(String isoInstant) {
        return new MutableClock(Instant.parse(isoInstant));
    }

    /** Moves the clock forward by {@code step} (backward when it is negative). */
    public void advance(Duration step) {
        Objects.requireNonNull(step, "step");
        now.updateAndGet(current -> current.plus(step));
    }

    /** Puts the clock at {@code instant}. */
    public void set(Instant instant) {
        now.set(Objects.requireNonNull(instant, "instant"));
    }

    @Override
    public Instant instant() {
        return now.get();
    }

    @Override
    public ZoneId getZone() {
        return ZoneOffset.UTC;
    }

    /** Always this clock: the tests read instants, and a copy in another zone would no longer move with this one. */
    @Override
    public Clock withZone(ZoneId zone) {
        return this;
    }
}
