package dev.bourne.appliance.datastore;

import dev.bourne.core.selector.Selector;

import java.util.List;
import java.util.Objects;
import java.util.TreeSet;

/**
 * A selector condition on a listing: which records' selector sets match the given set.
 *
 * @param mode how a record's selector set must relate to {@code selectors}
 * @param selectors the given set, sorted and without duplicates
 */
public record SelectorMatch(Mode mode, List<Selector> selectors) {

    /** How a record's selector set {@code R} must relate to the given set {@code G}. */
    public enum Mode {
        /** {@code R == G}. */
        EXACT,
        /**
         * {@code R} is a subset of {@code G}: the entries a workload with selectors {@code G} is entitled to
         * (workload entries match when their selectors are a subset of the workload's).
         */
        SUBSET,
        /** {@code R} is a superset of {@code G}: every given selector is present. */
        SUPERSET,
        /** {@code R} and {@code G} share at least one selector. */
        ANY
    }

    public SelectorMatch {
        Objects.requireNonNull(mode, "mode");
        Objects.requireNonNull(selectors, "selectors");
        selectors = List.copyOf(new TreeSet<>(selectors));
    }

    public static SelectorMatch exact(List<Selector> selectors) {
        return new SelectorMatch(Mode.EXACT, selectors);
    }

    public static SelectorMatch subset(List<Selector> selectors) {
        return new SelectorMatch(Mode.SUBSET, selectors);
    }

    public static SelectorMatch superset(List<Selector> selectors) {
        return new SelectorMatch(Mode.SUPERSET, selectors);
    }

    public static SelectorMatch any(List<Selector> selectors) {
        return new SelectorMatch(Mode.ANY, selectors);
    }
}
