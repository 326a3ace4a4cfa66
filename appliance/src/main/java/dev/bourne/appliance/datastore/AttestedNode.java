package dev.bourne.appliance.datastore;

import dev.bourne.core.selector.Selector;
import dev.bourne.core.spiffeid.SpiffeId;

import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeSet;

/**
 * A node whose agent attested to this trust domain, as SPIRE's attested node.
 *
 * @param spiffeId the agent's SPIFFE ID ({@code spiffe://<td>/spire/agent/<attestor>/...})
 * @param attestationDataType the node attestor that attested it ({@code join_token}, {@code tpm}, ...)
 * @param certificate the agent SVID currently in use; empty once banned
 * @param newCertificate an agent SVID issued on renewal but not yet used by the agent; empty when none
 * @param canReattest whether the agent may attest again instead of renewing (attestors with a durable identity)
 * @param banned whether the node was banned: it can neither renew nor attest again until it is deleted
 * @param selectors the node's selectors from attestation, sorted and without duplicates
 * @param createdAt when the node first attested, to the second (ignored on create)
 */
public record AttestedNode(
        SpiffeId spiffeId,
        String attestationDataType,
        Optional<NodeCertificate> certificate,
        Optional<NodeCertificate> newCertificate,
        boolean canReattest,
        boolean banned,
        List<Selector> selectors,
        Instant createdAt) {

    public AttestedNode {
        Objects.requireNonNull(spiffeId, "spiffeId");
        Objects.requireNonNull(attestationDataType, "attestationDataType");
        Objects.requireNonNull(certificate, "certificate");
        Objects.requireNonNull(newCertificate, "newCertificate");
        selectors = List.copyOf(new TreeSet<>(Objects.requireNonNull(selectors, "selectors")));
        Objects.requireNonNull(createdAt, "createdAt");
    }

    /** A node as first attested: not banned, no pending certificate, created now (set by the datastore). */
    public static AttestedNode attested(SpiffeId spiffeId, String attestationDataType, NodeCertificate certificate,
            boolean canReattest, List<Selector> selectors) {
        return new AttestedNode(spiffeId, attestationDataType, Optional.of(certificate), Optional.empty(),
                canReattest, false, selectors, Instant.EPOCH);
    }
}
