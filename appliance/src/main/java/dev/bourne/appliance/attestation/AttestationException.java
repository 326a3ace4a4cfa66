package dev.bourne.appliance.attestation;

import java.util.Objects;

/**
 * A node attestation that did not succeed. The message is a constant text safe to send to the agent (it never
 * holds the evidence itself); {@link #reason()} says which gRPC status the API answers with.
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
        /** A service the attestor needs is not reachable now; the agent may retry. */
        UNAVAILABLE
    }

    private final Reason reason;

    public AttestationException(Reason reason, String message) {
        super(message);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    public AttestationException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    public Reason reason() {
        return reason;
    }
}
