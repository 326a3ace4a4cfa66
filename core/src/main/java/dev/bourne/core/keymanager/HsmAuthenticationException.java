package dev.bourne.core.keymanager;

/**
 * The key store refused the credentials (wrong PIN, PIN locked). Never retried automatically: repeated wrong PINs lock
 * a token, and only an operator can fix the configuration.
 */
public class HsmAuthenticationException extends KeyManagerException {
    private static final long serialVersionUID = 1L;

    public HsmAuthenticationException(String message) {
        super(message);
    }

    public HsmAuthenticationException(String message, Throwable cause) {
        super(message, cause);
    }
}
