package dev.bourne.core.bundle;

import dev.bourne.core.spiffeid.TrustDomain;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Where a validator looks up the bundle of a trust domain: the local domain's, and federated ones'.
 *
 * <p>Implementations publish immutable snapshots; a lookup never blocks on I/O.
 */
@FunctionalInterface
public interface BundleSource {

    /** The bundle of {@code trustDomain}, or empty when this source does not trust that domain at all. */
    Optional<SpiffeBundle> bundleFor(TrustDomain trustDomain);

    /** A fixed source holding exactly {@code bundles}; two bundles for one domain are a programming error. */
    static BundleSource of(Collection<SpiffeBundle> bundles) {
        Map<TrustDomain, SpiffeBundle> byDomain = new LinkedHashMap<>();
        for (SpiffeBundle bundle : bundles) {
            if (byDomain.putIfAbsent(bundle.trustDomain(), bundle) != null) {
                throw new IllegalArgumentException("two bundles for trust domain " + bundle.trustDomain());
            }
        }
        Map<TrustDomain, SpiffeBundle> snapshot = Map.copyOf(byDomain);
        return td -> Optional.ofNullable(snapshot.get(td));
    }

    /** A fixed source holding one bundle. */
    static BundleSource of(SpiffeBundle bundle) {
        return of(java.util.List.of(bundle));
    }
}
