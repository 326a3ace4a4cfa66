package dev.bourne.appliance.ca;

/**
 * The CA could not complete an operation: the key manager, the journal or the upstream authority failed, or (as
 * {@link LocalAuthorityException}) an operator asked for a transition the rules forbid. The state is unchanged.
 */
public class CaException extends Exception {
    private static final long serialVersionUID = 1L;

    public CaException(String message) {
        super(message);
    }

    public CaException(String message, Throwable cause) {
        super(message, cause);
    }
}
