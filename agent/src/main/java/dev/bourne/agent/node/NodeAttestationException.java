package dev.bourne.agent.node;

/** Node attestation cannot proceed: no evidence, a challenge the attestor cannot answer, or the server refused it. */
public final class NodeAttestationException extends Exception {
    private static final long serialVersionUID = 1L;

    public NodeAttestationException(String message) {
        super(message);
    }

    public NodeAttestationException(String message, Throwable cause) {
        super(message, cause);
    }
}
