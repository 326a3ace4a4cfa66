package dev.bourne.keymanager.pkcs11.internal;

/**
 * A PKCS#11 call that failed: what was being done, the module's reason and its {@code CKR_} return value (-1 when the
 * failure was not a PKCS#11 return value, such as a library that cannot be loaded). Messages never contain a PIN.
 */
public final class Pkcs11Failure extends Exception {
    private static final long serialVersionUID = 1L;

    private final long errorCode;

    public Pkcs11Failure(String action, String reason, long errorCode, Throwable cause) {
        super("cannot " + action + ": " + reason, cause);
        this.errorCode = errorCode;
    }

    /** The {@code CKR_} value, or -1. */
    public long errorCode() {
        return errorCode;
    }

    /** True when the token refused the PIN or locked it: retrying cannot help and may lock the token. */
    public boolean isPinFailure() {
        return errorCode == Pkcs11Module.CKR_PIN_INCORRECT || errorCode == Pkcs11Module.CKR_PIN_LOCKED
                || errorCode == Pkcs11Module.CKR_PIN_EXPIRED || errorCode == Pkcs11Module.CKR_PIN_INVALID
                || errorCode == Pkcs11Module.CKR_PIN_LEN_RANGE;
    }
}
