package dev.bourne.appliance.datastore;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One page of a listing.
 *
 * @param items the records, in the listing's stable order
 * @param nextPageToken the token for the following page; empty when this is the last page
 * @param <T> the record type
 */
public record Page<T>(List<T> items, Optional<String> nextPageToken) {

    public Page {
        items = List.copyOf(items);
        Objects.requireNonNull(nextPageToken, "nextPageToken");
    }
}
