package dev.bourne.appliance.attestation;

import dev.bourne.core.spiffeid.SpiffeId;
import dev.bourne.core.spiffeid.TrustDomain;
import dev.bourne.tpm.common.EkHash;
import dev.bourne.tpm.common.TpmPublic;
import dev.bourne.tpm.server.TpmAttestationException;
import dev.bourne.tpm.server.TpmServerAttestor;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The server's {@code tpm} node attestor (docs/tpm.md; ARCHITECTURE.md section 3): adapts the protocol engine
 * {@link TpmServerAttestor} to the server's attestation SPI. First attestation: the agent's EK and AK, one challenge
 * (credential activation plus a quote), then the engine's decision; the AK is bound to the node so that every agent
 * SVID renewal carries a fresh quote by that same AK (continuous attestation). Agent ID
 * {@code spiffe://<td>/spire/agent/tpm/<ek-hash>}; selectors {@code tpm:pub_hash:}, {@code tpm:label:<k>:<v>},
 * {@code tpm:pcr_policy:<name>}.
 *
 * <p>Engine failures map onto {@link AttestationException} reasons here, once: INVALID_REQUEST and REJECTED as they
 * are, DRIFT (a verified quote outside PCR policy at renewal) as drift, evicting the agent when the configuration's
 * {@code evict_on_drift} says so, UNAVAILABLE (the enrolment store or the binding store cannot be read) as
 * unavailable: attestation then fails closed. Messages are the engine's constants, safe to send to the agent.
 */
public final class TpmNodeAttestor implements NodeAttestor {
    public static final String NAME = "tpm";
    public static final String NOT_BOUND = "no attestation key is bound to this agent: it must attest again";
    public static final String BINDING_UNAVAILABLE = "the attestation key bindings cannot be read; try again later";
    public static final String AGENT_ID_NOT_TPM = "the agent ID is not a TPM agent ID";

    /**
     * Where the attestor keeps the AK each TPM node attested with (the server's datastore in production): a narrow
     * host service, never the datastore itself.
     */
    public interface AkBindings {
        /** Records (or replaces, after a new attestation) the AK of the node with this EK hash. */
        void bind(String ekHash, byte[] akPublic, byte[] akName) throws AttestationException;

        /** The AK bound to this EK hash, if the node attested. */
        Optional<byte[]> bound(String ekHash) throws AttestationException;
    }

    private final TrustDomain trustDomain;
    private final TpmServerAttestor engine;
    private final AkBindings bindings;

    public TpmNodeAttestor(TrustDomain trustDomain, TpmServerAttestor engine, AkBindings bindings) {
        this.trustDomain = Objects.requireNonNull(trustDomain, "trustDomain");
        this.engine = Objects.requireNonNull(engine, "engine");
        this.bindings = Objects.requireNonNull(bindings, "bindings");
    }

    @Override
    public String name() {
        return NAME;
    }

    /** The names of the configured PCR policies, which enrolments may name. */
    public java.util.Set<String> pcrPolicyNames() {
        return engine.settings().pcrPolicies().policies().keySet();
    }

    @Override
    public NodeAttestation attest(byte[] payload, ChallengeChannel challenges) throws AttestationException {
        TpmServerAttestor.Attested attested;
        try {
            TpmServerAttestor.Pending pending = engine.begin(payload);
            byte[] response = challenges.challenge(pending.challenge());
            attested = engine.finish(pending, response);
        } catch (TpmAttestationException e) {
            throw mapped(e);
        }
        byte[] akPublic = attested.akPublic();
        bindings.bind(attested.ekHash(), akPublic, TpmPublic.parse(akPublic).name());
        return new NodeAttestation(agentId(attested.ekHash()), attested.selectorValues(), true, attested.evidence());
    }

    @Override
    public Optional<byte[]> renewalChallenge(SpiffeId agentId) throws AttestationException {
        String ekHash = ekHash(agentId);
        byte[] ak = boundAk(ekHash);
        try {
            return Optional.of(engine.renewalChallenge(ekHash, ak).challenge());
        } catch (TpmAttestationException e) {
            throw mapped(e);
        }
    }

    @Override
    public NodeAttestation verifyRenewal(SpiffeId agentId, byte[] challenge, byte[] evidence)
            throws AttestationException {
        String ekHash = ekHash(agentId);
        byte[] ak = boundAk(ekHash);
        try {
            TpmServerAttestor.Attested attested = engine.verifyRenewal(ekHash, ak, challenge, evidence);
            return new NodeAttestation(agentId, attested.selectorValues(), true, attested.evidence());
        } catch (TpmAttestationException e) {
            throw mapped(e);
        }
    }

    private SpiffeId agentId(String ekHash) {
        return SpiffeId.of(trustDomain, "spire", "agent", NAME, ekHash);
    }

    /** The EK hash an agent ID of this attestor ends with. */
    private static String ekHash(SpiffeId agentId) throws AttestationException {
        List<String> segments = agentId.segments();
        if (segments.size() != 4 || !agentId.hasPathPrefix("spire", "agent", NAME)) {
            throw new AttestationException(AttestationException.Reason.REJECTED, AGENT_ID_NOT_TPM);
        }
        try {
            return EkHash.parse(segments.get(3));
        } catch (IllegalArgumentException e) {
            throw new AttestationException(AttestationException.Reason.REJECTED, AGENT_ID_NOT_TPM, e);
        }
    }

    private byte[] boundAk(String ekHash) throws AttestationException {
        return bindings.bound(ekHash).orElseThrow(
                () -> new AttestationException(AttestationException.Reason.REJECTED, NOT_BOUND));
    }

    private AttestationException mapped(TpmAttestationException e) {
        return switch (e.kind()) {
            case INVALID_REQUEST -> new AttestationException(AttestationException.Reason.INVALID_REQUEST,
                    e.getMessage(), e);
            case REJECTED -> new AttestationException(AttestationException.Reason.REJECTED, e.getMessage(), e);
            case DRIFT -> new AttestationException(AttestationException.Reason.DRIFT, e.getMessage(),
                    engine.settings().evictOnDrift(), e);
            case UNAVAILABLE -> new AttestationException(AttestationException.Reason.UNAVAILABLE, e.getMessage(), e);
        };
    }
}
