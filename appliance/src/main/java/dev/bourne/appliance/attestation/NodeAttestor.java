package dev.bourne.appliance.attestation;

import dev.bourne.core.spiffeid.SpiffeId;
import java.util.Optional;

/**
 * A server-side node attestor plugin, shaped like SPIRE's: it checks the evidence an agent sent (and, for attestors
 * that need one, the answers to its challenges) and names the agent. It returns selector values only: the
 * {@link NodeAttestors catalog} stamps the selector type with the plugin's name, so no plugin can forge another's
 * selectors.
 *
 * <p>Beyond SPIRE, an attestor may attest continuously: every agent SVID renewal then carries fresh evidence answering
 * a challenge of the attestor's ({@link #renewalChallenge}, {@link #verifyRenewal}). The server keeps each challenge
 * (single use, about a minute) and hands it back with the agent's evidence, so an attestor needs no state of its own
 * between the two calls. Attestors without continuous attestation (join tokens) keep the defaults and their agents
 * renew as in SPIRE.
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
     * The challenge the agent {@code agentId} (attested by this attestor) must answer to renew its agent SVID, or empty
     * when this attestor does not attest renewals (the default) or not for this agent. Called for every renewal: a
     * non-empty answer makes evidence mandatory, so an agent cannot skip continuous attestation by not asking.
     *
     * @return at most {@link NodeAttestors#MAX_CHALLENGE_BYTES} bytes, fresh for each call (a nonce the agent cannot
     *     predict); empty for none
     * @throws AttestationException when the agent may not renew at all (a revoked enrolment, with
     *     {@link AttestationException#evictAgent()} as configured) or the attestor's store is unavailable
     */
    default Optional<byte[]> renewalChallenge(SpiffeId agentId) throws AttestationException {
        return Optional.empty();
    }

    /**
     * Verifies the agent's renewal evidence against the challenge this attestor issued for it, and returns what the
     * agent is now: the same agent ID, and selector values that may differ from those of the last attestation (a node
     * that moved from one allowed PCR policy to another). Only called after {@link #renewalChallenge} returned that
     * challenge for that agent, within its lifetime, once.
     *
     * @param challenge the challenge the server issued (and kept) for this agent
     * @param evidence the agent's answer, non-empty and bounded in size by the API
     * @throws AttestationException when the evidence does not answer the challenge ({@code REJECTED}), or the node is
     *     outside policy ({@link AttestationException#drift}, evicting the agent when the attestor is so configured)
     */
    default NodeAttestation verifyRenewal(SpiffeId agentId, byte[] challenge, byte[] evidence)
            throws AttestationException {
        throw new IllegalStateException("node attestor " + name() + " issues no renewal challenges");
    }

    /**
     * How logs show an agent ID this attestor issued. The default is the ID itself; an attestor whose IDs embed a
     * secret (a join token) shows a fingerprint instead.
     */
    default String loggable(SpiffeId agentId) {
        return agentId.toString();
    }
}
