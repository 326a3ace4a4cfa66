package dev.bourne.appliance.attestation;

import java.util.Objects;

/**
 * A node attestation (or the continuous attestation of a renewal) that did not succeed. The message is a constant text
 * safe to send to the agent (it never holds the evidence itself); {@link #reason()} says which gRPC status the API
 * answers with, and {@link #evictAgent()} whether the server must also evict the agent.
 *
 * <p>Eviction is the attestor's decision, not the API's: only the attestor knows whether its configuration asks for it
 * (the TPM attestor's {@code evict_on_drift}) and whether the failure proves something about the node (drift from
 * policy, a revoked enrolment) rather than about one request (a stale nonce, a transient outage).
 */
public final class AttestationException extends Exception {
    private static final long serialVersionUID = 1L;

    /** Why attestation failed. */
    public enum Reason {
        /** The request is malformed: no such attestor, empty or oversized payload. */
        INVALID_REQUEST,
        /** The evidence was checked and does not prove an identity (unknown or expired token, bad quote). */
        REJECTED,
        /** The agent is banned, or already attested and not allowed to attest again. */
        REFUSED,
        /**
         * Continuous attestation: the evidence is genuine but the node's state no longer satisfies policy (PCRs moved
         * outside every allowed policy) or its enrolment was withdrawn.
         */
        DRIFT,
        /** A service the attestor needs is not reachable now; the agent may retry. */
        UNAVAILABLE
    }

    private final Reason reason;
    private final boolean evictAgent;

    public AttestationException(Reason reason, String message) {
        this(reason, message, false, null);
    }

    public AttestationException(Reason reason, String message, Throwable cause) {
        this(reason, message, false, cause);
    }

    /**
     * A failure that may also evict the agent.
     *
     * @param evictAgent whether the server deletes the attested node, so the agent must attest again from scratch;
     *     never with {@link Reason#UNAVAILABLE} (an outage says nothing about the node)
     */
    public AttestationException(Reason reason, String message, boolean evictAgent, Throwable cause) {
        super(message, cause);
        this.reason = Objects.requireNonNull(reason, "reason");
        if (evictAgent && reason == Reason.UNAVAILABLE) {
            throw new IllegalArgumentException("an unavailable service is no reason to evict an agent");
        }
        this.evictAgent = evictAgent;
    }

    /** Continuous attestation found the node outside policy; {@code evict} comes from the attestor's configuration. */
    public static AttestationException drift(String message, boolean evict) {
        return new AttestationException(Reason.DRIFT, message, evict, null);
    }

    public Reason reason() {
        return reason;
    }

    /** Whether the attestor asks the server to evict the agent (delete its attested node) because of this failure. */
    public boolean evictAgent() {
        return evictAgent;
    }
}
