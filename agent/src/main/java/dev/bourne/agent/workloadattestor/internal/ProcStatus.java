package dev.bourne.agent.workloadattestor.internal;

import java.util.ArrayList;
import java.util.List;

/**
 * Parses {@code /proc/<pid>/status} (proc(5)) for the supplementary groups: {@code SO_PEERCRED} carries only the
 * effective gid, so the {@code Groups:} line is where the kernel tells the rest.
 */
public final class ProcStatus {
    /** The kernel's NGROUPS_MAX. */
    public static final int MAX_GROUPS = 65536;

    public static final String NO_GROUPS_LINE = "status has no Groups: line";
    public static final String BAD_GROUP = "status Groups: line has a value that is not a gid";
    public static final String TOO_MANY_GROUPS = "status Groups: line lists more than " + MAX_GROUPS + " groups";

    private ProcStatus() {
    }

    /** The supplementary group ids, in the kernel's order, without duplicates. */
    public static List<Long> supplementaryGroups(String status) {
        for (String line : status.split("\n")) {
            if (line.startsWith("Groups:")) {
                String[] values = line.substring("Groups:".length()).trim().split("\\s+");
                List<Long> gids = new ArrayList<>();
                for (String value : values) {
                    if (value.isEmpty()) {
                        continue;
                    }
                    long gid = Ids.parseId(value);
                    if (gid < 0) {
                        throw new IllegalArgumentException(BAD_GROUP);
                    }
                    if (!gids.contains(gid)) {
                        if (gids.size() == MAX_GROUPS) {
                            throw new IllegalArgumentException(TOO_MANY_GROUPS);
                        }
                        gids.add(gid);
                    }
                }
                return List.copyOf(gids);
            }
        }
        throw new IllegalArgumentException(NO_GROUPS_LINE);
    }
}
