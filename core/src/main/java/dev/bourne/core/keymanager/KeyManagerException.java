package dev.bourne.core.keymanager;

/**
 * A key manager operation that failed. Subclasses say whether a retry can help: {@link HsmUnavailableException}
 * (yes, later) and {@link HsmAuthenticationException} (no: fix the credentials).
 */
public class KeyManagerException extends Exception {
    private static final long serialVersionUID = 1L;

    public KeyManagerException(String message) {
        super(message);
    }

    public KeyManagerException(String message, Throwable cause) {
        super(message, cause);
    }
}
