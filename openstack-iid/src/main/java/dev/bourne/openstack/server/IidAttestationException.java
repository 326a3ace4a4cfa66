package dev.bourne.openstack.server;

import java.util.Objects;

/**
 * OpenStack IID attestation was refused. The {@link #getMessage() message} is a public constant of
 * {@link IidVerifier}, {@link OpenStackServerAttestor} or {@link dev.bourne.openstack.common.IidClaims} (formatted only
 * with our own claim names), never a value taken from the document: it is safe to send to the agent. Internal detail
 * (the ledger's or Nova's failure, a parser's exception) travels only in the {@link #getCause() cause}, for the
 * server's log.
 */
public final class IidAttestationException extends Exception {

    private static final long serialVersionUID = 1L;

    /** Why attestation failed, so the appliance maps it once, at the edge. */
    public enum Kind {
        /** The agent sent something malformed or oversized: not a compact JWS, or a header or claims that do not parse. */
        INVALID_REQUEST,
        /** A well-formed document that does not prove what it claims, or an instance the server does not admit. */
        REJECTED,
        /** The server could not decide (keys never loaded, jti ledger or Nova unreachable); attestation fails closed. */
        UNAVAILABLE
    }

    private final Kind kind;

    public IidAttestationException(Kind kind, String message) {
        super(message);
        this.kind = Objects.requireNonNull(kind, "kind");
    }

    public IidAttestationException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = Objects.requireNonNull(kind, "kind");
    }

    public Kind kind() {
        return kind;
    }
}
