package dev.bourne.agent.workloadattestor.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ProcStatTest {
    // 52 fields, as Linux 6.x writes them; starttime (field 22) is 4242.
    private static final String TAIL = " S 1 1234 1234 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 1 0 4242 1000 200 "
            + "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0\n";

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "1234 (java)",
            "1234 (my prog)",
            "1234 ((sd-pam))",
            "1234 (x) R 1 2 3 4 5)",
            "1234 ()",
            "1234 (a) 9 9 9 9 9 9 9 9 9 9 9 9 9 9 9 9 9 9 9 9 9)"})
    void startTime_commWithSpacesAndParentheses_foundAfterLastParenthesis(String head) {
        assertEquals(4242L, ProcStat.startTime(head + TAIL, 1234));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "1234 java S 1 2|" + ProcStat.NO_COMM,
            "(java) S 1 2|" + ProcStat.NO_COMM,
            "1234 (java S 1 2|" + ProcStat.NO_COMM,
            "999 (java) S 1|" + ProcStat.PID_MISMATCH,
            "01234 (java) S 1|" + ProcStat.PID_MISMATCH,
            "1234 (java) S 1 2 3|" + ProcStat.TOO_FEW_FIELDS,
            "1234 (java) S 1 1 1 0 -1 4 1 0 0 0 5 3 0 0 20 0 1 0 -42 1|" + ProcStat.BAD_START_TIME,
            "1234 (java) S 1 1 1 0 -1 4 1 0 0 0 5 3 0 0 20 0 1 0 4x2 1|" + ProcStat.BAD_START_TIME,
            "1234 (java) S 1 1 1 0 -1 4 1 0 0 0 5 3 0 0 20 0 1 0 99999999999999999999 1|" + ProcStat.BAD_START_TIME})
    void startTime_malformed_rejectedWithReason(String stat, String reason) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ProcStat.startTime(stat, 1234));
        assertEquals(reason, e.getMessage());
    }

    @Test
    void startTime_ofThisJvm_isWithinItsUptime() throws Exception {
        int pid = (int) ProcessHandle.current().pid();
        long ticks = ProcStat.startTime(Files.readString(Path.of("/proc/self/stat")), pid);
        // starttime is in clock ticks (USER_HZ, 100 on Linux) since boot. Compared with the JVM's own uptime on
        // monotonic clocks (/proc/uptime and the JVM's), not with wall-clock instants: btime in /proc/stat moves
        // when the wall clock is stepped, as on a machine whose clock is set after it booted.
        double secondsSinceBoot = Double.parseDouble(Files.readString(Path.of("/proc/uptime")).split(" ")[0]);
        Duration ageFromStat = Duration.ofMillis(Math.round(secondsSinceBoot * 1000) - ticks * 10);
        Duration jvmAge = Duration.ofMillis(ManagementFactory.getRuntimeMXBean().getUptime());
        assertEquals(0, ageFromStat.minus(jvmAge).abs().toSeconds(),
                "process age from stat " + ageFromStat + " vs the JVM's uptime " + jvmAge);
    }
}
