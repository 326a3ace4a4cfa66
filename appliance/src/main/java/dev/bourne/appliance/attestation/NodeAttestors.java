package dev.bourne.appliance.attestation;

import dev.bourne.core.selector.Selector;
import dev.bourne.core.spiffeid.SpiffeId;
import dev.bourne.core.spiffeid.TrustDomain;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The server's node attestor catalog: the enabled attestors by name (zero or more). It runs one, then checks what the
 * plugin returned: the agent ID must sit in this trust domain under {@code /spire/agent/<plugin name>/}, and every
 * selector gets the plugin's name as its type, so a plugin can neither impersonate another's agents nor forge its
 * selectors. Renewals are dispatched to the attestor recorded for the node ({@link #renewalChallenge},
 * {@link #verifyRenewal}), with the same checks.
 */
public final class NodeAttestors {
    public static final String PLUGIN_TYPE = "NodeAttestor";
    /** Built-in attestors this server can run, in the order error messages list them. */
    public static final List<String> BUILT_INS = List.of(JoinTokenAttestor.NAME, OpenStackNodeAttestor.NAME,
            TpmNodeAttestor.NAME);

    public static final String TYPE_EMPTY = "attestation data type is empty";
    public static final String TYPE_UNKNOWN = "node attestor is not enabled on this server";
    public static final String PLUGIN_BAD_ID = "node attestor returned an agent ID outside its namespace";
    public static final String PLUGIN_OTHER_AGENT = "node attestor returned another agent's ID for a renewal";
    public static final String PLUGIN_BAD_CHALLENGE = "node attestor returned an empty or oversized renewal challenge";
    /** Renewal challenges are nonces and PCR selections: bytes, never more than this. */
    public static final int MAX_CHALLENGE_BYTES = 64 * 1024;

    private final TrustDomain trustDomain;
    private final Map<String, NodeAttestor> byName;

    public NodeAttestors(TrustDomain trustDomain, List<NodeAttestor> attestors) {
        this.trustDomain = Objects.requireNonNull(trustDomain, "trustDomain");
        Map<String, NodeAttestor> map = new LinkedHashMap<>();
        for (NodeAttestor attestor : attestors) {
            if (map.putIfAbsent(attestor.name(), attestor) != null) {
                throw new IllegalArgumentException("node attestor " + attestor.name() + " is listed twice");
            }
        }
        this.byName = Map.copyOf(map);
    }

    /**
     * An agent ID as logs may show it: the attestor that names IDs under {@code /spire/agent/<name>/} decides (a join
     * token is shown as a fingerprint); any other ID is shown as it is.
     */
    public String loggable(SpiffeId agentId) {
        List<String> segments = agentId.segments();
        if (segments.size() >= 4 && agentId.hasPathPrefix("spire", "agent")) {
            NodeAttestor attestor = byName.get(segments.get(2));
            if (attestor != null) {
                return attestor.loggable(agentId);
            }
        }
        return agentId.toString();
    }

    public Set<String> names() {
        return byName.keySet();
    }

    /**
     * Attests with the attestor named {@code type}.
     *
     * @throws AttestationException when the type is unknown, the attestor rejects the evidence, or returns an ID
     *     outside its namespace
     */
    public AttestedIdentity attest(String type, byte[] payload, ChallengeChannel challenges)
            throws AttestationException {
        if (type.isEmpty()) {
            throw new AttestationException(AttestationException.Reason.INVALID_REQUEST, TYPE_EMPTY);
        }
        NodeAttestor attestor = byName.get(type);
        if (attestor == null) {
            throw new AttestationException(AttestationException.Reason.INVALID_REQUEST, TYPE_UNKNOWN);
        }
        NodeAttestation result = attestor.attest(payload, challenges);
        SpiffeId id = result.agentId();
        if (!id.memberOf(trustDomain) || !id.hasPathPrefix("spire", "agent", attestor.name())
                || id.segments().size() < 4) {
            throw new IllegalStateException(PLUGIN_BAD_ID + ": " + attestor.name());
        }
        return identity(attestor, result);
    }

    /**
     * The renewal challenge for agent {@code agentId}, which the datastore records as attested by {@code attestor}.
     * Empty when that attestor has no continuous attestation, and also when it is not enabled on this server any more
     * (there is then nobody to verify evidence: the agent renews as in SPIRE, as a join-token agent does after its
     * attestor was removed from the configuration).
     *
     * @throws AttestationException when the attestor refuses any renewal of this agent, or cannot decide now
     */
    public Optional<byte[]> renewalChallenge(String attestor, SpiffeId agentId) throws AttestationException {
        NodeAttestor plugin = byName.get(attestor);
        if (plugin == null) {
            return Optional.empty();
        }
        Optional<byte[]> challenge = plugin.renewalChallenge(agentId);
        if (challenge.isPresent() && (challenge.get().length == 0 || challenge.get().length > MAX_CHALLENGE_BYTES)) {
            // Empty means "no challenge" on the wire: a plugin must say so with Optional.empty().
            throw new IllegalStateException(PLUGIN_BAD_CHALLENGE + ": " + attestor);
        }
        return challenge.map(byte[]::clone);
    }

    /**
     * Verifies renewal evidence with {@code attestor} and returns the agent's identity now, its selectors stamped with
     * the attestor's name.
     *
     * @throws AttestationException when the attestor refuses the evidence
     * @throws IllegalStateException when the attestor is not enabled (no challenge could have been issued) or returns
     *     another agent's ID
     */
    public AttestedIdentity verifyRenewal(String attestor, SpiffeId agentId, byte[] challenge, byte[] evidence)
            throws AttestationException {
        NodeAttestor plugin = byName.get(attestor);
        if (plugin == null) {
            throw new IllegalStateException("renewal evidence for node attestor " + attestor
                    + ", which is not enabled on this server");
        }
        NodeAttestation result = plugin.verifyRenewal(agentId, challenge.clone(), evidence);
        if (!result.agentId().equals(agentId)) {
            throw new IllegalStateException(PLUGIN_OTHER_AGENT + ": " + attestor);
        }
        return identity(plugin, result);
    }

    private static AttestedIdentity identity(NodeAttestor attestor, NodeAttestation result) {
        List<Selector> selectors = new ArrayList<>();
        for (String value : result.selectorValues()) {
            selectors.add(new Selector(attestor.name(), value));
        }
        return new AttestedIdentity(attestor.name(), result.agentId(), selectors, result.canReattest(),
                result.evidence(), attestor.loggable(result.agentId()));
    }
}
