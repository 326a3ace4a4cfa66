package dev.bourne.appliance.datastore;

import dev.bourne.core.spiffeid.SpiffeId;

import java.util.Objects;
import java.util.Optional;

/**
 * Which registration entries a listing or count covers; every condition present must hold.
 *
 * @param parentId only entries with this parent ID
 * @param spiffeId only entries with this SPIFFE ID
 * @param selectors only entries whose selector set matches
 */
public record EntryFilter(Optional<SpiffeId> parentId, Optional<SpiffeId> spiffeId,
        Optional<SelectorMatch> selectors) {

    public EntryFilter {
        Objects.requireNonNull(parentId, "parentId");
        Objects.requireNonNull(spiffeId, "spiffeId");
        Objects.requireNonNull(selectors, "selectors");
    }

    /** Every entry. */
    public static EntryFilter all() {
        return new EntryFilter(Optional.empty(), Optional.empty(), Optional.empty());
    }

    public EntryFilter withParentId(SpiffeId value) {
        return new EntryFilter(Optional.of(value), spiffeId, selectors);
    }

    public EntryFilter withSpiffeId(SpiffeId value) {
        return new EntryFilter(parentId, Optional.of(value), selectors);
    }

    public EntryFilter withSelectors(SelectorMatch value) {
        return new EntryFilter(parentId, spiffeId, Optional.of(value));
    }
}
