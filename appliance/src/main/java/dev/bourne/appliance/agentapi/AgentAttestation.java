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
import dev.bourne.appliance.datastore.NotFoundException;
import dev.bourne.appliance.health.ServerMetrics;
import dev.bourne.core.selector.Selector;
import dev.bourne.core.spiffeid.SpiffeId;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeSet;

/**
 * Node attestation and agent SVID renewal: runs the attestor catalog, applies the ban and re-attestation rules,
 * records the attested node and issues its agent SVID, and writes the audit log.
 *
 * <p>Continuous attestation: when the attestor recorded for a node issues renewal challenges, every renewal must carry
 * evidence answering the latest challenge issued to that agent ({@link #renewalChallenge}), within a minute, once.
 * Whether evidence is required is asked of the attestor on every renewal, not inferred from a pending challenge, so an
 * agent cannot skip it by never asking for one. Verified evidence renews the SVID and updates the node's selectors when
 * they changed (entries follow at the agent's next sync); refused evidence issues nothing, is audited, and evicts the
 * agent when the attestor says so. Refusals answer {@code FAILED_PRECONDITION}, which the agent tells apart from the
 * {@code PERMISSION_DENIED} of an unknown or banned agent.
 */
public final class AgentAttestation {
    /** Attestation payloads are tokens, documents and TPM structures: kilobytes, never more than this. */
    public static final int MAX_PAYLOAD_BYTES = 64 * 1024;

    public static final String PAYLOAD_TOO_LARGE = "attestation payload is larger than " + MAX_PAYLOAD_BYTES + " bytes";
    public static final String CSR_MISSING = "the request has no CSR";
    public static final String BANNED = "the agent is banned";
    public static final String ALREADY_ATTESTED = "the agent is already attested and its attestor does not allow"
            + " attesting again: evict it first";
    public static final String EVIDENCE_TOO_LARGE = "attestation evidence is larger than " + MAX_PAYLOAD_BYTES
            + " bytes";
    public static final String EVIDENCE_REQUIRED = "continuous attestation: this agent's renewal requires attestation"
            + " evidence; call NewRenewalChallenge and answer its challenge";
    public static final String NO_CHALLENGE_PENDING = "continuous attestation: no renewal challenge is pending for"
            + " this agent (expired, already used or replaced); call NewRenewalChallenge again";
    public static final String EVIDENCE_MISSING = "continuous attestation: the renewal carries no evidence for the"
            + " pending challenge";
    /** Prefixes the attestor's own (constant) refusal text. */
    public static final String RENEWAL_REFUSED = "continuous attestation refused the renewal: ";
    public static final String EVICTED = "; the agent was evicted and must attest again";

    private final NodeAttestors attestors;
    private final DataStore dataStore;
    private final CaManager ca;
    private final X509SvidIssuer issuer;
    private final Duration agentTtl;
    private final AuditLog audit;
    private final ServerMetrics metrics;
    private final RenewalChallenges challenges;

    /** With renewal challenges expiring by the system clock. */
    public AgentAttestation(NodeAttestors attestors, DataStore dataStore, CaManager ca, X509SvidIssuer issuer,
            Duration agentTtl, AuditLog audit, ServerMetrics metrics) {
        this(attestors, dataStore, ca, issuer, agentTtl, audit, metrics, Clock.systemUTC());
    }

