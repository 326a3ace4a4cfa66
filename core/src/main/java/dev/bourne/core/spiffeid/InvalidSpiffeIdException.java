package dev.bourne.core.spiffeid;

import dev.bourne.core.internal.Texts;

/**
 * A string that is not a valid SPIFFE ID or trust domain name.
 *
 * <p>{@link #reason()} is one of the constants of {@link SpiffeIdRules}, so callers and tests can tell failures apart;
 * the message adds the offending input, truncated and with control characters escaped, because it may come from an
 * untrusted caller and end up in a log.
 */
public final class InvalidSpiffeIdException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    private final String reason;

    InvalidSpiffeIdException(String kind, String input, String reason) {
        super(kind + " " + Texts.quote(input) + ": " + reason);
        this.reason = reason;
    }

    /** Why the input was rejected: one of the {@link SpiffeIdRules} constants. */
    public String reason() {
        return reason;
    }
}
