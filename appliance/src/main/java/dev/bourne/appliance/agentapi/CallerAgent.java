package dev.bourne.appliance.agentapi;

import dev.bourne.appliance.datastore.AttestedNode;
import dev.bourne.core.spiffeid.SpiffeId;
import java.math.BigInteger;
import java.util.Objects;

/**
 * The authenticated agent behind one call: its SPIFFE ID, the attested node as the datastore holds it, and the serial
 * number of the agent SVID it presented. Set by {@link AgentAuthInterceptor}, read by the services.
 */
public record CallerAgent(SpiffeId agentId, AttestedNode node, BigInteger presentedSerial) {

    public CallerAgent {
        Objects.requireNonNull(agentId, "agentId");
        Objects.requireNonNull(node, "node");
        Objects.requireNonNull(presentedSerial, "presentedSerial");
    }
}
