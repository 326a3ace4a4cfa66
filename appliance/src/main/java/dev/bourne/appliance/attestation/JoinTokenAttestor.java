package dev.bourne.appliance.attestation;

import dev.bourne.core.spiffeid.SpiffeId;
import dev.bourne.core.spiffeid.TrustDomain;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The {@code join_token} node attestor: the payload is a one-time token an operator generated; it is consumed on
 * first use (whether or not it expired) and names the agent {@code spiffe://<td>/spire/agent/join_token/<token>}. No
 * challenge, no selectors, and not re-attestable: the token cannot be presented twice.
 */
public final class JoinTokenAttestor implements NodeAttestor {
    public static final String NAME = "join_token";
    /** Tokens are UUIDs or operator-chosen words; anything longer is not a join token. */
    public static final int MAX_TOKEN_CHARS = 128;

    public static final String TOKEN_EMPTY = "join token is empty";
    public static final String TOKEN_TOO_LONG = "join token is longer than " + MAX_TOKEN_CHARS + " characters";
    public static final String TOKEN_BAD_CHARACTERS =
            "join token may contain only letters, digits, '.', '-' and '_' (and is not '.' or '..')";
    public static final String TOKEN_UNKNOWN = "join token does not exist or was already used";
    public static final String TOKEN_EXPIRED = "join token has expired";

    private static final Pattern TOKEN = Pattern.compile("[A-Za-z0-9._-]+");

    private final TrustDomain trustDomain;
    private final JoinTokens tokens;
    private final Clock clock;

    public JoinTokenAttestor(TrustDomain trustDomain, JoinTokens tokens, Clock clock) {
        this.trustDomain = Objects.requireNonNull(trustDomain, "trustDomain");
        this.tokens = Objects.requireNonNull(tokens, "tokens");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public NodeAttestation attest(byte[] payload, ChallengeChannel challenges) throws AttestationException {
        String token = checkedToken(payload);
        Optional<Instant> expiry = tokens.take(token);
        if (expiry.isEmpty()) {
            throw new AttestationException(AttestationException.Reason.REJECTED, TOKEN_UNKNOWN);
        }
        if (!clock.instant().isBefore(expiry.get())) {
            // Consumed all the same: an expired token must not stay usable by a clock set back.
            throw new AttestationException(AttestationException.Reason.REJECTED, TOKEN_EXPIRED);
        }
        return new NodeAttestation(SpiffeId.of(trustDomain, "spire", "agent", NAME, token), List.of(), false,
                "token sha256:" + fingerprint(token));
    }

    /** The agent ID with the token replaced by its fingerprint: logs never show a join token. */
    @Override
    public String loggable(SpiffeId agentId) {
        List<String> segments = agentId.segments();
        return agentId.trustDomain().idString() + "/spire/agent/" + NAME + "/sha256:"
                + fingerprint(segments.get(segments.size() - 1));
    }

    /** Checks the token's form before it touches the store, so garbage never reaches a query or an ID. */
    static String checkedToken(byte[] payload) throws AttestationException {
        if (payload.length == 0) {
            throw new AttestationException(AttestationException.Reason.INVALID_REQUEST, TOKEN_EMPTY);
        }
        if (payload.length > MAX_TOKEN_CHARS) {
            throw new AttestationException(AttestationException.Reason.INVALID_REQUEST, TOKEN_TOO_LONG);
        }
        String token = new String(payload, StandardCharsets.UTF_8);
        if (!TOKEN.matcher(token).matches() || token.equals(".") || token.equals("..")) {
            throw new AttestationException(AttestationException.Reason.INVALID_REQUEST, TOKEN_BAD_CHARACTERS);
        }
        return token;
    }

    /**
     * The first 16 hex digits of the token's SHA-256: enough to correlate log lines with an operator's token, not
     * enough to use it (tokens are single use anyway).
     */
    public static String fingerprint(String token) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is a mandatory JCA algorithm", e);
        }
    }
}
