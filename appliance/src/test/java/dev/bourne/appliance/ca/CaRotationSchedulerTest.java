package dev.bourne.appliance.ca;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class CaRotationSchedulerTest {
    @Test
    void keepsTicking_afterAFailedTick_andStopsOnClose() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        CountDownLatch threeTicks = new CountDownLatch(3);
        CaRotationScheduler scheduler = CaRotationScheduler.start(() -> {
            calls.incrementAndGet();
            threeTicks.countDown();
            if (calls.get() == 1) {
                throw new CaException("HSM unavailable");
            }
        }, Duration.ofMillis(1));
        assertTrue(threeTicks.await(30, TimeUnit.SECONDS), "ticks continue after a failure");
        scheduler.close();
        assertTrue(scheduler.isClosed());
        int afterClose = calls.get();
        // After close() returns no tick is running or scheduled: the count cannot move any more.
        scheduler.close();
        assertEquals(afterClose, calls.get());
    }

    @Test
    void nonPositiveInterval_refused() {
        assertThrows(IllegalArgumentException.class, () -> CaRotationScheduler.start(() -> { }, Duration.ZERO));
    }
}
