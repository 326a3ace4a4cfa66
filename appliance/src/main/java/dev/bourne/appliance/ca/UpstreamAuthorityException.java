package dev.bourne.appliance.ca;

/** An upstream authority cannot mint a CA certificate now; the message says why, never with key material. */
public class UpstreamAuthorityException extends Exception {
    private static final long serialVersionUID = 1L;

    public UpstreamAuthorityException(String message) {
        super(message);
    }

    public UpstreamAuthorityException(String message, Throwable cause) {
        super(message, cause);
    }
}
