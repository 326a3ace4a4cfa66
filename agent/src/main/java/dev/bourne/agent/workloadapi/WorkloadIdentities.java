package dev.bourne.agent.workloadapi;

import dev.bourne.core.selector.Selector;
import dev.bourne.core.spiffeid.SpiffeId;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Where the Workload API gets what it hands out: the identities matching a workload's selectors (with the trust
 * bundles that workload may have), and JWT-SVIDs. Implemented by the agent's identity cache ({@code dev.bourne.agent.cache.IdentityCache}).
 *
 * <p>Empty results mean the agent is not ready (no bundle yet): the Workload API answers UNAVAILABLE.
 */
public interface WorkloadIdentities {

    /** The identity of a workload with these selectors now, or empty when the agent is not ready. */
    Optional<WorkloadIdentity> identityFor(List<Selector> selectors);

    /**
     * Calls {@code listener} now with the current identity of a workload with these selectors, then again whenever
     * it changes, until the returned watch is closed. Calls for one watch never overlap.
     */
    Watch watch(List<Selector> selectors, Consumer<Optional<WorkloadIdentity>> listener);

    /**
     * A JWT-SVID for {@code spiffeId}, which the caller has checked the workload is entitled to.
     *
     * @throws JwtSvidMintException when no token can be had now (server unreachable, not ready)
     */
    String mintJwtSvid(SpiffeId spiffeId, List<String> audience) throws JwtSvidMintException;

    /** A registration from {@link #watch}; closing it stops the calls. */
    interface Watch extends AutoCloseable {
        @Override
        void close();
    }
}
