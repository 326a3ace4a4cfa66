package dev.bourne.agent.workloadattestor;

import java.util.OptionalLong;

/**
 * The process at the other end of a Workload API connection, as the kernel reported it through {@code SO_PEERCRED}
 * when the connection was accepted, plus the process start time read from {@code /proc/<pid>/stat} at that moment.
 *
 * <p>The start time pins the pid to one process: pids are reused, and a caller that exits while its connection
 * lives on (a forked child keeps the socket) could otherwise be attested as whichever process gets the pid next.
 *
 * @param pid the connecting process
 * @param uid its effective uid at connect time (unsigned, as {@code int} bits)
 * @param gid its effective gid at connect time (unsigned, as {@code int} bits)
 * @param startTime {@code starttime} from {@code /proc/<pid>/stat} at accept, empty when it could not be read (the
 *        process was already gone): such a caller is never attested
 */
public record WorkloadProcess(int pid, int uid, int gid, OptionalLong startTime) {

    public WorkloadProcess {
        if (pid <= 0) {
            throw new IllegalArgumentException("pid must be positive, got " + pid);
        }
        java.util.Objects.requireNonNull(startTime, "startTime");
    }

    @Override
    public String toString() {
        return "pid " + pid + " uid " + Integer.toUnsignedString(uid) + " gid " + Integer.toUnsignedString(gid);
    }
}
