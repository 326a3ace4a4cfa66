package dev.bourne.agent.workloadapi;

import dev.bourne.core.bundle.SpiffeBundle;
import dev.bourne.core.spiffeid.TrustDomain;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What one attested workload may receive at one moment: its X.509-SVIDs (one per matching entry), the bundle of the
 * agent's trust domain, and the bundles of the domains its entries federate with. Immutable.
 *
 * @param svids the SVIDs of every entry whose selectors the workload has, in entry order; empty means the workload
 *        has no identity (PERMISSION_DENIED)
 * @param bundle the agent's own trust domain bundle
 * @param federatedBundles bundles of other trust domains the workload's entries federate with
 */
public record WorkloadIdentity(List<WorkloadX509Svid> svids, SpiffeBundle bundle,
        Map<TrustDomain, SpiffeBundle> federatedBundles) {

    public WorkloadIdentity {
        svids = List.copyOf(svids);
        Objects.requireNonNull(bundle, "bundle");
        federatedBundles = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(federatedBundles));
    }

    /** Whether any entry matched. */
    public boolean hasIdentity() {
        return !svids.isEmpty();
    }

    /** The own bundle followed by the federated ones. */
    public List<SpiffeBundle> allBundles() {
        List<SpiffeBundle> all = new java.util.ArrayList<>();
        all.add(bundle);
        all.addAll(federatedBundles.values());
        return List.copyOf(all);
    }
}
