package dev.bourne.appliance.federation;

/**
 * A bundle endpoint could not be fetched or did not serve an acceptable bundle. The message says why in terms an
 * operator can act on; it may quote what the peer sent (cut and escaped), never anything secret of ours.
 */
public final class BundleFetchException extends Exception {
    private static final long serialVersionUID = 1L;

    public BundleFetchException(String message) {
        super(message);
    }

    public BundleFetchException(String message, Throwable cause) {
        super(message, cause);
    }
}
