package dev.bourne.agent.node;

/**
 * The agent side of a node attestation method (SPIRE's agent NodeAttestor): evidence to open the AttestAgent stream,
 * then an answer to each challenge the server's attestor sends, until the server returns the agent SVID.
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
}
