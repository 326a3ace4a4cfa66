package dev.bourne.core.keymanager;

/** The key store cannot be reached now (HSM down, token removed, module failing); retrying later may succeed. */
public class HsmUnavailableException extends KeyManagerException {
    private static final long serialVersionUID = 1L;

    public HsmUnavailableException(String message) {
        super(message);
    }

    public HsmUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
