package dev.bourne.appliance.datastore;

/**
 * Thrown when input is malformed, oversized or inconsistent. {@link #field()} names the field (such as
 * {@code selectors} or {@code dns_names[2]}) and {@link #reason()} is one of the {@link Limits} reason constants, so
 * tests and callers can match them exactly.
 */
public final class InvalidArgumentException extends DataStoreException {
    private static final long serialVersionUID = 1L;

    private final String field;
    private final String reason;

    public InvalidArgumentException(String field, String reason) {
        super(field + ": " + reason);
        this.field = field;
        this.reason = reason;
    }

    public String field() {
        return field;
    }

    public String reason() {
        return reason;
    }

    @Override
    public Kind kind() {
        return Kind.INVALID_ARGUMENT;
    }
}
