package dev.bourne.appliance.admin;

import dev.bourne.appliance.datastore.Limits;
import dev.bourne.appliance.datastore.PageRequest;
import java.util.Optional;

/** Bounds on admin requests, so one call cannot ask for unbounded work. */
final class AdminLimits {
    /** The most items of one batch call. */
    static final int MAX_BATCH = 500;
    /** The longest a join token may stay valid: SPIRE has no cap, but a forgotten token is a standing credential. */
    static final java.time.Duration MAX_JOIN_TOKEN_TTL = java.time.Duration.ofDays(30);
    static final String BATCH_EMPTY = "at least one item is required";
    static final String BATCH_TOO_LARGE = "more than " + MAX_BATCH + " items";
    static final String PAGE_SIZE_INVALID = "must be 0 (everything) to " + Limits.MAX_PAGE_SIZE;
    static final String PAGE_TOKEN_TOO_LONG = "is longer than " + Limits.MAX_PAGE_TOKEN_LENGTH + " characters";

    private AdminLimits() {
    }

    static void batch(String field, int count) throws InvalidRequestException {
        if (count == 0) {
            throw new InvalidRequestException(field, BATCH_EMPTY);
        }
        if (count > MAX_BATCH) {
            throw new InvalidRequestException(field, BATCH_TOO_LARGE);
        }
    }

    static PageRequest page(int pageSize, String pageToken) throws InvalidRequestException {
        if (pageSize < 0 || pageSize > Limits.MAX_PAGE_SIZE) {
            throw new InvalidRequestException("page_size", PAGE_SIZE_INVALID);
        }
        if (pageToken.length() > Limits.MAX_PAGE_TOKEN_LENGTH) {
            throw new InvalidRequestException("page_token", PAGE_TOKEN_TOO_LONG);
        }
        return new PageRequest(pageSize, pageToken.isEmpty() ? Optional.empty() : Optional.of(pageToken));
    }
}
