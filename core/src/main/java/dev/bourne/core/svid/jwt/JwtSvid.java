package dev.bourne.core.svid.jwt;

import dev.bourne.core.spiffeid.SpiffeId;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A validated JWT-SVID: the compact token, its subject and audience, and the claims it carried.
 *
 * <p>A JWT-SVID is a bearer token, so {@link #toString()} never includes it; only {@link #token()} gives it out.
 * Instances come from {@link JwtSvidValidator}.
 *
 * @see <a href="https://github.com/spiffe/spiffe/blob/main/standards/JWT-SVID.md">JWT-SVID.md</a>
 */
public final class JwtSvid {
    private final String token;
    private final SpiffeId spiffeId;
    private final List<String> audience;
    private final Instant expiry;
    private final String keyId;
    private final String algorithm;
    private final Map<String, Object> claims;

    JwtSvid(String token, SpiffeId spiffeId, List<String> audience, Instant expiry, String keyId, String algorithm,
            Map<String, Object> claims) {
        this.token = Objects.requireNonNull(token, "token");
        this.spiffeId = Objects.requireNonNull(spiffeId, "spiffeId");
        this.audience = List.copyOf(audience);
        this.expiry = Objects.requireNonNull(expiry, "expiry");
        this.keyId = Objects.requireNonNull(keyId, "keyId");
        this.algorithm = Objects.requireNonNull(algorithm, "algorithm");
        this.claims = Map.copyOf(claims);
    }

    /** The compact serialisation, a bearer credential: handle like a password. */
    public String token() {
        return token;
    }

    public SpiffeId spiffeId() {
        return spiffeId;
    }

    public List<String> audience() {
        return audience;
    }

    public Instant expiry() {
        return expiry;
    }

    /** The {@code kid} of the authority that signed it. */
    public String keyId() {
        return keyId;
    }

    /** The JWS {@code alg}, such as {@code ES256}. */
    public String algorithm() {
        return algorithm;
    }

    /** All claims, as the JSON parser produced them. */
    public Map<String, Object> claims() {
        return claims;
    }

    /** A claim by name. */
    public Optional<Object> claim(String name) {
        return Optional.ofNullable(claims.get(name));
    }

    @Override
    public String toString() {
        return "JwtSvid{" + spiffeId + ", aud " + audience + ", expires " + expiry + ", kid " + keyId + "}";
    }
}
