package dev.bourne.agent.runtime;

import dev.bourne.agent.node.NodeAttestationException;
import dev.bourne.appliance.attestation.AttestationException;
import dev.bourne.appliance.attestation.ChallengeChannel;
import dev.bourne.appliance.attestation.NodeAttestation;
import dev.bourne.core.spiffeid.SpiffeId;
import dev.bourne.core.spiffeid.TrustDomain;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * A test-only node attestor pair with continuous attestation, plugged in through the same catalog and runtime seams a
 * production attestor uses ({@code BourneServer.startWithAttestors}, {@code AgentRuntime.startWithAttestor}).
 *
 * <p>Attestation agrees a 32-byte key: the server sends a random key as its challenge and the agent proves receipt with
 * {@code HMAC-SHA256(key, "attest")}. Every renewal challenge is 32 random bytes and the evidence must be
 * {@code HMAC-SHA256(key, challenge)}, like a TPM quote over the server's nonce by the AK bound at attestation. The
 * test flips the server's verdict to drift (outside policy, refused at renewal and at attestation, as PCRs outside
 * every policy are), chooses whether drift evicts, and moves the node's policy selector.
 */
final class HmacAttestors {
    static final String NAME = "hmac_test";
    static final String DRIFTED = "the node is outside policy";
    static final String BAD_EVIDENCE = "the evidence does not answer the challenge";
    static final String NO_KEY = "no key was agreed with this agent";
    static final String BAD_ANSWER = "wrong key confirmation";
    static final byte[] CONFIRM = "attest".getBytes(StandardCharsets.US_ASCII);

    private HmacAttestors() {
    }

    static byte[] hmac(byte[] key, byte[] data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The server half: a real {@link dev.bourne.appliance.attestation.NodeAttestor} with test switches. */
    static final class Server implements dev.bourne.appliance.attestation.NodeAttestor {
        private final TrustDomain trustDomain;
        private final SecureRandom random = new SecureRandom();
        private final Map<SpiffeId, byte[]> keys = new ConcurrentHashMap<>();
        private final Map<SpiffeId, String> hosts = new ConcurrentHashMap<>();
        private final Map<String, String> policies = new ConcurrentHashMap<>();
        private final Map<String, Boolean> drifted = new ConcurrentHashMap<>();
        private volatile boolean evictOnDrift;
        final AtomicInteger challengesIssued = new AtomicInteger();

        Server(TrustDomain trustDomain) {
            this.trustDomain = trustDomain;
        }

        /** The policy a node named {@code host} now satisfies: its selector {@code policy:<name>}. */
        void policy(String host, String name) {
            policies.put(host, name);
        }

        /** Whether the node named {@code host} is outside every policy now. */
        void drift(String host, boolean drift) {
            drifted.put(host, drift);
        }

        /** The {@code evict_on_drift} of a real attestor's configuration. */
        void evictOnDrift(boolean evict) {
            evictOnDrift = evict;
        }

        static SpiffeId agentId(TrustDomain td, String host) {
            return SpiffeId.of(td, "spire", "agent", NAME, host);
        }

        @Override
        public String name() {
            return NAME;
        }

        @Override
        public NodeAttestation attest(byte[] payload, ChallengeChannel challenges) throws AttestationException {
            String host = new String(payload, StandardCharsets.UTF_8);
            if (!host.matches("[a-z0-9-]{1,64}")) {
                throw new AttestationException(AttestationException.Reason.INVALID_REQUEST, "bad host name");
            }
            // Checked first, like PCRs in a quote: a refused attestation agrees no new key.
            if (drifted.getOrDefault(host, false)) {
                throw new AttestationException(AttestationException.Reason.REJECTED, DRIFTED);
            }
            byte[] key = new byte[32];
            random.nextBytes(key);
            byte[] answer = challenges.challenge(key);
            if (!MessageDigest.isEqual(hmac(key, CONFIRM), answer)) {
                throw new AttestationException(AttestationException.Reason.REJECTED, BAD_ANSWER);
            }
            SpiffeId id = agentId(trustDomain, host);
            keys.put(id, key);
            hosts.put(id, host);
            return new NodeAttestation(id, selectors(host), true, "hmac key agreed");
        }

        @Override
        public Optional<byte[]> renewalChallenge(SpiffeId agentId) throws AttestationException {
            if (!keys.containsKey(agentId)) {
                throw new AttestationException(AttestationException.Reason.REJECTED, NO_KEY);
            }
            byte[] nonce = new byte[32];
            random.nextBytes(nonce);
            challengesIssued.incrementAndGet();
            return Optional.of(nonce);
        }

        @Override
        public NodeAttestation verifyRenewal(SpiffeId agentId, byte[] challenge, byte[] evidence)
                throws AttestationException {
            byte[] key = keys.get(agentId);
            if (key == null) {
                throw new AttestationException(AttestationException.Reason.REJECTED, NO_KEY);
            }
            if (!MessageDigest.isEqual(hmac(key, challenge), evidence)) {
                throw new AttestationException(AttestationException.Reason.REJECTED, BAD_EVIDENCE);
            }
            String host = hosts.get(agentId);
            if (drifted.getOrDefault(host, false)) {
                throw AttestationException.drift(DRIFTED, evictOnDrift);
            }
            return new NodeAttestation(agentId, selectors(host), true,
                    "hmac " + HexFormat.of().formatHex(evidence, 0, 8));
        }

        private List<String> selectors(String host) {
            return List.of("host:" + host, "policy:" + policies.getOrDefault(host, "none"));
        }
    }

    /** The agent half: answers the key challenge and every renewal challenge with the agreed key. */
    static final class Agent implements dev.bourne.agent.node.NodeAttestor {
        private final String host;
        private volatile byte[] key;
        private volatile boolean withholdEvidence;
        final AtomicInteger evidenceGiven = new AtomicInteger();

        Agent(String host) {
            this.host = host;
        }

        /** Makes {@link #renewalEvidence} return nothing, as an attestor without continuous attestation does. */
        void withholdEvidence(boolean withhold) {
            withholdEvidence = withhold;
        }

        @Override
        public String name() {
            return NAME;
        }

        @Override
        public byte[] payload() {
            return host.getBytes(StandardCharsets.UTF_8);
        }

        @Override
        public byte[] answer(byte[] challenge) throws NodeAttestationException {
            if (challenge.length != 32) {
                throw new NodeAttestationException("unexpected challenge");
            }
            key = challenge.clone();
            return hmac(key, CONFIRM);
        }

        @Override
        public boolean reusable() {
            return true;
        }

        @Override
        public Optional<byte[]> renewalEvidence(byte[] challenge) throws NodeAttestationException {
            if (withholdEvidence) {
                return Optional.empty();
            }
            if (key == null) {
                throw new NodeAttestationException("not attested yet");
            }
            evidenceGiven.incrementAndGet();
            return Optional.of(hmac(key, challenge));
        }
    }
}
