package dev.bourne.appliance.attestation;

import dev.bourne.core.spiffeid.SpiffeId;
import java.util.List;
import java.util.Objects;

/**
 * What a node attestor proved: the agent's SPIFFE ID, the selector values (the catalog adds the type), whether the
 * agent may attest again later instead of renewing, and a log-safe description of the evidence for the audit log.
 *
 * @param agentId the agent's ID, {@code spiffe://<td>/spire/agent/<attestor>/...}
 * @param selectorValues selector values, without type
 * @param canReattest whether the evidence is durable (a TPM), so a known agent may attest again
 * @param evidence what the audit log records about the evidence (a hash or prefix, never a secret)
 */
public record NodeAttestation(SpiffeId agentId, List<String> selectorValues, boolean canReattest, String evidence) {

    public NodeAttestation {
        Objects.requireNonNull(agentId, "agentId");
        selectorValues = List.copyOf(selectorValues);
        Objects.requireNonNull(evidence, "evidence");
    }
}
