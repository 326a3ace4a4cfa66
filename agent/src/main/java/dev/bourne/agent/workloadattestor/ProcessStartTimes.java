package dev.bourne.agent.workloadattestor;

import dev.bourne.agent.workloadattestor.internal.BoundedFiles;
import dev.bourne.agent.workloadattestor.internal.ProcStat;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Objects;
import java.util.OptionalLong;

/** Reads a process's start time ({@code /proc/<pid>/stat} field 22), which tells two holders of one pid apart. */
public final class ProcessStartTimes {
    /** A stat line is a few hundred bytes; comm is at most 16 bytes. */
    static final int MAX_STAT_BYTES = 4096;

    private final Path procRoot;

    /** @param procRoot the proc file system, {@code /proc} in production */
    public ProcessStartTimes(Path procRoot) {
        this.procRoot = Objects.requireNonNull(procRoot, "procRoot");
    }

    /** The start time of {@code pid}, or empty when the process does not exist or its stat is unreadable. */
    public OptionalLong startTime(int pid) {
        try {
            String stat = BoundedFiles.readText(procRoot.resolve(Integer.toString(pid)).resolve("stat"),
                    MAX_STAT_BYTES);
            return OptionalLong.of(ProcStat.startTime(stat, pid));
        } catch (IOException | IllegalArgumentException e) {
            return OptionalLong.empty();
        }
    }

    /** A process as accepted now: its credentials and current start time. */
    public WorkloadProcess capture(int pid, int uid, int gid) {
        return new WorkloadProcess(pid, uid, gid, startTime(pid));
    }

    public Path procRoot() {
        return procRoot;
    }
}
