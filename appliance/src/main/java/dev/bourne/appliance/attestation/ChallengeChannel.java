package dev.bourne.appliance.attestation;

/** The challenge-response half of an attestation conversation: sends a challenge, waits for the agent's answer. */
@FunctionalInterface
public interface ChallengeChannel {

    /**
     * Sends {@code challenge} to the agent and returns its response.
     *
     * @throws AttestationException when the agent does not answer in time, or the conversation ended
     */
    byte[] challenge(byte[] challenge) throws AttestationException;

    /** A channel for attestors that never challenge: any use is a programming error. */
    static ChallengeChannel none() {
        return challenge -> {
            throw new IllegalStateException("this attestation has no challenge channel");
        };
    }
}
