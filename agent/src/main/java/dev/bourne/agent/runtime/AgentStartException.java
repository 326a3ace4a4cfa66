package dev.bourne.agent.runtime;

/** The agent cannot start: a configuration the runtime cannot use, or a socket or directory it cannot open. */
public final class AgentStartException extends Exception {
    private static final long serialVersionUID = 1L;

    public AgentStartException(String message) {
        super(message);
    }

    public AgentStartException(String message, Throwable cause) {
        super(message, cause);
    }
}
