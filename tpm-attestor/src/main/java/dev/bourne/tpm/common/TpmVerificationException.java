package dev.bourne.tpm.common;

/**
 * Evidence that does not prove what it claims: an attestation key that is not a restricted TPM-resident signing key,
 * a quote whose signature, nonce, PCR selection or PCR digest does not verify. Checked, because every caller must
 * refuse the node. The message is always one of the public constants of the class that threw it, safe to send to the
 * agent; a cause, when present, carries detail for the server's log only.
 */
public final class TpmVerificationException extends Exception {
    private static final long serialVersionUID = 1L;

    public TpmVerificationException(String message) {
        super(message);
    }

    public TpmVerificationException(String message, Throwable cause) {
        super(message, cause);
    }
}
