package dev.bourne.appliance.ca;

/** A JWT-SVID the CA refused to issue: a rejected subject, audience or TTL, or an unusable JWT authority. */
public final class JwtSvidIssuanceException extends SvidIssuanceException {
    private static final long serialVersionUID = 1L;

    public JwtSvidIssuanceException(Reason reason, String message) {
        super(reason, message);
    }

    public JwtSvidIssuanceException(Reason reason, String message, Throwable cause) {
        super(reason, message, cause);
    }
}
