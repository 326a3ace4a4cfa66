package dev.bourne.bench.workload;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * How busy the machine was while a phase ran, from the kernel's counters: all CPUs' busy time ({@code /proc/stat})
 * minus this process's own ({@code /proc/self/stat}) is what other processes took, the figure that says how much a
 * phase's numbers were disturbed. A benchmark's load average would count its own client threads, so it is no use here.
 */
public final class CpuMeter {
    private final Path procStat;
    private final Path selfStat;

    /** One reading, in clock ticks. */
    public record Reading(long total, long idle, long steal, long own, long nanos) {
    }

    public CpuMeter(Path proc) {
        this.procStat = proc.resolve("stat");
        this.selfStat = proc.resolve("self/stat");
    }

    /** A reading now, or null when the counters cannot be read (the phase is then reported without it). */
    public Reading read() {
        try {
            String cpu = Files.readAllLines(procStat).get(0);
            String[] f = cpu.strip().split("\\s+");
            if (!f[0].equals("cpu") || f.length < 9) {
                return null;
            }
            long total = 0;
            // user nice system idle iowait irq softirq steal; guest time is already inside user.
            for (int i = 1; i <= 8; i++) {
                total += Long.parseLong(f[i]);
            }
            long idle = Long.parseLong(f[4]) + Long.parseLong(f[5]);
            long steal = Long.parseLong(f[8]);
            String self = Files.readString(selfStat);
            // Fields after the command name, which may contain spaces and parentheses: split after the last ')'.
            String[] s = self.substring(self.lastIndexOf(')') + 2).split(" ");
            long own = Long.parseLong(s[11]) + Long.parseLong(s[12]); // utime, stime (fields 14 and 15)
            return new Reading(total, idle, steal, own, System.nanoTime());
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** What happened between two readings, as shares of all CPUs' time: "others 12%, steal 1%, this process 80%". */
    public static String describe(Reading from, Reading to) {
        if (from == null || to == null || to.total <= from.total) {
            return "CPU use unknown";
        }
        double total = to.total - from.total;
        double busy = total - (to.idle - from.idle) - (to.steal - from.steal);
        // Per-process ticks are sampled per thread at other moments than the CPU totals: clamp the rounding.
        double own = Math.min(to.own - from.own, busy);
        double others = Math.max(0, busy - own);
        return String.format(Locale.ROOT, "other processes %.0f%%, steal %.0f%%, this benchmark %.0f%% of all CPUs",
                100 * others / total, 100 * (to.steal - from.steal) / total, 100 * own / total);
    }
}
