package dev.bourne.core.bundle;

/**
 * A SPIFFE bundle document that cannot be accepted, with a message naming the part that is wrong
 * (for example {@code keys[2]: jwt-svid key has no "kid"}).
 */
public final class InvalidBundleException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public InvalidBundleException(String message) {
        super(message);
    }

    public InvalidBundleException(String message, Throwable cause) {
        super(message, cause);
    }
}
