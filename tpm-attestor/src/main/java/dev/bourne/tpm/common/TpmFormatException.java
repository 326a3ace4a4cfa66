package dev.bourne.tpm.common;

/**
 * A TPM structure, event log or attestation message that is malformed, truncated, oversized or uses something Bourne
 * does not accept. Unchecked, like every parse error of bad input; the message names the structure and field and is
 * safe to send to the agent that sent the bytes.
 */
public final class TpmFormatException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public TpmFormatException(String message) {
        super(message);
    }

    public TpmFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
