package dev.bourne.openstack.vendordata;

/** The signing service could not start: data directory, key journal, key manager or listener. */
public final class VendordataStartException extends Exception {
    private static final long serialVersionUID = 1L;

    public VendordataStartException(String message, Throwable cause) {
        super(message, cause);
    }
}
