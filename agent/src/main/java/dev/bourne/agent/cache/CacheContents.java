package dev.bourne.agent.cache;

import dev.bourne.agent.workloadapi.WorkloadIdentity;
import dev.bourne.agent.workloadapi.WorkloadX509Svid;
import dev.bourne.core.bundle.SpiffeBundle;
import dev.bourne.core.selector.Selector;
import dev.bourne.core.spiffeid.TrustDomain;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * One immutable state of the agent's identity cache: the bundle of its trust domain, federated bundles, the workload
 * entries it is authorised for, and the X.509-SVID it holds for each entry. The cache swaps whole instances, so a
 * workload never sees an SVID from one state with a bundle from another.
 *
 * @param bundle the agent's own trust domain bundle
 * @param federatedBundles bundles of other trust domains, by domain
 * @param entries workload entries, in the server's order
 * @param svids the current SVID of each entry, by entry id; an entry without one is skipped until it has one
 */
public record CacheContents(SpiffeBundle bundle, Map<TrustDomain, SpiffeBundle> federatedBundles,
        List<WorkloadEntry> entries, Map<String, WorkloadX509Svid> svids) {

    public CacheContents {
        Objects.requireNonNull(bundle, "bundle");
        federatedBundles = Collections.unmodifiableMap(new LinkedHashMap<>(federatedBundles));
        entries = List.copyOf(entries);
        svids = Map.copyOf(svids);
        if (federatedBundles.containsKey(bundle.trustDomain())) {
            throw new IllegalArgumentException("the own trust domain " + bundle.trustDomain()
                    + " cannot also be federated");
        }
        federatedBundles.forEach((td, b) -> {
            if (!b.trustDomain().equals(td)) {
                throw new IllegalArgumentException("bundle of " + b.trustDomain() + " filed under " + td);
            }
        });
        Set<String> ids = new HashSet<>();
        for (WorkloadEntry entry : entries) {
            if (!ids.add(entry.entryId())) {
                throw new IllegalArgumentException("two entries with id " + entry.entryId());
            }
        }
        svids.forEach((entryId, svid) -> {
            if (!svid.entryId().equals(entryId)) {
                throw new IllegalArgumentException("SVID of entry " + svid.entryId() + " filed under " + entryId);
            }
        });
        for (WorkloadEntry entry : entries) {
            WorkloadX509Svid svid = svids.get(entry.entryId());
            if (svid != null && !svid.spiffeId().equals(entry.spiffeId())) {
                throw new IllegalArgumentException("SVID of entry " + entry.entryId() + " names " + svid.spiffeId()
                        + ", the entry " + entry.spiffeId());
            }
        }
    }

    /** Contents with a bundle and nothing else: the agent is ready but has no entries yet. */
    public static CacheContents ofBundle(SpiffeBundle bundle) {
        return new CacheContents(bundle, Map.of(), List.of(), Map.of());
    }

    /** The identity a workload with {@code workloadSelectors} gets from these contents. */
    public WorkloadIdentity identityFor(Set<Selector> workloadSelectors) {
        List<WorkloadX509Svid> matched = new ArrayList<>();
        Map<TrustDomain, SpiffeBundle> federated = new LinkedHashMap<>();
        for (WorkloadEntry entry : entries) {
            WorkloadX509Svid svid = svids.get(entry.entryId());
            if (svid == null || !entry.matches(workloadSelectors)) {
                continue;
            }
            matched.add(svid);
            for (TrustDomain td : entry.federatesWith()) {
                SpiffeBundle b = federatedBundles.get(td);
                if (b != null) {
                    federated.put(td, b);
                }
            }
        }
        return new WorkloadIdentity(matched, bundle, federated);
    }

    /** These contents with {@code svid} replacing the SVID of its entry (a rotation). */
    public CacheContents withSvid(WorkloadX509Svid svid) {
        Map<String, WorkloadX509Svid> next = new LinkedHashMap<>(svids);
        next.put(svid.entryId(), svid);
        return new CacheContents(bundle, federatedBundles, entries, next);
    }

    /** Every bundle: the own one followed by the federated ones. */
    public List<SpiffeBundle> allBundles() {
        List<SpiffeBundle> all = new ArrayList<>();
        all.add(bundle);
        all.addAll(federatedBundles.values());
        return all;
    }
}
