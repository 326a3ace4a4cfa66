package dev.bourne.agent.cache;

import dev.bourne.core.selector.Selector;
import dev.bourne.core.spiffeid.SpiffeId;
import dev.bourne.core.spiffeid.TrustDomain;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * A workload registration entry as the agent knows it: a workload whose selectors include all of {@link #selectors}
 * gets {@link #spiffeId}.
 *
 * @param entryId the server's entry id
 * @param spiffeId the identity the entry grants
 * @param selectors the selectors a workload must all have; never empty (an empty set would match every process)
 * @param federatesWith trust domains whose bundles workloads of this entry also receive
 * @param hint an operator's label for workloads choosing among several SVIDs, or ""
 */
public record WorkloadEntry(String entryId, SpiffeId spiffeId, Set<Selector> selectors, Set<TrustDomain> federatesWith,
        String hint) {

    public WorkloadEntry {
        Objects.requireNonNull(entryId, "entryId");
        Objects.requireNonNull(spiffeId, "spiffeId");
        selectors = Set.copyOf(selectors);
        federatesWith = Set.copyOf(federatesWith);
        Objects.requireNonNull(hint, "hint");
        if (entryId.isEmpty()) {
            throw new IllegalArgumentException("entry id must not be empty");
        }
        if (selectors.isEmpty()) {
            throw new IllegalArgumentException("entry " + entryId + " has no selectors");
        }
    }

    /** An entry without federation or hint. */
    public static WorkloadEntry of(String entryId, SpiffeId spiffeId, Selector... selectors) {
        return new WorkloadEntry(entryId, spiffeId, Set.of(selectors), Set.of(), "");
    }

    /** Whether a workload with {@code workloadSelectors} matches: the entry's selectors are a subset of them. */
    public boolean matches(Set<Selector> workloadSelectors) {
        return workloadSelectors.containsAll(selectors);
    }
}
