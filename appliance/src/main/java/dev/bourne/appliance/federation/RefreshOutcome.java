package dev.bourne.appliance.federation;

import dev.bourne.core.bundle.SpiffeBundle;
import java.time.Instant;

/**
 * What one fetch of a relationship's bundle endpoint came to, and when the next one is planned.
 */
public sealed interface RefreshOutcome {

    /** When the relationship's endpoint will be fetched next. */
    Instant nextAttempt();

    /** The peer's bundle was newer (or the first) and is now stored. */
    record Stored(SpiffeBundle bundle, Instant nextAttempt) implements RefreshOutcome {
    }

    /** The peer's bundle equals the stored one. */
    record Unchanged(SpiffeBundle bundle, Instant nextAttempt) implements RefreshOutcome {
    }

    /** The fetch failed or the peer's bundle was refused; the stored bundle stays. */
    record Failed(String reason, Instant nextAttempt) implements RefreshOutcome {
    }
}
