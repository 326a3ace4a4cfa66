package dev.bourne.appliance.ca;

import java.util.Objects;

/**
 * An SVID the CA refused to issue. The {@link #reason() reason} says whose fault it is: a bad request (the caller sent
 * something the profile does not allow: map to {@code INVALID_ARGUMENT}) or an unusable authority (the CA itself
 * cannot sign this now: map to {@code FAILED_PRECONDITION}/{@code UNAVAILABLE}). A key manager failure while signing
 * is not one of these: it surfaces as {@link dev.bourne.core.keymanager.KeyManagerException}, so an HSM outage is
 * never reported as a bad request.
 *
 * <p>Messages are built from constants (the tests assert them) and never contain key material.
 */
public abstract sealed class SvidIssuanceException extends Exception
        permits X509SvidIssuanceException, JwtSvidIssuanceException {
    private static final long serialVersionUID = 1L;

    /** Why issuance was refused. */
    public enum Reason {
        /** The CSR is not a well-formed PKCS#10 request (size, DER, structure, signature). */
        MALFORMED_REQUEST(true),
        /** The subject key is outside the allowlist (type, curve, size). */
        UNSUPPORTED_KEY(true),
        /** The request asks for something the SVID profile forbids (a CA certificate, another URI SAN). */
        FORBIDDEN_REQUEST(true),
        /** The SPIFFE ID is not one this CA may certify. */
        INVALID_SPIFFE_ID(true),
        /** A DNS name of the entry is not a valid host name. */
        INVALID_DNS_NAME(true),
        /** A JWT audience is missing, empty or too long. */
        INVALID_AUDIENCE(true),
        /** The TTL is not positive or longer than the authority's lifetime. */
        INVALID_TTL(true),
        /** The authority cannot issue now: expired, or its certificate or algorithm unusable. */
        AUTHORITY_UNUSABLE(false);

        private final boolean badRequest;

        Reason(boolean badRequest) {
            this.badRequest = badRequest;
        }

        /** Whether the caller's input is at fault (as opposed to the CA's state). */
        public boolean badRequest() {
            return badRequest;
        }
    }

    private final Reason reason;

    SvidIssuanceException(Reason reason, String message) {
        super(message);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    SvidIssuanceException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    public Reason reason() {
        return reason;
    }
}
