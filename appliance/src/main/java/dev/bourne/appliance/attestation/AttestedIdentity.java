package dev.bourne.appliance.attestation;

import dev.bourne.core.selector.Selector;
import dev.bourne.core.spiffeid.SpiffeId;
import java.util.List;
import java.util.Objects;

/**
 * The catalog's result of a successful attestation: the agent ID, its selectors with the type stamped from the
 * attestor's name, the attestor name, the attestation's log-safe evidence and the agent ID as logs may show it.
 */
public record AttestedIdentity(String attestor, SpiffeId agentId, List<Selector> selectors, boolean canReattest,
        String evidence, String loggableAgentId) {

    public AttestedIdentity {
        Objects.requireNonNull(attestor, "attestor");
        Objects.requireNonNull(agentId, "agentId");
        selectors = List.copyOf(selectors);
        Objects.requireNonNull(evidence, "evidence");
        Objects.requireNonNull(loggableAgentId, "loggableAgentId");
    }
}
