package dev.bourne.openstack.agent;

/**
 * The instance identity document cannot be read from the metadata service now. The message names what is wrong (the
 * service unreachable, its status, an oversized or malformed {@code vendor_data2.json}, a missing or failed vendordata
 * target, a value that is not a JWS) and never holds the document itself. Attestation cannot proceed; the agent
 * retries later.
 */
public final class IidFetchException extends Exception {
    private static final long serialVersionUID = 1L;

    public IidFetchException(String message) {
        super(message);
    }

    public IidFetchException(String message, Throwable cause) {
        super(message, cause);
    }
}
