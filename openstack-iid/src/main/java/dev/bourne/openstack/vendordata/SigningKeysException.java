package dev.bourne.openstack.vendordata;

/**
 * The signing keys' journal cannot be read or written (damaged, unwritable data directory). Key manager failures are
 * {@link dev.bourne.core.keymanager.KeyManagerException}s instead, which say whether a retry can help.
 */
public final class SigningKeysException extends Exception {
    private static final long serialVersionUID = 1L;

    public SigningKeysException(String message) {
        super(message);
    }

    public SigningKeysException(String message, Throwable cause) {
        super(message, cause);
    }
}
