package dev.bourne.appliance.agentapi;

import dev.bourne.core.selector.Selector;
import dev.bourne.core.spiffeid.SpiffeId;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The audit log: one line per attestation decision and SVID issuance, on the logger {@value #LOGGER} so operators can
 * route it apart. Lines carry the evidence's log-safe description (a token hash prefix, never a token), the agent ID
 * (join-token IDs shown with the token's fingerprint in place of the token) and selectors. Disabled by {@code audit_log_enabled = false}.
 */
public final class AuditLog {
    public static final String LOGGER = "bourne.audit";
    private static final Logger LOG = LoggerFactory.getLogger(LOGGER);

    private final boolean enabled;
    private final Function<SpiffeId, String> loggable;

    /**
     * @param loggable how an agent ID appears in the log (join-token IDs as a fingerprint): see
     *     {@code NodeAttestors.loggable}
     */
    public AuditLog(boolean enabled, Function<SpiffeId, String> loggable) {
        this.enabled = enabled;
        this.loggable = Objects.requireNonNull(loggable, "loggable");
    }

    public void attested(String attestor, String agentId, List<Selector> selectors, String evidence,
            String serial) {
        if (enabled) {
            LOG.info("node attestation succeeded: attestor={} agent_id={} selectors={} evidence=[{}] svid_serial={}",
                    attestor, agentId, selectors, evidence, serial);
        }
    }

    public void attestationFailed(String attestor, String reason) {
        if (enabled) {
            LOG.warn("node attestation failed: attestor={} reason={}", attestor, reason);
        }
    }

    public void renewed(SpiffeId agentId, String serial) {
        if (enabled) {
            LOG.info("agent SVID renewed: agent_id={} svid_serial={}", loggable.apply(agentId), serial);
        }
    }

    /** A renewal whose continuous attestation succeeded: the evidence, the node's selectors now, and whether they moved. */
    public void renewedAttested(String attestor, String agentId, List<Selector> selectors, boolean selectorsChanged,
            String evidence, String serial) {
        if (enabled) {
            LOG.info("agent SVID renewed with continuous attestation: attestor={} agent_id={} selectors={}"
                    + " selectors_changed={} evidence=[{}] svid_serial={}", attestor, agentId, selectors,
                    selectorsChanged, evidence, serial);
        }
    }

    /** A renewal refused by continuous attestation (no evidence, stale challenge, evidence refused): no SVID issued. */
    public void renewalRefused(String attestor, SpiffeId agentId, String reason) {
        if (enabled) {
            LOG.warn("agent SVID renewal refused: attestor={} agent_id={} reason={}", attestor,
                    loggable.apply(agentId), reason);
        }
    }

    /** An agent evicted (its attested node deleted) because its attestor said so on a refused renewal. */
    public void evicted(String attestor, SpiffeId agentId, String reason) {
        if (enabled) {
            LOG.warn("agent evicted by continuous attestation: attestor={} agent_id={} reason={}", attestor,
                    loggable.apply(agentId), reason);
        }
    }

    public void svidIssued(String kind, SpiffeId agentId, String entryId, SpiffeId spiffeId, String detail) {
        if (enabled) {
            LOG.info("{} SVID issued: agent_id={} entry_id={} spiffe_id={} {}", kind, loggable.apply(agentId), entryId,
                    spiffeId, detail);
        }
    }

    public void svidRefused(String kind, SpiffeId agentId, String entryId, String reason) {
        if (enabled) {
            LOG.warn("{} SVID refused: agent_id={} entry_id={} reason={}", kind, loggable.apply(agentId), entryId,
                    reason);
        }
    }
}
