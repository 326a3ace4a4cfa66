package dev.bourne.agent.workloadattestor.internal;

/**
 * Parses {@code /proc/<pid>/stat} (proc(5)): {@code pid (comm) state ppid ... starttime ...}.
 *
 * <p>{@code comm} is the executable's name as the process chose it: up to 16 bytes that may contain spaces and
 * parentheses, so a naive split on spaces would let a process called {@code "x) R 1 2 3"} shift every field and
 * forge its own start time. The fields after {@code comm} are found after the <em>last</em> closing parenthesis,
 * which the kernel writes itself.
 */
public final class ProcStat {
    /** {@code starttime} is field 22; fields after {@code comm} start at field 3. */
    private static final int START_TIME_INDEX = 22 - 3;

    public static final String NO_COMM = "stat has no (comm) field";
    public static final String PID_MISMATCH = "stat belongs to another pid";
    public static final String TOO_FEW_FIELDS = "stat has fewer than 22 fields";
    public static final String BAD_START_TIME = "stat field 22 (starttime) is not a number";

    private ProcStat() {
    }

    /**
     * The process start time in clock ticks since boot, from the content of {@code /proc/<pid>/stat}.
     *
     * @param expectedPid the pid the file was read for: the first field must name it
     * @throws IllegalArgumentException with one of this class's constants when the content is malformed
     */
    public static long startTime(String stat, int expectedPid) {
        int open = stat.indexOf(" (");
        int close = stat.lastIndexOf(')');
        if (open <= 0 || close < open) {
            throw new IllegalArgumentException(NO_COMM);
        }
        String pid = stat.substring(0, open);
        if (!pid.equals(Integer.toString(expectedPid))) {
            throw new IllegalArgumentException(PID_MISMATCH);
        }
        String[] fields = stat.substring(close + 1).trim().split(" ");
        if (fields.length <= START_TIME_INDEX) {
            throw new IllegalArgumentException(TOO_FEW_FIELDS);
        }
        String start = fields[START_TIME_INDEX];
        if (start.isEmpty() || start.length() > 20 || !start.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new IllegalArgumentException(BAD_START_TIME);
        }
        try {
            return Long.parseLong(start);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(BAD_START_TIME);
        }
    }
}
