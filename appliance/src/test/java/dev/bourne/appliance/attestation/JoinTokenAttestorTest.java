package dev.bourne.appliance.attestation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bourne.core.selector.Selector;
import dev.bourne.core.spiffeid.SpiffeId;
import dev.bourne.core.spiffeid.TrustDomain;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The join_token attestor and the catalog's checks, with a data-driven token store. */
class JoinTokenAttestorTest {
    private static final TrustDomain TD = TrustDomain.parse("example.org");
    private static final Instant NOW = Instant.parse("2026-12-04T07:00:00Z");
    private static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);

    /** Tokens by value with their expiry; take removes. Records what was asked. */
    private static final class FakeJoinTokens implements JoinTokens {
        final Map<String, Instant> tokens = new HashMap<>();
        final List<String> asked = new ArrayList<>();

        @Override
        public Optional<Instant> take(String token) {
            asked.add(token);
            return Optional.ofNullable(tokens.remove(token));
        }
    }

    private final FakeJoinTokens tokens = new FakeJoinTokens();
    private final JoinTokenAttestor attestor = new JoinTokenAttestor(TD, tokens, CLOCK);

    private NodeAttestation attest(String token) throws AttestationException {
        return attestor.attest(token.getBytes(StandardCharsets.UTF_8), ChallengeChannel.none());
    }

    @Test
    void validToken_namesTheAgentOnce() throws Exception {
        tokens.tokens.put("abc-123", NOW.plusSeconds(1));
        NodeAttestation result = attest("abc-123");
        assertEquals(SpiffeId.parse("spiffe://example.org/spire/agent/join_token/abc-123"), result.agentId());
        assertEquals(List.of(), result.selectorValues());
        assertEquals("token sha256:" + JoinTokenAttestor.fingerprint("abc-123"), result.evidence());
        AttestationException again = assertThrows(AttestationException.class, () -> attest("abc-123"));
        assertEquals(JoinTokenAttestor.TOKEN_UNKNOWN, again.getMessage());
        assertEquals(AttestationException.Reason.REJECTED, again.reason());
    }

    @Test
    void tokenExpiringNow_rejected() {
        tokens.tokens.put("t", NOW);
        assertEquals(JoinTokenAttestor.TOKEN_EXPIRED, assertThrows(AttestationException.class,
                () -> attest("t")).getMessage());
        assertTrue(tokens.tokens.isEmpty(), "consumed");
    }

    static Stream<Arguments> malformed() {
        return Stream.of(
                Arguments.of("", JoinTokenAttestor.TOKEN_EMPTY),
                Arguments.of("x".repeat(JoinTokenAttestor.MAX_TOKEN_CHARS + 1), JoinTokenAttestor.TOKEN_TOO_LONG),
                Arguments.of("a/b", JoinTokenAttestor.TOKEN_BAD_CHARACTERS),
                Arguments.of(".", JoinTokenAttestor.TOKEN_BAD_CHARACTERS),
                Arguments.of("..", JoinTokenAttestor.TOKEN_BAD_CHARACTERS),
                Arguments.of("tok en", JoinTokenAttestor.TOKEN_BAD_CHARACTERS),
                Arguments.of("tök", JoinTokenAttestor.TOKEN_BAD_CHARACTERS),
                Arguments.of("a\u0000b", JoinTokenAttestor.TOKEN_BAD_CHARACTERS));
    }

    @ParameterizedTest
    @MethodSource("malformed")
    void malformedToken_rejectedBeforeTheStore(String token, String message) {
        AttestationException e = assertThrows(AttestationException.class, () -> attest(token));
        assertEquals(message, e.getMessage());
        assertEquals(AttestationException.Reason.INVALID_REQUEST, e.reason());
        assertEquals(List.of(), tokens.asked);
    }

    @Test
    void loggable_showsFingerprintNotToken() {
        SpiffeId id = SpiffeId.parse("spiffe://example.org/spire/agent/join_token/secret-token");
        assertEquals("spiffe://example.org/spire/agent/join_token/sha256:"
                + JoinTokenAttestor.fingerprint("secret-token"), attestor.loggable(id));
        assertEquals(16, JoinTokenAttestor.fingerprint("secret-token").length());
    }

    @Test
    void catalog_stampsSelectorTypeWithPluginName() throws Exception {
        NodeAttestor plugin = new NodeAttestor() {
            @Override
            public String name() {
                return "fake";
            }

            @Override
            public NodeAttestation attest(byte[] payload, ChallengeChannel challenges) {
                return new NodeAttestation(SpiffeId.parse("spiffe://example.org/spire/agent/fake/n1"),
                        List.of("tpm:pub_hash:forged"), true, "e");
            }
        };
        AttestedIdentity identity = new NodeAttestors(TD, List.of(plugin)).attest("fake", new byte[0],
                ChallengeChannel.none());
        assertEquals(List.of(new Selector("fake", "tpm:pub_hash:forged")), identity.selectors());
        assertEquals("fake", identity.attestor());
    }

    @Test
    void catalog_refusesAgentIdOutsideThePluginsNamespace() {
        NodeAttestor impostor = new NodeAttestor() {
            @Override
            public String name() {
                return "fake";
            }

            @Override
            public NodeAttestation attest(byte[] payload, ChallengeChannel challenges) {
                return new NodeAttestation(SpiffeId.parse("spiffe://example.org/spire/agent/tpm/someone"),
                        List.of(), true, "e");
            }
        };
        assertThrows(IllegalStateException.class, () -> new NodeAttestors(TD, List.of(impostor)).attest("fake",
                new byte[0], ChallengeChannel.none()));
    }

    @Test
    void catalog_unknownOrEmptyType_invalidRequest() {
        NodeAttestors catalog = new NodeAttestors(TD, List.of(attestor));
        assertEquals(NodeAttestors.TYPE_UNKNOWN, assertThrows(AttestationException.class,
                () -> catalog.attest("tpm", new byte[] {1}, ChallengeChannel.none())).getMessage());
        assertEquals(NodeAttestors.TYPE_EMPTY, assertThrows(AttestationException.class,
                () -> catalog.attest("", new byte[] {1}, ChallengeChannel.none())).getMessage());
    }
}
