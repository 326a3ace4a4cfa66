package dev.bourne.openstack.vendordata;

import dev.bourne.openstack.common.IidClaims;
import java.util.Objects;

/**
 * One signed instance identity document: the compact JWS Nova hands to the instance, the claims it carries and the
 * {@code kid} of the key that signed it. {@code toString} names the document by its {@code jti} and never prints the
 * JWS: a document is a credential until it expires.
 *
 * @param jws the compact JWS ({@code header.payload.signature})
 * @param claims its claims
 * @param kid the signing key's thumbprint
 */
public record SignedIid(String jws, IidClaims claims, String kid) {
    public SignedIid {
        Objects.requireNonNull(jws, "jws");
        Objects.requireNonNull(claims, "claims");
        Objects.requireNonNull(kid, "kid");
    }

    @Override
    public String toString() {
        return "SignedIid[jti=" + claims.jti() + ", kid=" + kid + ", project=" + claims.projectId() + ", instance="
                + claims.instanceId() + ", exp=" + claims.expiresAt() + "]";
    }
}
