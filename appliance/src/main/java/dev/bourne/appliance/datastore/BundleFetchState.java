package dev.bourne.appliance.datastore;

import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * What the federation client last did for one relationship, as {@code bourne-server federation show} reports it.
 * Several servers sharing a database each record their own fetches; the last writer's state is what is shown.
 *
 * @param lastSuccessAt when a fetch last ended with the peer's bundle accepted or already stored
 * @param lastErrorAt when a fetch last failed
 * @param lastError why it failed; cleared by the next success. Peer-influenced text, so it is cut to
 *     {@link #MAX_ERROR_LENGTH} characters and control characters become spaces
 * @param nextAttemptAt when the next fetch is planned
 * @param consecutiveFailures failures since the last success (drives the backoff)
 */
public record BundleFetchState(Optional<Instant> lastSuccessAt, Optional<Instant> lastErrorAt,
        Optional<String> lastError, Optional<Instant> nextAttemptAt, int consecutiveFailures) {
    public static final int MAX_ERROR_LENGTH = 1024;
    /** No fetch recorded yet. */
    public static final BundleFetchState NONE = new BundleFetchState(Optional.empty(), Optional.empty(),
            Optional.empty(), Optional.empty(), 0);

    public BundleFetchState {
        Objects.requireNonNull(lastSuccessAt, "lastSuccessAt");
        Objects.requireNonNull(lastErrorAt, "lastErrorAt");
        Objects.requireNonNull(lastError, "lastError");
        Objects.requireNonNull(nextAttemptAt, "nextAttemptAt");
        if (consecutiveFailures < 0) {
            throw new IllegalArgumentException("consecutiveFailures cannot be negative");
        }
        lastError = lastError.map(BundleFetchState::sanitize);
    }

    private static String sanitize(String text) {
        String cut = text.length() > MAX_ERROR_LENGTH ? text.substring(0, MAX_ERROR_LENGTH) : text;
        StringBuilder out = new StringBuilder(cut.length());
        cut.codePoints().forEach(cp -> out.appendCodePoint(Character.isISOControl(cp) ? ' ' : cp));
        return out.toString();
    }
}
