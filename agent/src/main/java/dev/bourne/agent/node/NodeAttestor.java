package dev.bourne.agent.node;

import java.util.Optional;

/**
 * The agent side of a node attestation method (SPIRE's agent NodeAttestor): evidence to open the AttestAgent stream,
 * then an answer to each challenge the server's attestor sends, until the server returns the agent SVID. An attestor
 * with continuous attestation also answers the server's challenge at every agent SVID renewal
 * ({@link #renewalEvidence}).
 */
public interface NodeAttestor {

    /** The plugin name, the {@code AttestationData.type} the server dispatches on ({@code join_token}, {@code tpm}). */
    String name();

    /** The attestation payload sent with the first message. */
    byte[] payload() throws NodeAttestationException;

    /** The response to one server challenge. */
    byte[] answer(byte[] challenge) throws NodeAttestationException;

    /**
     * Whether the same evidence can attest again after eviction or expiry (a TPM can, a join token cannot: it is
     * single use).
     */
    boolean reusable();

    /**
     * Continuous attestation: the evidence answering the server's renewal challenge (from {@code NewRenewalChallenge}),
     * sent with {@code RenewAgent}. The default, for attestors without continuous attestation, is empty: the renewal
     * then goes without evidence, and a server that required some refuses it.
     *
     * @param challenge the server's challenge, non-empty and bounded in size; hostile until the attestor parsed it
     * @throws NodeAttestationException when the challenge is malformed or the evidence cannot be produced now
     */
    default Optional<byte[]> renewalEvidence(byte[] challenge) throws NodeAttestationException {
        return Optional.empty();
    }
}
