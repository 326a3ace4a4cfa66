package dev.bourne.core.bundle;

import dev.bourne.core.spiffeid.TrustDomain;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Objects;

/**
 * The X.509 authorities of one trust domain: the CA certificates that X.509-SVIDs of that domain chain to.
 *
 * @param trustDomain the domain these authorities speak for
 * @param authorities the CA certificates, in publication order, without duplicates
 * @see <a href="https://github.com/spiffe/spiffe/blob/main/standards/X509-SVID.md#6-representation-in-the-spiffe-bundle">X509-SVID 6</a>
 */
public record X509Bundle(TrustDomain trustDomain, List<X509Certificate> authorities) {

    public X509Bundle {
        Objects.requireNonNull(trustDomain, "trustDomain");
        authorities = List.copyOf(authorities.stream().distinct().toList());
    }

    public boolean isEmpty() {
        return authorities.isEmpty();
    }
}
