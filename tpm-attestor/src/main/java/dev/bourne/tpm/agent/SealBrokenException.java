package dev.bourne.tpm.agent;

/**
 * A sealed blob could not be unsealed because the PCRs it is sealed to no longer hold the values they held when it
 * was sealed: the machine booted something else (or a PCR was extended since). The sealed secret is gone for good on
 * this boot; the agent discards the blob and attests again. Distinct from every other TPM failure, which may be
 * transient and must not make the agent throw away its credential.
 */
public final class SealBrokenException extends AgentTpmException {
    private static final long serialVersionUID = 1L;

    public static final String PCRS_CHANGED = "the PCRs the secret is sealed to changed since it was sealed";

    public SealBrokenException(String command, int responseCode, String detail) {
        super(command, responseCode, detail == null ? PCRS_CHANGED : PCRS_CHANGED + " (" + detail + ")", null);
    }
}
