package dev.bourne.appliance.attestation;

/**
 * A server-side node attestor plugin, shaped like SPIRE's: it checks the evidence an agent sent (and, for attestors
 * that need one, the answers to its challenges) and names the agent. It returns selector values only: the
 * {@link NodeAttestors catalog} stamps the selector type with the plugin's name, so no plugin can forge another's
 * selectors.
 */
public interface NodeAttestor {

    /** The plugin name, as in {@code NodeAttestor "join_token"}; also the selector type and the agent ID segment. */
    String name();

    /**
     * Attests one agent.
     *
     * @param payload the agent's attestation payload (already bounded in size by the API)
     * @param challenges the channel to send challenges and receive the agent's responses
     * @throws AttestationException when the evidence does not prove an identity; its message is safe to send
     */
    NodeAttestation attest(byte[] payload, ChallengeChannel challenges) throws AttestationException;

    /**
     * How logs show an agent ID this attestor issued. The default is the ID itself; an attestor whose IDs embed a
     * secret (a join token) shows a fingerprint instead.
     */
    default String loggable(dev.bourne.core.spiffeid.SpiffeId agentId) {
        return agentId.toString();
    }
}
