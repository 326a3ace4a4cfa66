package dev.bourne.agent.node;

/**
 * A call to the Bourne server failed. {@link Kind} tells the caller what to do: retry later, attest again, or give up
 * on this request.
 */
public final class ServerCallException extends Exception {
    private static final long serialVersionUID = 1L;

    /** What a failed call means for the agent. */
    public enum Kind {
        /** The server could not be reached or is not serving: retry with backoff, keep serving the cache. */
        UNAVAILABLE,
        /** The server does not know this agent any more (evicted, expired, banned): attest again. */
        AGENT_UNKNOWN,
        /** The server refused this request (bad CSR, unknown entry): do not retry the same request. */
        REJECTED,
        /**
         * Continuous attestation refused an agent SVID renewal (evidence missing, stale or refused; the node drifted
         * from policy, and may have been evicted): attest again if the attestor allows, else keep the current SVID
         * until it expires and report why.
         */
        ATTESTATION_REFUSED
    }

    private final Kind kind;

    public ServerCallException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public ServerCallException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
