package dev.bourne.openstack.vendordata;

/**
 * A vendordata request body that cannot be signed: malformed, mistyped or out of bounds. The message names the field
 * and what is wrong; it is sent back to Nova (an authenticated caller) with status 400. Unchecked: bad input found
 * while parsing.
 */
public final class VendordataRequestException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public VendordataRequestException(String message) {
        super(message);
    }
}
