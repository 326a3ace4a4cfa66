package dev.bourne.core.svid.jwt;

/** A token that is not an acceptable JWT-SVID; the message names the header field, claim or check that failed. */
public final class JwtSvidException extends Exception {
    private static final long serialVersionUID = 1L;

    public JwtSvidException(String message) {
        super(message);
    }

    public JwtSvidException(String message, Throwable cause) {
        super(message, cause);
    }
}
