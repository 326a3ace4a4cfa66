package dev.bourne.appliance.admin;

/**
 * A {@code RefreshBundle} call whose fetch failed or whose bundle was refused; the message is the federation client's
 * reason (about the peer, for the operator), returned with FAILED_PRECONDITION.
 */
final class RefreshFailedException extends Exception {
    private static final long serialVersionUID = 1L;

    RefreshFailedException(String message) {
        super(message);
    }
}
