package dev.bourne.tpm.server;

import java.util.Objects;

/**
 * TPM node attestation (or a continuous-attestation renewal) was refused. The {@link #getMessage() message} is a
 * public constant of this package or of {@code dev.bourne.tpm.common} (sometimes followed by the agent's own values,
 * such as the PCRs that differ from policy) and is safe to send to the agent; internal detail (the store's failure, a
 * TPM structure's parse error) travels only in the {@link #getCause() cause}, for the server's log.
 */
public final class TpmAttestationException extends Exception {

    private static final long serialVersionUID = 1L;

    /** Why attestation failed, so the appliance can map it once, at the edge, and decide whether to evict. */
    public enum Kind {
        /** The agent sent something malformed, oversized or out of protocol. */
        INVALID_REQUEST,
        /** Well-formed evidence that does not prove what it claims, or a TPM the server does not trust. */
        REJECTED,
        /**
         * A renewal whose quote verified but whose PCRs no longer satisfy policy: the node booted into another state.
         * The appliance evicts the agent when {@code evict_on_drift} is set.
         */
        DRIFT,
        /** The server could not decide (enrolment store unreadable); attestation fails closed. */
        UNAVAILABLE
    }

    private final Kind kind;

    public TpmAttestationException(Kind kind, String message) {
        super(message);
        this.kind = Objects.requireNonNull(kind, "kind");
    }

    public TpmAttestationException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = Objects.requireNonNull(kind, "kind");
    }

    public Kind kind() {
        return kind;
    }

    /** True when a renewal failed only because the PCRs left policy. */
    public boolean isDrift() {
        return kind == Kind.DRIFT;
    }
}
