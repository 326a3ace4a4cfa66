package dev.bourne.agent.sync;

import java.time.Instant;
import java.util.Objects;

/**
 * A JWT-SVID the server signed. Not a record: the token is a bearer credential, kept out of {@link #toString}.
 */
public final class JwtToken {
    private final String token;
    private final Instant issuedAt;
    private final Instant expiresAt;

    public JwtToken(String token, Instant issuedAt, Instant expiresAt) {
        this.token = Objects.requireNonNull(token, "token");
        this.issuedAt = Objects.requireNonNull(issuedAt, "issuedAt");
        this.expiresAt = Objects.requireNonNull(expiresAt, "expiresAt");
        if (!expiresAt.isAfter(issuedAt)) {
            throw new IllegalArgumentException("a JWT-SVID must expire after it is issued");
        }
    }

    public String token() {
        return token;
    }

    public Instant issuedAt() {
        return issuedAt;
    }

    public Instant expiresAt() {
        return expiresAt;
    }

    /** Half-way through its lifetime: after this, the agent asks for a new one. */
    public Instant refreshAt() {
        return issuedAt.plus(java.time.Duration.between(issuedAt, expiresAt).dividedBy(2));
    }

    @Override
    public String toString() {
        return "JwtToken[until " + expiresAt + ", token redacted]";
    }
}
