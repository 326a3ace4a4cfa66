package dev.bourne.agent.cache;

import dev.bourne.agent.workloadapi.JwtSvidMintException;
import dev.bourne.agent.workloadapi.WorkloadIdentities;
import dev.bourne.agent.workloadapi.WorkloadIdentity;
import dev.bourne.core.selector.Selector;
import dev.bourne.core.spiffeid.SpiffeId;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's in-memory cache of workload identities, the source the Workload API reads: immutable
 * {@link CacheContents} published by one atomic swap, and watchers told about every change that concerns them.
 *
 * <p>Until the first {@link #update} the agent is not ready and every lookup is empty. Watchers are called on the
 * thread that updates the cache, outside any lock the readers need, and only when the identity of their workload
 * actually changed, so a rotation of one entry's SVID does not wake every stream.
 */
public final class IdentityCache implements WorkloadIdentities {
    private static final Logger LOG = LoggerFactory.getLogger(IdentityCache.class);

    public static final String NO_CONTENTS = "the identity cache has no contents yet";

    private final AtomicReference<CacheContents> contents = new AtomicReference<>();
    private final CopyOnWriteArrayList<Watcher> watchers = new CopyOnWriteArrayList<>();
    private final JwtSvidMinter jwtMinter;
    private final Object updates = new Object();

    /** @param jwtMinter where JWT-SVIDs come from (the server client) */
    public IdentityCache(JwtSvidMinter jwtMinter) {
        this.jwtMinter = Objects.requireNonNull(jwtMinter, "jwtMinter");
    }

    /** Replaces the whole contents and notifies watchers whose identity changed. */
    public void update(CacheContents next) {
        Objects.requireNonNull(next, "next");
        synchronized (updates) {
            publish(next);
        }
    }

    /**
     * Applies {@code change} to the current contents atomically with respect to other updates (a rotation of one
     * SVID, a new bundle).
     *
     * @throws IllegalStateException when the cache has no contents yet
     */
    public void modify(UnaryOperator<CacheContents> change) {
        synchronized (updates) {
            CacheContents current = contents.get();
            if (current == null) {
                throw new IllegalStateException(NO_CONTENTS);
            }
            publish(Objects.requireNonNull(change.apply(current), "contents"));
        }
    }

    // Updates are serialised (callers hold `updates`) so watchers see states in order; readers never take the lock.
    private void publish(CacheContents next) {
        contents.set(next);
        for (Watcher watcher : watchers) {
            try {
                watcher.offer(next);
            } catch (RuntimeException e) {
                // One broken stream must not keep the others from their rotations.
                LOG.warn("an identity watcher failed; it stays registered until it is closed", e);
            }
        }
    }

    /** The current contents, if the agent is ready. */
    public Optional<CacheContents> contents() {
        return Optional.ofNullable(contents.get());
    }

    @Override
    public Optional<WorkloadIdentity> identityFor(List<Selector> selectors) {
        CacheContents now = contents.get();
        return now == null ? Optional.empty() : Optional.of(now.identityFor(Set.copyOf(selectors)));
    }

    @Override
    public Watch watch(List<Selector> selectors, Consumer<Optional<WorkloadIdentity>> listener) {
        Watcher watcher = new Watcher(Set.copyOf(selectors), listener);
        synchronized (updates) {
            watchers.add(watcher);
            watcher.offerFirst(contents.get());
        }
        return () -> watchers.remove(watcher);
    }

    @Override
    public String mintJwtSvid(SpiffeId spiffeId, List<String> audience) throws JwtSvidMintException {
        if (contents.get() == null) {
            throw new JwtSvidMintException("the agent is not ready");
        }
        return jwtMinter.mint(spiffeId, List.copyOf(audience));
    }

    /** How many watches are open (streams being served). */
    public int watcherCount() {
        return watchers.size();
    }

    private static final class Watcher {
        private final Set<Selector> selectors;
        private final Consumer<Optional<WorkloadIdentity>> listener;
        private Optional<WorkloadIdentity> last;

        Watcher(Set<Selector> selectors, Consumer<Optional<WorkloadIdentity>> listener) {
            this.selectors = selectors;
            this.listener = listener;
        }

        void offerFirst(CacheContents contents) {
            last = contents == null ? Optional.empty() : Optional.of(contents.identityFor(selectors));
            listener.accept(last);
        }

        void offer(CacheContents contents) {
            Optional<WorkloadIdentity> next = Optional.of(contents.identityFor(selectors));
            if (!next.equals(last)) {
                last = next;
                listener.accept(next);
            }
        }
    }
}
