package dev.bourne.appliance.attestation;

import dev.bourne.core.spiffeid.SpiffeId;
import dev.bourne.core.spiffeid.TrustDomain;
import dev.bourne.openstack.common.OpenStackIid;
import dev.bourne.openstack.server.IidAttestationException;
import dev.bourne.openstack.server.OpenStackServerAttestor;
import java.util.Objects;

/**
 * The server's {@code openstack_iid} node attestor (docs/openstack.md; ARCHITECTURE.md section 3): adapts the
 * verifier engine {@link OpenStackServerAttestor} to the server's attestation SPI. The payload is the instance
 * identity document (a compact JWS) the agent read from the metadata service; there are no challenges (the document
 * is short-lived and single use). Agent ID {@code spiffe://<td>/spire/agent/openstack_iid/<project>/<instance>};
 * selectors {@code openstack_iid:project_id:}, {@code instance_id:}, {@code image_id:}, {@code hostname:},
 * {@code meta:<k>:<v>}.
 *
 * <p>Trust on first use per instance: the attestation is not re-attestable ({@code canReattest = false}), so once an
 * instance attested, a second document for it (even a genuine, fresh one) is refused until an operator evicts the
 * agent. A stolen document, or one an attacker on another instance obtains, can therefore never take over an attested
 * instance's identity; the single-use jti stops replays of a document before its first use is recorded.
 *
 * <p>Engine failures map onto {@link AttestationException} reasons here, once; messages are the engine's constants,
 * safe to send to the agent.
 */
public final class OpenStackNodeAttestor implements NodeAttestor {
    public static final String NAME = OpenStackIid.PLUGIN_NAME;

    private final TrustDomain trustDomain;
    private final OpenStackServerAttestor engine;

    public OpenStackNodeAttestor(TrustDomain trustDomain, OpenStackServerAttestor engine) {
        this.trustDomain = Objects.requireNonNull(trustDomain, "trustDomain");
        this.engine = Objects.requireNonNull(engine, "engine");
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public NodeAttestation attest(byte[] payload, ChallengeChannel challenges) throws AttestationException {
        OpenStackServerAttestor.Attested attested;
        try {
            attested = engine.attest(payload);
        } catch (IidAttestationException e) {
            throw switch (e.kind()) {
                case INVALID_REQUEST -> new AttestationException(AttestationException.Reason.INVALID_REQUEST,
                        e.getMessage(), e);
                case REJECTED -> new AttestationException(AttestationException.Reason.REJECTED, e.getMessage(), e);
                case UNAVAILABLE -> new AttestationException(AttestationException.Reason.UNAVAILABLE, e.getMessage(),
                        e);
            };
        }
        SpiffeId agentId = SpiffeId.of(trustDomain, "spire", "agent", NAME, attested.projectId(),
                attested.instanceId());
        return new NodeAttestation(agentId, attested.selectorValues(), false, attested.evidence());
    }
}
