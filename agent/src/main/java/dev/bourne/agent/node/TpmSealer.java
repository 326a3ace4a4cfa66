package dev.bourne.agent.node;

import dev.bourne.tpm.agent.AgentTpmException;

/**
 * Seals small secrets to this node's TPM under its PCR policy (the calls {@link AgentStateStore} makes for the sealed
 * agent credential); {@link NodeTpm} is the implementation.
 */
public interface TpmSealer {

    /**
     * Seals {@code secret} (1 to 128 bytes) to the configured PCRs' current values.
     *
     * @return the TPM's sealed blob ({@link dev.bourne.tpm.agent.SealedBlob} encoding)
     */
    byte[] seal(byte[] secret) throws AgentTpmException;

    /**
     * Unseals a blob made by {@link #seal}.
     *
     * @throws dev.bourne.tpm.agent.SealBrokenException when the PCRs no longer hold the sealed values (for good on
     *     this boot)
     * @throws AgentTpmException any other TPM failure, possibly transient
     */
    byte[] unseal(byte[] blob) throws AgentTpmException;
}
