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
        REJECTED
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
