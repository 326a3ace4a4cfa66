package dev.bourne.appliance.federation;

import dev.bourne.appliance.datastore.BundleEndpointProfile;
import dev.bourne.appliance.datastore.BundleFetchState;
import dev.bourne.appliance.datastore.DataStore;
import dev.bourne.appliance.datastore.DataStoreException;
import dev.bourne.appliance.datastore.FederationRelationship;
import dev.bourne.appliance.datastore.NotFoundException;
import dev.bourne.appliance.datastore.Page;
import dev.bourne.appliance.datastore.PageRequest;
import dev.bourne.appliance.health.ServerMetrics;
import dev.bourne.core.bundle.SpiffeBundle;
import dev.bourne.core.spiffeid.TrustDomain;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.Objects;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the federated bundles of every federation relationship current (SPIFFE Federation 4.1, 4.2 and 6.2): each
 * relationship has its own schedule; a fetch that succeeds plans the next one at the bundle's
 * {@code spiffe_refresh_hint} (five minutes when absent, as the specification recommends), clamped to the configured
 * minimum and maximum; a fetch that fails retries after a jittered exponential backoff starting at the minimum and
 * bounded by the maximum, so a broken peer is neither hammered nor forgotten.
 *
 * <p>What is stored follows Federation 4.2: a fetched bundle replaces the stored one only when it is different and its
 * {@code spiffe_sequence} is not lower (a bundle without a sequence is taken as the most recent). A bundle with the
 * stored sequence but other content is refused and logged: one sequence number cannot name two bundles. On any error
 * the stored bundle stays, so validation keeps working on the last good bundle. Each decision is written with the
 * datastore's compare-and-set, so several servers sharing a database can all fetch: a write based on a bundle another
 * server replaced meanwhile is decided again against the new one.
 *
 * <p>Time comes from the injected {@link Clock} and the work is driven by {@link #runDue()}: production calls it every
 * {@link #TICK} from {@link #start}, tests call it after moving a test clock. Relationships created, changed or deleted
 * through the admin API are picked up at once ({@link #reload()}), those of other servers within
 * {@link #RELOAD_INTERVAL}.
 */
public final class FederationRefresher implements AutoCloseable {
    /** The refresh interval when a bundle has no hint (Federation 4.1 recommends five minutes). */
    public static final Duration DEFAULT_REFRESH_HINT = Duration.ofMinutes(5);
    /** How often due fetches are looked for. */
    public static final Duration TICK = Duration.ofSeconds(1);
    /** How often the relationships are read again from the datastore (changes made through other servers). */
    public static final Duration RELOAD_INTERVAL = Duration.ofSeconds(30);
    /** How often a store is tried again when other servers keep replacing the bundle between read and write. */
    static final int MAX_STORE_ATTEMPTS = 3;

    /** Format arguments: fetched sequence, stored sequence. */
    public static final String LOWER_SEQUENCE = "the peer's bundle has sequence %d, lower than the stored bundle's %d:"
            + " kept the stored bundle";
    /** Format argument: the sequence. */
    public static final String SAME_SEQUENCE = "the peer's bundle has the stored bundle's sequence %d but other"
            + " authorities: kept the stored bundle";
    public static final String STORE_CONTENDED = "the stored bundle kept changing while this server stored the fetched"
            + " one; trying again later";
    /** Format argument: the datastore's message. */
    public static final String DATASTORE_FAILED = "the datastore failed: %s";
    public static final String INTERNAL = "internal error (see the server log)";

    /** Metric results. */
    static final String STORED = "stored";
    static final String UNCHANGED = "unchanged";
    static final String FAILED = "failed";

    private static final Logger LOG = LoggerFactory.getLogger(FederationRefresher.class);

    private final DataStore dataStore;
    private final BundleFetcher fetcher;
    private final TrustDomain ownTrustDomain;
    private final Supplier<SpiffeBundle> ownBundle;
    private final FederationClientSettings settings;
    private final Clock clock;
    private final Random random;
    private final Executor executor;
    private final ServerMetrics metrics;
    private final ConcurrentMap<TrustDomain, Slot> slots = new ConcurrentHashMap<>();
    private volatile Instant nextReload = Instant.MIN;
    private ScheduledFuture<?> ticking;

    /**
     * @param dataStore relationships, their state and the federated bundles
     * @param fetcher fetches one endpoint
     * @param ownTrustDomain this server's trust domain
     * @param ownBundle this server's bundle (the CA's), for an endpoint whose SPIFFE ID is in this trust domain
     * @param settings refresh bounds
     * @param clock the time of schedules and records
     * @param random the backoff's jitter
     * @param executor runs fetches ({@link #runDue()} returns at once); tests pass {@code Runnable::run}
     * @param metrics fetch counters
     */
    public FederationRefresher(DataStore dataStore, BundleFetcher fetcher, TrustDomain ownTrustDomain,
            Supplier<SpiffeBundle> ownBundle, FederationClientSettings settings, Clock clock, Random random,
            Executor executor, ServerMetrics metrics) {
        this.dataStore = Objects.requireNonNull(dataStore, "dataStore");
        this.fetcher = Objects.requireNonNull(fetcher, "fetcher");
        this.ownTrustDomain = Objects.requireNonNull(ownTrustDomain, "ownTrustDomain");
        this.ownBundle = Objects.requireNonNull(ownBundle, "ownBundle");
        this.settings = Objects.requireNonNull(settings, "settings");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.random = Objects.requireNonNull(random, "random");
        this.executor = Objects.requireNonNull(executor, "executor");
        this.metrics = Objects.requireNonNull(metrics, "metrics");
    }

    /** Runs {@link #runDue()} every {@link #TICK} on {@code scheduler} until {@link #close()}. */
    public synchronized void start(ScheduledExecutorService scheduler) {
        if (ticking != null) {
            throw new IllegalStateException("already started");
        }
        ticking = scheduler.scheduleWithFixedDelay(this::tick, 0, TICK.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void tick() {
        try {
            runDue();
        } catch (RuntimeException e) {
            // A scheduled task that throws is never run again: log and carry on.
            LOG.error("federation: refresh round failed", e);
        }
    }

    /**
     * Reads the relationships again when {@link #RELOAD_INTERVAL} has passed, then starts the fetch of every
     * relationship whose next attempt has come and that is not being fetched already.
     */
    public void runDue() {
        Instant now = clock.instant();
        if (!now.isBefore(nextReload)) {
            try {
                reload();
            } catch (DataStoreException e) {
                LOG.warn("federation: cannot read the federation relationships: {}", e.getMessage());
                nextReload = now.plus(settings.minRefreshInterval());
            }
        }
        for (Slot slot : slots.values()) {
            if (slot.claimIfDue(now)) {
                try {
                    executor.execute(() -> {
                        try {
                            attempt(slot);
                        } finally {
                            slot.release();
                        }
                    });
                } catch (RejectedExecutionException e) {
                    slot.release();
                    return; // shutting down
                }
            }
        }
    }

    /**
     * Reads the relationships from the datastore: new ones are fetched at the next {@link #runDue()}, changed ones
     * (URL or profile) too, deleted ones are forgotten.
     */
    public void reload() throws DataStoreException {
        Instant now = clock.instant();
        Set<TrustDomain> present = new HashSet<>();
        PageRequest page = PageRequest.first(500);
        while (true) {
            Page<FederationRelationship> result = dataStore.listFederationRelationships(page);
            for (FederationRelationship relationship : result.items()) {
                present.add(relationship.trustDomain());
                slots.compute(relationship.trustDomain(), (td, slot) -> {
                    if (slot == null) {
                        return new Slot(relationship, now);
                    }
                    slot.update(relationship, now);
                    return slot;
                });
            }
            if (result.nextPageToken().isEmpty()) {
                break;
            }
            page = PageRequest.after(500, result);
        }
        slots.keySet().retainAll(present);
        nextReload = now.plus(RELOAD_INTERVAL);
    }

    /**
     * Fetches the relationship's endpoint now, on the calling thread ({@code federation refresh}), and plans the next
     * fetch from the outcome; empty when there is no such relationship.
     */
    public Optional<RefreshOutcome> refresh(TrustDomain trustDomain) throws DataStoreException {
        reload();
        Slot slot = slots.get(trustDomain);
        if (slot == null) {
            return Optional.empty();
        }
        return Optional.of(attempt(slot));
    }

    /** When the relationship's endpoint will be fetched next; empty when there is no such relationship. */
    public Optional<Instant> nextAttempt(TrustDomain trustDomain) {
        return Optional.ofNullable(slots.get(trustDomain)).map(Slot::nextAttempt);
    }

    private RefreshOutcome attempt(Slot slot) {
        FederationRelationship relationship = slot.relationship();
        TrustDomain td = relationship.trustDomain();
        RefreshOutcome outcome;
        Instant now;
        try {
            Optional<SpiffeBundle> endpointBundle = endpointBundle(relationship.profile());
            SpiffeBundle fetched = fetcher.fetch(relationship, endpointBundle);
            now = clock.instant();
            outcome = store(fetched, now, slot);
        } catch (BundleFetchException e) {
            now = clock.instant();
            outcome = new RefreshOutcome.Failed(e.getMessage(), now.plus(backoff(slot.failures() + 1)));
        } catch (DataStoreException e) {
            now = clock.instant();
            outcome = new RefreshOutcome.Failed(String.format(DATASTORE_FAILED, e.getMessage()),
                    now.plus(backoff(slot.failures() + 1)));
        } catch (RuntimeException e) {
            LOG.error("federation: fetching the bundle of {} failed", td, e);
            now = clock.instant();
            outcome = new RefreshOutcome.Failed(INTERNAL, now.plus(backoff(slot.failures() + 1)));
        }
        record(slot, outcome, now);
        return outcome;
    }

    private Optional<SpiffeBundle> endpointBundle(BundleEndpointProfile profile) throws DataStoreException {
        if (!(profile instanceof BundleEndpointProfile.HttpsSpiffe spiffe)) {
            return Optional.empty();
        }
        TrustDomain endpointDomain = spiffe.endpointSpiffeId().trustDomain();
        // The latest bundle of the endpoint ID's trust domain (Federation 5.2.2.4): the one stored for a peer (the
        // bootstrap bundle until the first fetch), or this server's own for an endpoint in this trust domain.
        return endpointDomain.equals(ownTrustDomain) ? Optional.of(ownBundle.get())
                : dataStore.getBundle(endpointDomain);
    }

    private RefreshOutcome store(SpiffeBundle fetched, Instant now, Slot slot) throws DataStoreException {
        Instant successNext = now.plus(successInterval(fetched));
        for (int attempt = 0; attempt < MAX_STORE_ATTEMPTS; attempt++) {
            Optional<SpiffeBundle> stored = dataStore.getBundle(fetched.trustDomain());
            if (stored.isPresent() && stored.get().equals(fetched)) {
                return new RefreshOutcome.Unchanged(fetched, successNext);
            }
            if (stored.isPresent() && stored.get().sequence().isPresent() && fetched.sequence().isPresent()) {
                long old = stored.get().sequence().getAsLong();
                long offered = fetched.sequence().getAsLong();
                if (offered < old) {
                    return new RefreshOutcome.Failed(String.format(LOWER_SEQUENCE, offered, old),
                            now.plus(backoff(slot.failures() + 1)));
                }
                if (offered == old) {
                    return new RefreshOutcome.Failed(String.format(SAME_SEQUENCE, offered),
                            now.plus(backoff(slot.failures() + 1)));
                }
            }
            if (dataStore.compareAndSetBundle(stored, fetched)) {
                return new RefreshOutcome.Stored(fetched, successNext);
            }
        }
        return new RefreshOutcome.Failed(STORE_CONTENDED, now.plus(backoff(slot.failures() + 1)));
    }

    /** The bundle's refresh hint (or the default) clamped to the configured bounds. */
    Duration successInterval(SpiffeBundle bundle) {
        Duration hint = bundle.refreshHint().orElse(DEFAULT_REFRESH_HINT);
        if (hint.compareTo(settings.minRefreshInterval()) < 0) {
            return settings.minRefreshInterval();
        }
        if (hint.compareTo(settings.maxRefreshInterval()) > 0) {
            return settings.maxRefreshInterval();
        }
        return hint;
    }

    /**
     * The wait after the {@code failures}-th failure in a row: the minimum interval doubled per earlier failure,
     * capped at the maximum, then a random point in its upper half (jitter, so servers sharing a database and
     * relationships failing together spread out).
     */
    Duration backoff(int failures) {
        long min = settings.minRefreshInterval().toMillis();
        long max = settings.maxRefreshInterval().toMillis();
        int doublings = Math.min(Math.max(failures - 1, 0), 40);
        long ceiling = min;
        for (int i = 0; i < doublings && ceiling < max; i++) {
            ceiling = Math.min(max, ceiling * 2);
        }
        ceiling = Math.min(ceiling, max);
        long half = ceiling / 2;
        long jitter;
        synchronized (random) {
            jitter = half == 0 ? 0 : (long) (random.nextDouble() * (ceiling - half + 1));
        }
        return Duration.ofMillis(Math.min(ceiling, half + jitter));
    }

    private void record(Slot slot, RefreshOutcome outcome, Instant now) {
        TrustDomain td = slot.relationship().trustDomain();
        BundleFetchState state = slot.recordOutcome(outcome, now);
        if (outcome instanceof RefreshOutcome.Stored stored) {
            metrics.federationFetch(td.name(), STORED);
            LOG.info("federation: stored the bundle of {} (sequence {}); next fetch at {}", td,
                    stored.bundle().sequence().isPresent() ? stored.bundle().sequence().getAsLong() : "none",
                    outcome.nextAttempt());
        } else if (outcome instanceof RefreshOutcome.Unchanged) {
            metrics.federationFetch(td.name(), UNCHANGED);
            LOG.debug("federation: the bundle of {} is unchanged; next fetch at {}", td, outcome.nextAttempt());
        } else if (outcome instanceof RefreshOutcome.Failed failed) {
            metrics.federationFetch(td.name(), FAILED);
            LOG.warn("federation: fetching the bundle of {} from {} failed ({} in a row): {}; kept the stored bundle,"
                    + " next attempt at {}", td, slot.relationship().bundleEndpointUrl(), state.consecutiveFailures(),
                    failed.reason(), outcome.nextAttempt());
        }
        try {
            dataStore.setBundleFetchState(td, state);
        } catch (NotFoundException e) {
            slots.remove(td, slot); // deleted meanwhile
        } catch (DataStoreException e) {
            LOG.warn("federation: cannot record the fetch state of {}: {}", td, e.getMessage());
        }
    }

    /** Stops the schedule; fetches in progress end on their own (bounded by the fetch timeout). */
    @Override
    public synchronized void close() {
        if (ticking != null) {
            ticking.cancel(false);
        }
    }

    /** One relationship's schedule and last outcome. Guarded by its own monitor. */
    private static final class Slot {
        private FederationRelationship relationship;
        private Instant nextAttempt;
        private boolean inFlight;
        private int failures;
        private Optional<Instant> lastSuccess;
        private Optional<Instant> lastErrorAt;
        private Optional<String> lastError;

        Slot(FederationRelationship relationship, Instant now) {
            this.relationship = relationship;
            this.nextAttempt = now;
            BundleFetchState stored = relationship.fetchState();
            this.failures = stored.consecutiveFailures();
            this.lastSuccess = stored.lastSuccessAt();
            this.lastErrorAt = stored.lastErrorAt();
            this.lastError = stored.lastError();
        }

        synchronized FederationRelationship relationship() {
            return relationship;
        }

        synchronized Instant nextAttempt() {
            return nextAttempt;
        }

        synchronized int failures() {
            return failures;
        }

        /** Takes a new URL or profile into account: such a relationship is fetched again at once. */
        synchronized void update(FederationRelationship next, Instant now) {
            boolean changed = !next.bundleEndpointUrl().equals(relationship.bundleEndpointUrl())
                    || !next.profile().equals(relationship.profile());
            relationship = next;
            if (changed) {
                nextAttempt = now;
                failures = 0;
            }
        }

        synchronized boolean claimIfDue(Instant now) {
            if (inFlight || now.isBefore(nextAttempt)) {
                return false;
            }
            inFlight = true;
            return true;
        }

        synchronized void release() {
            inFlight = false;
        }

        synchronized BundleFetchState recordOutcome(RefreshOutcome outcome, Instant now) {
            nextAttempt = outcome.nextAttempt();
            if (outcome instanceof RefreshOutcome.Failed failed) {
                failures++;
                lastErrorAt = Optional.of(now);
                lastError = Optional.of(failed.reason());
            } else {
                failures = 0;
                lastSuccess = Optional.of(now);
                lastError = Optional.empty();
            }
            return new BundleFetchState(lastSuccess, lastErrorAt, lastError, Optional.of(nextAttempt), failures);
        }
    }
}
