package dev.bourne.appliance.admin;

/** A request field the admin API refuses; the message is {@code "<field>: <reason>"}, safe to return to the caller. */
final class InvalidRequestException extends Exception {
    private static final long serialVersionUID = 1L;

    private final String field;
    private final String reason;

    InvalidRequestException(String field, String reason) {
        super(field + ": " + reason);
        this.field = field;
        this.reason = reason;
    }

    String field() {
        return field;
    }

    String reason() {
        return reason;
    }
}
