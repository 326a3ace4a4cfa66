package dev.bourne.agent.sync;

import dev.bourne.agent.cache.WorkloadEntry;
import java.util.Objects;

/**
 * A workload entry the server authorised this agent for, with the server's revision of it: a changed revision means
 * the entry changed and its SVID is minted again.
 *
 * @param entry the entry as the cache uses it
 * @param revision the server's revision number
 */
public record SyncedEntry(WorkloadEntry entry, long revision) {
    public SyncedEntry {
        Objects.requireNonNull(entry, "entry");
    }

    public String id() {
        return entry.entryId();
    }
}