    /** With renewal challenges expiring by {@code clock}. */
    public AgentAttestation(NodeAttestors attestors, DataStore dataStore, CaManager ca, X509SvidIssuer issuer,
            Duration agentTtl, AuditLog audit, ServerMetrics metrics, Clock clock) {
        this.challenges = new RenewalChallenges(clock);
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
     * A fresh renewal challenge for the calling agent from the attestor recorded for its node, kept as the agent's one
     * pending challenge; empty when that attestor has no continuous attestation.
     *
     * @throws ApiException FAILED_PRECONDITION when the attestor refuses any renewal of this agent (audited; the agent
     *     is evicted when the attestor says so), UNAVAILABLE when too many challenges are pending
     * @throws AttestationException UNAVAILABLE when the attestor cannot decide now
     */
    public byte[] renewalChallenge(CallerAgent caller) throws Exception {
        SpiffeId id = caller.agentId();
        String attestor = caller.node().attestationDataType();
        Optional<byte[]> challenge;
        try {
            challenge = attestors.renewalChallenge(attestor, id);
        } catch (AttestationException e) {
            throw refused(id, attestor, e);
        }
        if (challenge.isEmpty()) {
            challenges.discard(id);
            return new byte[0];
        }
        challenges.put(id, attestor, challenge.get());
        return challenge.get();
    }

    /** {@link #renew(CallerAgent, byte[], byte[])} without attestation evidence. */
    public IssuedX509Svid renew(CallerAgent caller, byte[] csr) throws Exception {
        return renew(caller, csr, new byte[0]);
    }

    /**
     * Issues the calling agent a new SVID for {@code csr} and records it as the node's pending certificate; the
     * current one stays valid until the agent uses the new one. When the node's attestor attests renewals,
     * {@code evidence} must answer the agent's pending challenge first (see the class comment).
     *
     * @throws ApiException INVALID_ARGUMENT for a missing CSR or oversized evidence; FAILED_PRECONDITION when
     *     continuous attestation refuses the renewal
     * @throws AttestationException UNAVAILABLE when the attestor cannot decide now
     */
    public IssuedX509Svid renew(CallerAgent caller, byte[] csr, byte[] evidence) throws Exception {
        checkCsrPresent(csr);
        SpiffeId id = caller.agentId();
        String attestor = caller.node().attestationDataType();
        if (evidence.length > MAX_PAYLOAD_BYTES) {
            challenges.discard(id);
            audit.renewalRefused(attestor, id, EVIDENCE_TOO_LARGE);
            metrics.renewalAttestation(attestor, "invalid_request");
            throw new ApiException(ApiException.Code.INVALID_ARGUMENT, EVIDENCE_TOO_LARGE);
        }
        Optional<AttestedIdentity> attested = continuousAttestation(id, attestor, evidence);
        boolean selectorsChanged = false;
        if (attested.isPresent()) {
            List<Selector> now = attested.get().selectors();
            selectorsChanged = !new TreeSet<>(now).equals(new TreeSet<>(caller.node().selectors()));
            if (selectorsChanged) {
                dataStore.setNodeSelectors(id, now);
            }
        }
        IssuedX509Svid svid = issuer.issue(ca.activeX509Authority(), csr, id, List.of(), agentTtl);
        NodeCertificate certificate = certificate(svid);
        dataStore.updateNodeCertificates(id, caller.node().certificate(), Optional.of(certificate));
        if (attested.isPresent()) {
            AttestedIdentity identity = attested.get();
            audit.renewedAttested(identity.attestor(), identity.loggableAgentId(), identity.selectors(),
                    selectorsChanged, identity.evidence(), certificate.serialNumber());
            metrics.renewalAttestation(attestor, "success");
        } else {
            audit.renewed(id, certificate.serialNumber());
        }
        metrics.svidIssued(ServerMetrics.SvidKind.AGENT);
        return svid;
    }

    /**
     * Runs continuous attestation for one renewal: empty when the node's attestor does not attest renewals, the
     * agent's identity now when the evidence answers its pending challenge; throws (audited) otherwise.
     */
    private Optional<AttestedIdentity> continuousAttestation(SpiffeId id, String attestor, byte[] evidence)
            throws Exception {
        // Taken first, so a challenge is used at most once whatever happens next.
        Optional<RenewalChallenges.Pending> pending = challenges.take(id);
        try {
            if (pending.isEmpty()) {
                // Asked on every renewal: an agent that never calls NewRenewalChallenge must not skip the evidence.
                if (attestors.renewalChallenge(attestor, id).isEmpty()) {
                    if (evidence.length > 0) {
                        throw refusedHere(id, attestor, NO_CHALLENGE_PENDING);
                    }
                    return Optional.empty();
                }
                throw refusedHere(id, attestor, evidence.length == 0 ? EVIDENCE_REQUIRED : NO_CHALLENGE_PENDING);
            }
            if (evidence.length == 0) {
                throw refusedHere(id, attestor, EVIDENCE_MISSING);
            }
            return Optional.of(attestors.verifyRenewal(pending.get().attestor(), id, pending.get().challenge(),
                    evidence));
        } catch (AttestationException e) {
            throw refused(id, attestor, e);
        }
    }

    /** A refusal the API decides (no evidence, no challenge): audited, never evicts. */
    private ApiException refusedHere(SpiffeId id, String attestor, String message) {
        audit.renewalRefused(attestor, id, message);
        metrics.renewalAttestation(attestor, "no_evidence");
        return new ApiException(ApiException.Code.FAILED_PRECONDITION, message);
    }

    /**
     * The attestor refused a renewal: audits it, evicts the agent when the attestor says so, and returns what the
     * caller is told (the attestor's constant text). An unavailable attestor is no refusal: the agent retries.
     */
    private Exception refused(SpiffeId id, String attestor, AttestationException e) throws Exception {
        challenges.discard(id);
        if (e.reason() == AttestationException.Reason.UNAVAILABLE) {
            audit.renewalRefused(attestor, id, "attestor unavailable: " + e.getMessage());
            metrics.renewalAttestation(attestor, "unavailable");
            return e;
        }
        audit.renewalRefused(attestor, id, e.getMessage());
        metrics.renewalAttestation(attestor, e.reason().name().toLowerCase(Locale.ROOT));
        if (!e.evictAgent()) {
            return new ApiException(ApiException.Code.FAILED_PRECONDITION, RENEWAL_REFUSED + e.getMessage());
        }
        try {
            dataStore.deleteNode(id);
        } catch (NotFoundException gone) {
            // Evicted concurrently (an admin, or another renewal): the outcome is the same.
        }
        audit.evicted(attestor, id, e.getMessage());
        return new ApiException(ApiException.Code.FAILED_PRECONDITION, RENEWAL_REFUSED + e.getMessage() + EVICTED);
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
