package dev.bourne.appliance.ca;

import dev.bourne.core.spiffeid.SpiffeId;
import java.time.Instant;
import java.util.List;

/**
 * A JWT-SVID the CA just signed: the compact JWS and the claims the APIs report next to it. Not a record: the token is
 * a bearer credential, so {@code toString} leaves it out.
 */
public final class IssuedJwtSvid {
    private final String token;
    private final SpiffeId spiffeId;
    private final List<String> audience;
    private final Instant issuedAt;
    private final Instant expiresAt;

    IssuedJwtSvid(String token, SpiffeId spiffeId, List<String> audience, Instant issuedAt, Instant expiresAt) {
        this.token = token;
        this.spiffeId = spiffeId;
        this.audience = audience;
        this.issuedAt = issuedAt;
        this.expiresAt = expiresAt;
    }

    /** The compact JWS ({@code header.claims.signature}). */
    public String token() {
        return token;
    }

    public SpiffeId spiffeId() {
        return spiffeId;
    }

    public List<String> audience() {
        return audience;
    }

    /** The {@code iat} claim. */
    public Instant issuedAt() {
        return issuedAt;
    }

    /** The {@code exp} claim. */
    public Instant expiresAt() {
        return expiresAt;
    }

    @Override
    public String toString() {
        return "IssuedJwtSvid{" + spiffeId + ", aud " + audience + ", until " + expiresAt + "}";
    }
}
