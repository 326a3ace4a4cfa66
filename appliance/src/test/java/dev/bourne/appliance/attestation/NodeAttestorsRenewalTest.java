package dev.bourne.appliance.attestation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bourne.core.selector.Selector;
import dev.bourne.core.spiffeid.SpiffeId;
import dev.bourne.core.spiffeid.TrustDomain;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The catalog's renewal dispatch: by the node's attestor, with the same checks as attestation. */
class NodeAttestorsRenewalTest {
    private static final TrustDomain TD = TrustDomain.parse("example.org");
    private static final SpiffeId AGENT = SpiffeId.of(TD, "spire", "agent", "canned", "node-1");

    /** Returns whatever the test set: a canned attestor for the catalog's checks. */
    private static final class StubAttestor implements NodeAttestor {
        Optional<byte[]> challenge = Optional.empty();
        NodeAttestation verdict = new NodeAttestation(AGENT, List.of("pcr_policy:b"), true, "quote ok");
        AttestationException failure;
        byte[] seenChallenge;

        @Override
        public String name() {
            return "canned";
        }

        @Override
        public NodeAttestation attest(byte[] payload, ChallengeChannel challenges) {
            return verdict;
        }

        @Override
        public Optional<byte[]> renewalChallenge(SpiffeId agentId) throws AttestationException {
            if (failure != null) {
                throw failure;
            }
            return challenge;
        }

        @Override
        public NodeAttestation verifyRenewal(SpiffeId agentId, byte[] challenge, byte[] evidence)
                throws AttestationException {
            seenChallenge = challenge;
            if (failure != null) {
                throw failure;
            }
            return verdict;
        }
    }

    private final StubAttestor stub = new StubAttestor();
    private final NodeAttestors catalog = new NodeAttestors(TD, List.of(stub,
            new JoinTokenAttestor(TD, token -> Optional.of(Instant.MAX), Clock.systemUTC())));

    @Test
    void renewalChallenge_fromTheNodesAttestor_copied() throws Exception {
        byte[] nonce = {1, 2, 3};
        stub.challenge = Optional.of(nonce);
        byte[] got = catalog.renewalChallenge("canned", AGENT).orElseThrow();
        assertArrayEquals(nonce, got);
        got[0] = 9;
        assertEquals(1, nonce[0]);
    }

    @Test
    void renewalChallenge_joinTokenHasNone() throws Exception {
        assertTrue(catalog.renewalChallenge(JoinTokenAttestor.NAME,
                SpiffeId.of(TD, "spire", "agent", "join_token", "t")).isEmpty());
    }

    @Test
    void renewalChallenge_attestorNoLongerEnabled_none() throws Exception {
        assertTrue(catalog.renewalChallenge("tpm", SpiffeId.of(TD, "spire", "agent", "tpm", "x")).isEmpty());
    }

    @Test
    void renewalChallenge_emptyOrOversized_isAPluginBug() {
        stub.challenge = Optional.of(new byte[0]);
        assertEquals(NodeAttestors.PLUGIN_BAD_CHALLENGE + ": canned", assertThrows(IllegalStateException.class,
                () -> catalog.renewalChallenge("canned", AGENT)).getMessage());
        stub.challenge = Optional.of(new byte[NodeAttestors.MAX_CHALLENGE_BYTES + 1]);
        assertThrows(IllegalStateException.class, () -> catalog.renewalChallenge("canned", AGENT));
        stub.challenge = Optional.of(new byte[NodeAttestors.MAX_CHALLENGE_BYTES]);
        assertDoesNotThrow(() -> catalog.renewalChallenge("canned", AGENT));
    }

    private static void assertDoesNotThrow(org.junit.jupiter.api.function.Executable call) {
        org.junit.jupiter.api.Assertions.assertDoesNotThrow(call);
    }

    @Test
    void renewalChallenge_attestorRefusal_passesThrough() {
        stub.failure = AttestationException.drift("enrolment revoked", true);
        AttestationException e = assertThrows(AttestationException.class,
                () -> catalog.renewalChallenge("canned", AGENT));
        assertSame(stub.failure, e);
        assertTrue(e.evictAgent());
    }

    @Test
    void verifyRenewal_stampsSelectorsWithTheAttestorsName() throws Exception {
        AttestedIdentity identity = catalog.verifyRenewal("canned", AGENT, new byte[] {7}, new byte[] {8});
        assertEquals(List.of(new Selector("canned", "pcr_policy:b")), identity.selectors());
        assertEquals("canned", identity.attestor());
        assertEquals(AGENT, identity.agentId());
        assertEquals("quote ok", identity.evidence());
        assertArrayEquals(new byte[] {7}, stub.seenChallenge);
    }

    @Test
    void verifyRenewal_anotherAgentsId_isAPluginBug() {
        stub.verdict = new NodeAttestation(SpiffeId.of(TD, "spire", "agent", "canned", "node-2"), List.of(), true,
                "");
        assertEquals(NodeAttestors.PLUGIN_OTHER_AGENT + ": canned", assertThrows(IllegalStateException.class,
                () -> catalog.verifyRenewal("canned", AGENT, new byte[] {1}, new byte[] {1})).getMessage());
    }

    @Test
    void verifyRenewal_attestorWithoutContinuousAttestation_isAProgrammingError() {
        SpiffeId joinTokenAgent = SpiffeId.of(TD, "spire", "agent", "join_token", "t");
        assertThrows(IllegalStateException.class,
                () -> catalog.verifyRenewal(JoinTokenAttestor.NAME, joinTokenAgent, new byte[] {1}, new byte[] {1}));
        assertThrows(IllegalStateException.class,
                () -> catalog.verifyRenewal("tpm", joinTokenAgent, new byte[] {1}, new byte[] {1}));
    }

    @Test
    void attestationException_evictionIsTheAttestorsChoice_neverForAnOutage() {
        assertFalse(new AttestationException(AttestationException.Reason.REJECTED, "bad quote").evictAgent());
        assertFalse(AttestationException.drift("drift", false).evictAgent());
        AttestationException drift = AttestationException.drift("drift", true);
        assertEquals(AttestationException.Reason.DRIFT, drift.reason());
        assertTrue(drift.evictAgent());
        assertThrows(IllegalArgumentException.class, () -> new AttestationException(
                AttestationException.Reason.UNAVAILABLE, "down", true, null));
    }
}
