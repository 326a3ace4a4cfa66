package dev.bourne.agent.node;

/**
 * The saved agent key is sealed to the TPM, and the TPM failed for another reason than changed PCRs (unreachable,
 * busy, out of memory, an I/O error). The sealed key is kept: the agent retries later instead of throwing away a
 * credential that may open on the next try.
 */
public final class SealedKeyUnavailableException extends Exception {
    private static final long serialVersionUID = 1L;

    public static final String UNSEAL_FAILED = "cannot unseal the saved agent key (retrying): ";

    public SealedKeyUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
