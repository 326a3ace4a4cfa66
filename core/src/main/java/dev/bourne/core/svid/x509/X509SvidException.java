package dev.bourne.core.svid.x509;

/**
 * An X.509 certificate chain that is not an acceptable X.509-SVID: malformed, breaking the X509-SVID profile, or not
 * chaining to the bundle of its trust domain. The message names the certificate and the rule.
 */
public final class X509SvidException extends Exception {
    private static final long serialVersionUID = 1L;

    public X509SvidException(String message) {
        super(message);
    }

    public X509SvidException(String message, Throwable cause) {
        super(message, cause);
    }
}
