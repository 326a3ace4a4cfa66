package dev.bourne.appliance.agentapi;

import dev.bourne.appliance.attestation.AttestationException;
import dev.bourne.appliance.attestation.AttestedIdentity;
import dev.bourne.appliance.attestation.ChallengeChannel;
import dev.bourne.appliance.attestation.NodeAttestors;
import dev.bourne.appliance.ca.CaManager;
import dev.bourne.appliance.ca.CertificateRequests;
import dev.bourne.appliance.ca.IssuedX509Svid;
import dev.bourne.appliance.ca.SvidIssuanceException;
import dev.bourne.appliance.ca.X509SvidIssuer;
import dev.bourne.appliance.datastore.AttestedNode;
import dev.bourne.appliance.datastore.DataStore;
import dev.bourne.appliance.datastore.NodeCertificate;
import dev.bourne.appliance.health.ServerMetrics;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * Node attestation and agent SVID renewal: runs the attestor catalog, applies the ban and re-attestation rules,
 * records the attested node and issues its agent SVID, and writes the audit log.
 */
public final class AgentAttestation {
    /** Attestation payloads are tokens, documents and TPM structures: kilobytes, never more than this. */
    public static final int MAX_PAYLOAD_BYTES = 64 * 1024;

    public static final String PAYLOAD_TOO_LARGE = "attestation payload is larger than " + MAX_PAYLOAD_BYTES + " bytes";
    public static final String CSR_MISSING = "the request has no CSR";
    public static final String BANNED = "the agent is banned";
    public static final String ALREADY_ATTESTED = "the agent is already attested and its attestor does not allow"
            + " attesting again: evict it first";

    private final NodeAttestors attestors;
    private final DataStore dataStore;
    private final CaManager ca;
    private final X509SvidIssuer issuer;
    private final Duration agentTtl;
    private final AuditLog audit;
    private final ServerMetrics metrics;

    public AgentAttestation(NodeAttestors attestors, DataStore dataStore, CaManager ca, X509SvidIssuer issuer,
            Duration agentTtl, AuditLog audit, ServerMetrics metrics) {
        this.attestors = Objects.requireNonNull(attestors, "attestors");
        this.dataStore = Objects.requireNonNull(dataStore, "dataStore");
        this.ca = Objects.requireNonNull(ca, "ca");
        this.issuer = Objects.requireNonNull(issuer, "issuer");
        this.agentTtl = Objects.requireNonNull(agentTtl, "agentTtl");
        this.audit = Objects.requireNonNull(audit, "audit");
        this.metrics = Objects.requireNonNull(metrics, "metrics");
    }

    /** An attested agent's new SVID and whether it may attest again. */
    public record Attested(IssuedX509Svid svid, boolean canReattest) {
    }

    /**
     * Attests an agent and issues its SVID for {@code csr}.
     *
     * @throws ApiException for a malformed request
     * @throws AttestationException when the evidence is rejected or the agent is banned or already attested
     */
    public Attested attest(String type, byte[] payload, byte[] csr, ChallengeChannel challenges) throws Exception {
        String attestor = type.isEmpty() ? "none" : type;
        try {
            checkCsrPresent(csr);
            if (payload.length > MAX_PAYLOAD_BYTES) {
                throw new ApiException(ApiException.Code.INVALID_ARGUMENT, PAYLOAD_TOO_LARGE);
            }
            AttestedIdentity identity = attestors.attest(type, payload, challenges);
            Optional<AttestedNode> existing = dataStore.getNode(identity.agentId());
            if (existing.isPresent() && existing.get().banned()) {
                throw new AttestationException(AttestationException.Reason.REFUSED, BANNED);
            }
            if (existing.isPresent() && !existing.get().canReattest()) {
                throw new AttestationException(AttestationException.Reason.REFUSED, ALREADY_ATTESTED);
            }
            IssuedX509Svid svid = issuer.issue(ca.activeX509Authority(), csr, identity.agentId(), List.of(),
                    agentTtl);
            NodeCertificate certificate = certificate(svid);
            if (existing.isPresent()) {
                dataStore.setNodeSelectors(identity.agentId(), identity.selectors());
                dataStore.updateNodeCertificates(identity.agentId(), Optional.of(certificate), Optional.empty());
            } else {
                dataStore.createNode(AttestedNode.attested(identity.agentId(), identity.attestor(), certificate,
                        identity.canReattest(), identity.selectors()));
            }
            audit.attested(identity.attestor(), identity.loggableAgentId(), identity.selectors(), identity.evidence(),
                    certificate.serialNumber());
            metrics.attestation(attestor, "success");
            metrics.svidIssued(ServerMetrics.SvidKind.AGENT);
            return new Attested(svid, identity.canReattest());
        } catch (AttestationException e) {
            audit.attestationFailed(attestor, e.getMessage());
            metrics.attestation(attestor, e.reason().name().toLowerCase(Locale.ROOT));
            throw e;
        } catch (ApiException e) {
            audit.attestationFailed(attestor, e.getMessage());
            metrics.attestation(attestor, "invalid_request");
            throw e;
        } catch (SvidIssuanceException e) {
            audit.attestationFailed(attestor, e.reason().badRequest() ? e.getMessage() : "server error");
            metrics.attestation(attestor, e.reason().badRequest() ? "invalid_request" : "error");
            throw e;
        } catch (Exception e) {
            audit.attestationFailed(attestor, "server error");
            metrics.attestation(attestor, "error");
            throw e;
        }
    }

    /**
     * Issues the calling agent a new SVID for {@code csr} and records it as the node's pending certificate; the
     * current one stays valid until the agent uses the new one.
     */
    public IssuedX509Svid renew(CallerAgent caller, byte[] csr) throws Exception {
        checkCsrPresent(csr);
        IssuedX509Svid svid = issuer.issue(ca.activeX509Authority(), csr, caller.agentId(), List.of(), agentTtl);
        NodeCertificate certificate = certificate(svid);
        dataStore.updateNodeCertificates(caller.agentId(), caller.node().certificate(), Optional.of(certificate));
        audit.renewed(caller.agentId(), certificate.serialNumber());
        metrics.svidIssued(ServerMetrics.SvidKind.AGENT);
        return svid;
    }

    private static void checkCsrPresent(byte[] csr) throws ApiException {
        if (csr.length == 0) {
            throw new ApiException(ApiException.Code.INVALID_ARGUMENT, CSR_MISSING);
        }
        if (csr.length > CertificateRequests.MAX_CSR_BYTES) {
            throw new ApiException(ApiException.Code.INVALID_ARGUMENT, CertificateRequests.TOO_LARGE);
        }
    }

    private static NodeCertificate certificate(IssuedX509Svid svid) {
        return new NodeCertificate(svid.serialNumber().toString(), svid.notAfter());
    }
}
