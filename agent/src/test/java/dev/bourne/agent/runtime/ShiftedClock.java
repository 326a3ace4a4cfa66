package dev.bourne.agent.runtime;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;

/** The real clock moved by an offset while a condition holds: the agent lives ahead, the server in real time. */
final class ShiftedClock extends Clock {
    private final AtomicReference<Duration> offset = new AtomicReference<>(Duration.ZERO);
    private volatile BooleanSupplier active = () -> true;

    void shiftWhile(Duration by, BooleanSupplier condition) {
        active = condition;
        offset.set(by);
    }

    @Override
    public ZoneId getZone() {
        return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
        return this;
    }

    @Override
    public Instant instant() {
        return active.getAsBoolean() ? Instant.now().plus(offset.get()) : Instant.now();
    }
}
