package dev.bourne.agent.runtime;

import dev.bourne.agent.node.AgentSvid;
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

    /**
     * Moves this clock just past {@code agent}'s SVID renewal time (the server keeps real time), for as long as the
     * agent holds that SVID: once renewed or attested again, it is back on real time and renews no more.
     */
    void pastRenewalOf(AgentRuntime agent) {
        AgentSvid current = agent.agentSvid().orElseThrow();
        shiftWhile(Duration.between(Instant.now(), current.renewAt()).plusSeconds(1),
                () -> agent.agentSvid().map(s -> s.leaf().getSerialNumber()
                        .equals(current.leaf().getSerialNumber())).orElse(false));
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
