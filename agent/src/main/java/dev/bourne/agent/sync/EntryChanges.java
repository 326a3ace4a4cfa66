package dev.bourne.agent.sync;

import java.util.List;

/**
 * The answer to one SyncAuthorizedEntries call: entries new to the agent or changed, and ids it must drop.
 *
 * @param changed entries to add or replace (already converted; entries the agent could not use are in
 *        {@code unusable})
 * @param removed ids of entries the agent is no longer authorised for
 * @param unusable ids of entries the server sent that the agent cannot use, each with the reason (logged, dropped)
 */
public record EntryChanges(List<SyncedEntry> changed, List<String> removed, List<String> unusable) {
    public EntryChanges {
        changed = List.copyOf(changed);
        removed = List.copyOf(removed);
        unusable = List.copyOf(unusable);
    }
}
