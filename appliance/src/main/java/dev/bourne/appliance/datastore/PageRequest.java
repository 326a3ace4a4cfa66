package dev.bourne.appliance.datastore;

import java.util.Objects;
import java.util.Optional;

/**
 * Which page of a listing to return. Pages follow a stable order (entry ID, node SPIFFE ID), so a record created or
 * deleted between two calls never shifts the others out of a page.
 *
 * @param pageSize the most records to return, 1 to {@link Limits#MAX_PAGE_SIZE}, or 0 for everything at once
 * @param pageToken {@link Page#nextPageToken()} of the previous page, or empty for the first page
 */
public record PageRequest(int pageSize, Optional<String> pageToken) {

    /** Everything in one page. */
    public static final PageRequest ALL = new PageRequest(0, Optional.empty());

    public PageRequest {
        Objects.requireNonNull(pageToken, "pageToken");
    }

    public static PageRequest first(int pageSize) {
        return new PageRequest(pageSize, Optional.empty());
    }

    /** The page after {@code previous}, of the same size; only meaningful when it has a next page token. */
    public static PageRequest after(int pageSize, Page<?> previous) {
        return new PageRequest(pageSize, previous.nextPageToken());
    }
}
