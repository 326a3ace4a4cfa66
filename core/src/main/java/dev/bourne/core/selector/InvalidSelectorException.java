package dev.bourne.core.selector;

import dev.bourne.core.internal.Texts;

/** A string that is not a valid selector; {@link #reason()} is one of the {@link Selector} reason constants. */
public final class InvalidSelectorException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    private final String reason;

    InvalidSelectorException(String input, String reason) {
        super("invalid selector " + Texts.quote(input) + ": " + reason);
        this.reason = reason;
    }

    public String reason() {
        return reason;
    }
}
