package dev.bourne.appliance.agentapi;

import java.util.Objects;

/**
 * A refusal the agent API decided itself (not the datastore's or the CA's): its message is a constant text safe to
 * send to the caller, and {@link #code()} picks the gRPC status at the edge ({@link ApiErrors}).
 */
public final class ApiException extends Exception {
    private static final long serialVersionUID = 1L;

    /** The API's refusal kinds; each maps to exactly one gRPC status code. */
    public enum Code {
        INVALID_ARGUMENT,
        UNAUTHENTICATED,
        PERMISSION_DENIED,
        NOT_FOUND,
        FAILED_PRECONDITION,
        UNAVAILABLE
    }

    private final Code code;

    public ApiException(Code code, String message) {
        super(message);
        this.code = Objects.requireNonNull(code, "code");
    }

    public Code code() {
        return code;
    }
}
