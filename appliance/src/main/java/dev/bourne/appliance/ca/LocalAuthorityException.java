package dev.bourne.appliance.ca;

/**
 * A refused local authority operation ({@code localauthority x509|jwt prepare|activate|taint|revoke}): unknown ID, or
 * a transition the lifecycle does not allow. The admin API reports it as a failed precondition (or not found, see
 * {@link #notFound()}).
 */
public final class LocalAuthorityException extends CaException {
    private static final long serialVersionUID = 1L;

    /** Format arguments: kind ("X.509" or "JWT"), ID. */
    public static final String NOT_FOUND = "no %s authority with ID %s";
    /** Format arguments: kind, ID, state. */
    public static final String ACTIVATE_NOT_PREPARED = "cannot activate %s authority %s: it is %s; only a prepared"
            + " authority can be activated";
    /** Format arguments: kind, ID. */
    public static final String TAINT_ACTIVE = "cannot taint %s authority %s: it is active; prepare and activate"
            + " another one first, then taint this one once it is old";
    /** Format arguments: kind, ID. */
    public static final String TAINT_PREPARED = "cannot taint %s authority %s: it is prepared, not yet used; only an"
            + " old authority can be tainted";
    /** Format arguments: kind, ID. */
    public static final String ALREADY_TAINTED = "%s authority %s is already tainted";
    /** Format arguments: kind, ID, state. */
    public static final String REVOKE_NOT_TAINTED = "cannot revoke %s authority %s: it is %s and not tainted; taint"
            + " it first";
    /** Format argument: ID. */
    public static final String REVOKE_UPSTREAM = "cannot revoke X.509 authority %s: under an upstream authority the"
            + " bundle holds the upstream roots, not this intermediate; revoke it at the upstream CA";

    private final boolean notFound;

    LocalAuthorityException(String message, boolean notFound) {
        super(message);
        this.notFound = notFound;
    }

    /** Whether the operation named an authority that does not exist (rather than one in the wrong state). */
    public boolean notFound() {
        return notFound;
    }
}
