package dev.bourne.bench.workload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CPU meter's reading of the kernel's counters, from files laid out as /proc lays them out. */
class CpuMeterTest {
    @TempDir
    Path proc;

    @Test
    void othersAreAllBusyTimeMinusThisProcesssOwn() throws IOException {
        // user nice system idle iowait irq softirq steal guest guest_nice
        write("cpu  1000 0 200 800 0 0 0 0 0 0", "100", "50");
        CpuMeter meter = new CpuMeter(proc);
        CpuMeter.Reading before = meter.read();
        // 200 ticks pass: 150 busy (100 of them ours), 40 idle, 10 stolen.
        write("cpu  1100 0 250 840 0 0 0 10 0 0", "170", "80");
        CpuMeter.Reading after = meter.read();
        assertNotNull(before);
        assertNotNull(after);
        assertEquals("other processes 25%, steal 5%, this benchmark 50% of all CPUs", CpuMeter.describe(before, after));
    }

    @Test
    void aCommandNameWithSpacesAndParenthesesDoesNotShiftTheFields() throws IOException {
        write("cpu  10 0 0 10 0 0 0 0 0 0", "7", "3", "java (x) y)");
        CpuMeter.Reading r = new CpuMeter(proc).read();
        assertNotNull(r);
        assertEquals(10, r.own());
    }

    @Test
    void unreadableCountersGiveNoReadingAndAnUnknownDescription() throws IOException {
        Files.writeString(proc.resolve("stat"), "intr 1 2 3\n");
        Files.createDirectories(proc.resolve("self"));
        Files.writeString(proc.resolve("self/stat"), "garbage");
        assertNull(new CpuMeter(proc).read());
        assertEquals("CPU use unknown", CpuMeter.describe(null, null));
    }

    private void write(String cpuLine, String utime, String stime) throws IOException {
        write(cpuLine, utime, stime, "java");
    }

    private void write(String cpuLine, String utime, String stime, String comm) throws IOException {
        Files.writeString(proc.resolve("stat"), cpuLine + "\ncpu0 1 2 3 4\n");
        Files.createDirectories(proc.resolve("self"));
        // Fields 1-13, then utime (14) and stime (15), then the rest.
        Files.writeString(proc.resolve("self/stat"), "4242 (" + comm + ") S 1 4242 4242 0 -1 4194304 10 0 0 0 "
                + utime + " " + stime + " 0 0 20 0 30 0 100\n");
    }
}
