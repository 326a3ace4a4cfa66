package dev.bourne.agent.runtime;

import java.time.Instant;
import java.util.Optional;

/**
 * The agent's state as health checks and operators see it.
 *
 * @param attested the agent holds a valid agent SVID
 * @param synced at least one entry sync succeeded since the agent started (the Workload API answers)
 * @param lastSync when the last successful sync ended
 * @param reason why the agent is not ready, or the last error, or "" when all is well
 */
public record AgentStatus(boolean attested, boolean synced, Optional<Instant> lastSync, String reason) {

    /** Ready: attested and synced (the {@code /ready} probe). */
    public boolean ready() {
        return attested && synced;
    }
}
