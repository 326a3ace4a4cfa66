package dev.bourne.appliance.ca;

/** An X.509-SVID the CA refused to issue: a rejected CSR, subject key, SPIFFE ID, DNS name or TTL, or an unusable CA. */
public final class X509SvidIssuanceException extends SvidIssuanceException {
    private static final long serialVersionUID = 1L;

    public X509SvidIssuanceException(Reason reason, String message) {
        super(reason, message);
    }

    public X509SvidIssuanceException(Reason reason, String message, Throwable cause) {
        super(reason, message, cause);
    }
}
