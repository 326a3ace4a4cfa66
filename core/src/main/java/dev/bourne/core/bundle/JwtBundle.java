package dev.bourne.core.bundle;

import dev.bourne.core.spiffeid.TrustDomain;
import java.security.PublicKey;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The JWT authorities of one trust domain: public keys by key ID ({@code kid}) that JWT-SVIDs of that domain are
 * signed with.
 *
 * @param trustDomain the domain these authorities speak for
 * @param authorities public keys by key ID, in publication order
 * @see <a href="https://github.com/spiffe/spiffe/blob/main/standards/JWT-SVID.md#6-representation-in-the-spiffe-bundle">JWT-SVID 6</a>
 */
public record JwtBundle(TrustDomain trustDomain, Map<String, PublicKey> authorities) {

    public JwtBundle {
        Objects.requireNonNull(trustDomain, "trustDomain");
        Map<String, PublicKey> copy = new LinkedHashMap<>();
        authorities.forEach((kid, key) -> {
            if (kid == null || kid.isEmpty()) {
                throw new IllegalArgumentException("a JWT authority needs a non-empty key ID");
            }
            copy.put(kid, Objects.requireNonNull(key, "key"));
        });
        authorities = Collections.unmodifiableMap(copy);
    }

    /** The key with this ID, if the bundle has one. */
    public Optional<PublicKey> find(String keyId) {
        return Optional.ofNullable(authorities.get(keyId));
    }

    public boolean isEmpty() {
        return authorities.isEmpty();
    }
}
