package dev.bourne.agent.sync;

import dev.bourne.agent.cache.CacheContents;
import dev.bourne.agent.cache.IdentityCache;
import dev.bourne.agent.cache.WorkloadEntry;
import dev.bourne.agent.cache.WorkloadKeyGenerator;
import dev.bourne.agent.node.AgentSvid;
import dev.bourne.agent.node.Csrs;
import dev.bourne.agent.node.ServerCallException;
import dev.bourne.agent.workloadapi.WorkloadX509Svid;
import dev.bourne.core.bundle.BundleSource;
import dev.bourne.core.bundle.SpiffeBundle;
import dev.bourne.core.spiffeid.SpiffeId;
import dev.bourne.core.spiffeid.TrustDomain;
import dev.bourne.core.svid.x509.X509Svid;
import dev.bourne.core.svid.x509.X509SvidException;
import dev.bourne.core.svid.x509.X509SvidVerifier;
import dev.bourne.agent.workloadapi.WorkloadKey;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One round of the agent's entry sync: asks the server what changed (entries, and the federated bundles those
 * entries federate with), mints X.509-SVIDs for new and changed entries and for SVIDs past half their lifetime
 * (pre-minting, so a workload never waits for the server), verifies every SVID against the trust bundle, and publishes
 * entries, SVIDs, bundle and federated bundles to the {@link IdentityCache} in one atomic swap.
 *
 * <p>Not thread-safe: the sync loop calls {@link #syncOnce} from one thread.
 */
public final class EntrySynchronizer {
    /** Most SVIDs asked for in one BatchNewX509SVID call. */
    public static final int BATCH_SIZE = 100;

    private static final Logger LOG = LoggerFactory.getLogger(EntrySynchronizer.class);

    private final EntryServer server;
    private final IdentityCache cache;
    private final WorkloadKeyGenerator keys;
    private final Clock clock;
    private final Map<String, SyncedEntry> entries = new LinkedHashMap<>();
    /** Revisions of entries the server sent that are not served (node aliases, unusable): not asked for again. */
    private final Map<String, Long> ignored = new LinkedHashMap<>();
    /** Federated bundles the server sent for the agent's entries, by trust domain, in name order. */
    private final Map<TrustDomain, FederatedBundleUpdate> federated = new TreeMap<>();
    private final Consumer<SpiffeBundle> bundleListener;

    /**
     * @param bundleListener told about every bundle received (the agent persists it and trusts it for TLS)
     */
    public EntrySynchronizer(EntryServer server, IdentityCache cache, WorkloadKeyGenerator keys, Clock clock,
            Consumer<SpiffeBundle> bundleListener) {
        this.server = Objects.requireNonNull(server, "server");
        this.cache = Objects.requireNonNull(cache, "cache");
        this.keys = Objects.requireNonNull(keys, "keys");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.bundleListener = Objects.requireNonNull(bundleListener, "bundleListener");
    }

    /** What one round did. */
    public record Report(int changed, int removed, int minted, List<String> failures) {
        public Report {
            failures = List.copyOf(failures);
        }
    }

    /**
     * Runs one round.
     *
     * @throws ServerCallException when the server could not be asked; the cache is left as it was
     */
    public Report syncOnce() throws ServerCallException {
        SpiffeBundle bundle = server.bundle();
        bundleListener.accept(bundle);
        Map<String, Long> known = new LinkedHashMap<>();
        entries.forEach((id, e) -> known.put(id, e.revision()));
        known.putAll(ignored);
        Map<TrustDomain, String> knownBundles = new LinkedHashMap<>();
        federated.forEach((td, b) -> knownBundles.put(td, b.digest()));
        EntryChanges changes = server.sync(known, knownBundles);
        List<String> failures = new ArrayList<>(changes.bundleFailures());
        for (TrustDomain removed : changes.removedFederatedBundles()) {
            federated.remove(removed);
        }
        for (FederatedBundleUpdate update : changes.federatedBundles()) {
            if (update.bundle().trustDomain().equals(bundle.trustDomain())) {
                failures.add("federated bundle of the agent's own trust domain " + bundle.trustDomain()
                        + " refused");
                continue;
            }
            federated.put(update.bundle().trustDomain(), update);
        }
        for (EntryChanges.Ignored entry : changes.ignored()) {
            if (!entry.expected()) {
                failures.add("entry " + entry.id() + " " + entry.reason());
            }
            entries.remove(entry.id());
            ignored.put(entry.id(), entry.revision());
        }
        for (String removed : changes.removed()) {
            entries.remove(removed);
            ignored.remove(removed);
        }
        Map<String, SyncedEntry> changedById = new HashMap<>();
        for (SyncedEntry entry : changes.changed()) {
            entries.put(entry.id(), entry);
            ignored.remove(entry.id());
            changedById.put(entry.id(), entry);
        }

        Map<String, WorkloadX509Svid> current = cache.contents().map(CacheContents::svids).orElse(Map.of());
        Instant now = clock.instant();
        X509SvidVerifier verifier = new X509SvidVerifier(BundleSource.of(bundle), clock);
        Map<String, WorkloadX509Svid> svids = new LinkedHashMap<>();
        List<SyncedEntry> toMint = new ArrayList<>();
        for (SyncedEntry entry : entries.values()) {
            WorkloadX509Svid svid = current.get(entry.id());
            if (svid != null && !changedById.containsKey(entry.id()) && usable(svid, entry.entry(), verifier, now)) {
                svids.put(entry.id(), svid);
            } else {
                if (svid != null && svid.spiffeId().equals(entry.entry().spiffeId()) && stillValid(svid, now)) {
                    // Keep serving the old SVID until its replacement arrives (a hint change does not revoke it).
                    svids.put(entry.id(), svid);
                }
                toMint.add(entry);
            }
        }

        int minted = 0;
        for (int from = 0; from < toMint.size(); from += BATCH_SIZE) {
            List<SyncedEntry> batch = toMint.subList(from, Math.min(toMint.size(), from + BATCH_SIZE));
            Map<String, WorkloadKeyGenerator.GeneratedKey> generated = new HashMap<>();
            List<SvidRequest> requests = new ArrayList<>();
            for (SyncedEntry entry : batch) {
                WorkloadKeyGenerator.GeneratedKey key = keys.generate();
                generated.put(entry.id(), key);
                requests.add(new SvidRequest(entry.id(), Csrs.create(key.publicKey(), key.privateKey())));
            }
            List<SvidResult> results;
            try {
                results = server.newX509Svids(requests);
            } catch (ServerCallException e) {
                if (e.kind() != ServerCallException.Kind.REJECTED) {
                    throw e;
                }
                failures.add("batch of " + batch.size() + ": " + e.getMessage());
                continue;
            }
            for (int i = 0; i < batch.size(); i++) {
                SyncedEntry entry = batch.get(i);
                SvidResult result = results.get(i);
                if (!result.entryId().equals(entry.id()) || result.error().isPresent()) {
                    failures.add(entry.id() + ": " + result.error().orElse("answer for another entry"));
                    continue;
                }
                Optional<WorkloadX509Svid> svid = accept(entry.entry(), result, generated.get(entry.id()), verifier);
                if (svid.isEmpty()) {
                    failures.add(entry.id() + ": the server's SVID did not verify");
                    continue;
                }
                svids.put(entry.id(), svid.get());
                minted++;
            }
        }
        for (String failure : failures) {
            LOG.warn("entry sync: {}", failure);
        }

        List<WorkloadEntry> published = new ArrayList<>();
        for (SyncedEntry entry : entries.values()) {
            published.add(entry.entry());
        }
        Map<TrustDomain, SpiffeBundle> federatedBundles = new LinkedHashMap<>();
        federated.forEach((td, b) -> federatedBundles.put(td, b.bundle()));
        CacheContents next = new CacheContents(bundle, federatedBundles, published, svids);
        cache.update(next);
        return new Report(changes.changed().size(), changes.removed().size(), minted, failures);
    }

    /** The entries held now, by id, with revisions. */
    public Map<String, SyncedEntry> entries() {
        return Map.copyOf(entries);
    }

    /** The id of an entry granting {@code spiffeId}, for JWT-SVID requests. */
    public Optional<String> entryIdFor(SpiffeId spiffeId) {
        for (SyncedEntry entry : List.copyOf(entries.values())) {
            if (entry.entry().spiffeId().equals(spiffeId)) {
                return Optional.of(entry.id());
            }
        }
        return Optional.empty();
    }

    /** The federated bundles held now, by trust domain. */
    public Map<TrustDomain, FederatedBundleUpdate> federatedBundles() {
        return Map.copyOf(federated);
    }

    /** Forgets every entry and federated bundle (after re-attestation as a different agent). */
    public void reset() {
        entries.clear();
        ignored.clear();
        federated.clear();
    }

    private static boolean stillValid(WorkloadX509Svid svid, Instant now) {
        return now.isBefore(svid.chain().get(0).getNotAfter().toInstant());
    }

    /** Whether an SVID can stay: same ID, before half-life, and still chaining to the current bundle. */
    private static boolean usable(WorkloadX509Svid svid, WorkloadEntry entry, X509SvidVerifier verifier, Instant now) {
        if (!svid.spiffeId().equals(entry.spiffeId()) || !svid.hint().equals(entry.hint())) {
            return false;
        }
        var leaf = svid.chain().get(0);
        if (!now.isBefore(AgentSvid.halfLife(leaf.getNotBefore().toInstant(), leaf.getNotAfter().toInstant()))) {
            return false;
        }
        try {
            verifier.verify(svid.chain());
            return true;
        } catch (X509SvidException e) {
            return false;
        }
    }

    /** The SVID, if it names the entry's ID, is for the key the agent generated, and chains to the bundle. */
    private static Optional<WorkloadX509Svid> accept(WorkloadEntry entry, SvidResult result,
            WorkloadKeyGenerator.GeneratedKey key, X509SvidVerifier verifier) {
        try {
            X509Svid verified = verifier.verify(result.chain());
            if (!verified.spiffeId().equals(entry.spiffeId())
                    || !verified.leaf().getPublicKey().equals(key.publicKey())) {
                return Optional.empty();
            }
            WorkloadKey privateKey = key.privateKey();
            return Optional.of(new WorkloadX509Svid(entry.entryId(), result.chain(), privateKey, entry.hint()));
        } catch (X509SvidException e) {
            return Optional.empty();
        }
    }
}
