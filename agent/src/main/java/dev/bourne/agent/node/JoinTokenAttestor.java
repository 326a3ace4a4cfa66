package dev.bourne.agent.node;

import dev.bourne.core.config.ConfigSecret;
import dev.bourne.core.spiffeid.SpiffeId;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;

/**
 * Join-token node attestation: the payload is the one-time token an administrator generated on the server
 * ({@code bourne-server token generate}); the server consumes it, so it attests exactly once and there are no
 * challenges. The agent's SPIFFE ID becomes {@code spiffe://<td>/spire/agent/join_token/<token>}.
 */
public final class JoinTokenAttestor implements NodeAttestor {
    public static final String NAME = "join_token";
    public static final String UNEXPECTED_CHALLENGE = "join_token attestation has no challenges";
    public static final String MAX_TOKEN_CHARS_TEXT = "join token is longer than 256 characters";
    public static final int MAX_TOKEN_CHARS = 256;

    private final ConfigSecret token;

    public JoinTokenAttestor(ConfigSecret token) {
        this.token = Objects.requireNonNull(token, "token");
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public byte[] payload() {
        return token.reveal().getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public byte[] answer(byte[] challenge) throws NodeAttestationException {
        throw new NodeAttestationException(UNEXPECTED_CHALLENGE);
    }

    @Override
    public boolean reusable() {
        return false;
    }

    @Override
    public String toString() {
        return "JoinTokenAttestor[token redacted]";
    }

    /**
     * How the agent's logs show its own ID: a join-token agent ID embeds the token, so logs show the first 16 hex
     * digits of the token's SHA-256 instead (the same fingerprint the server's audit log shows); any other ID as it is.
     */
    public static String loggable(SpiffeId agentId) {
        List<String> segments = agentId.segments();
        if (segments.size() != 4 || !agentId.hasPathPrefix("spire", "agent", NAME)) {
            return agentId.toString();
        }
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256")
                    .digest(segments.get(3).getBytes(StandardCharsets.UTF_8));
            return agentId.trustDomain().idString() + "/spire/agent/" + NAME + "/sha256:"
                    + HexFormat.of().formatHex(digest, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is a mandatory JCA algorithm", e);
        }
    }
}
