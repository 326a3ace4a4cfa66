package dev.bourne.agent.sync;

import dev.bourne.core.spiffeid.TrustDomain;
import java.util.List;
import java.util.Objects;

/**
 * The answer to one SyncAuthorizedEntries call: entries new to the agent or changed, ids it must drop, entries it
 * holds on to by revision without serving them, and the same for the federated bundles its entries need.
 *
 * @param changed entries to add or replace
 * @param removed ids of entries the agent is no longer authorised for
 * @param ignored entries the server sent that workloads never receive (node aliases, entries the agent cannot use);
 *        their revisions are remembered so the server does not send them again until they change
 * @param federatedBundles federated bundles new to the agent or changed
 * @param removedFederatedBundles trust domains whose bundles the agent must drop
 * @param bundleFailures why bundles the server sent were not usable, for the log; they are asked for again
 */
public record EntryChanges(List<SyncedEntry> changed, List<String> removed, List<Ignored> ignored,
        List<FederatedBundleUpdate> federatedBundles, List<TrustDomain> removedFederatedBundles,
        List<String> bundleFailures) {
    public EntryChanges {
        changed = List.copyOf(changed);
        removed = List.copyOf(removed);
        ignored = List.copyOf(ignored);
        federatedBundles = List.copyOf(federatedBundles);
        removedFederatedBundles = List.copyOf(removedFederatedBundles);
        bundleFailures = List.copyOf(bundleFailures);
    }

    /** Changes of entries only: no federated bundle changed. */
    public EntryChanges(List<SyncedEntry> changed, List<String> removed, List<Ignored> ignored) {
        this(changed, removed, ignored, List.of(), List.of(), List.of());
    }

    /**
     * An entry the agent does not serve.
     *
     * @param id the entry id
     * @param revision its revision
     * @param reason why, for the log
     * @param expected true for entries that are never for workloads (node aliases): not worth a warning
     */
    public record Ignored(String id, long revision, String reason, boolean expected) {
        public Ignored {
            Objects.requireNonNull(id, "id");
            Objects.requireNonNull(reason, "reason");
        }
    }
}
