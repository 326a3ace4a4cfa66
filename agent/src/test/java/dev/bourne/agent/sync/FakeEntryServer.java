package dev.bourne.agent.sync;

import dev.bourne.agent.cache.WorkloadEntry;
import dev.bourne.agent.node.ServerCallException;
import dev.bourne.core.bundle.SpiffeBundle;
import dev.bourne.core.spiffeid.SpiffeId;
import dev.bourne.core.spiffeid.TrustDomain;
import dev.bourne.testing.pki.TestCa;
import java.io.IOException;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCSException;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequest;

/**
 * A server for sync tests: entries by id with revisions, answers by revision as SyncAuthorizedEntries does, and a real
 * test CA that verifies each CSR's signature and issues X.509-SVIDs with the entry's ID and a set lifetime.
 */
final class FakeEntryServer implements EntryServer {
    final TestCa ca = TestCa.root("example.org");
    private final Clock clock;
    private final Map<String, SyncedEntry> entries = new LinkedHashMap<>();
    final List<Integer> batchSizes = new ArrayList<>();
    /** Node alias entries by id and revision: sent as ignored, never as workload entries. */
    final Map<String, Long> aliases = new LinkedHashMap<>();
    /** How many known revisions the agent sent on each sync. */
    final List<Integer> syncCalls = new ArrayList<>();
    final List<String> jwtCalls = new ArrayList<>();
    /** Federated bundles the server sends, as the real server would for the agent's entries. */
    final Map<TrustDomain, FederatedBundleUpdate> federated = new LinkedHashMap<>();
    /** The federated bundle digests the agent sent on each sync. */
    final List<Map<TrustDomain, String>> bundleSyncs = new ArrayList<>();
    Duration svidTtl = Duration.ofHours(1);
    Duration jwtTtl = Duration.ofMinutes(5);
    boolean down;
    boolean agentUnknown;
    /** When set, SVIDs are issued for this ID whatever the entry says (a misbehaving server). */
    SpiffeId issueAs;
    /** When set, SVIDs are signed by this CA instead (a server the bundle does not vouch for). */
    TestCa signWith;

    FakeEntryServer(Clock clock) {
        this.clock = clock;
    }

    void put(WorkloadEntry entry, long revision) {
        entries.put(entry.entryId(), new SyncedEntry(entry, revision));
    }

    void remove(String id) {
        entries.remove(id);
    }

    private void check() throws ServerCallException {
        if (down) {
            throw new ServerCallException(ServerCallException.Kind.UNAVAILABLE, "server down");
        }
        if (agentUnknown) {
            throw new ServerCallException(ServerCallException.Kind.AGENT_UNKNOWN, "agent evicted");
        }
    }

    @Override
    public EntryChanges sync(Map<String, Long> known, Map<TrustDomain, String> knownBundles)
            throws ServerCallException {
        check();
        List<SyncedEntry> changed = new ArrayList<>();
        for (SyncedEntry entry : entries.values()) {
            Long revision = known.get(entry.id());
            if (revision == null || revision != entry.revision()) {
                changed.add(entry);
            }
        }
        List<String> removed = known.keySet().stream().filter(id -> !entries.containsKey(id)).toList();
        List<EntryChanges.Ignored> ignoredOut = new ArrayList<>();
        for (Map.Entry<String, Long> alias : aliases.entrySet()) {
            Long revision = known.get(alias.getKey());
            if (revision == null || !revision.equals(alias.getValue())) {
                ignoredOut.add(new EntryChanges.Ignored(alias.getKey(), alias.getValue(), "node alias", true));
            }
        }
        removed = removed.stream().filter(id -> !aliases.containsKey(id)).toList();
        syncCalls.add(known.size());
        bundleSyncs.add(Map.copyOf(knownBundles));
        List<FederatedBundleUpdate> bundlesOut = new ArrayList<>();
        federated.forEach((td, update) -> {
            if (!update.digest().equals(knownBundles.get(td))) {
                bundlesOut.add(update);
            }
        });
        List<TrustDomain> bundlesRemoved = knownBundles.keySet().stream().filter(td -> !federated.containsKey(td))
                .toList();
        return new EntryChanges(changed, removed, ignoredOut, bundlesOut, bundlesRemoved, List.of());
    }

    @Override
    public List<SvidResult> newX509Svids(List<SvidRequest> requests) throws ServerCallException {
        check();
        batchSizes.add(requests.size());
        List<SvidResult> results = new ArrayList<>();
        for (SvidRequest request : requests) {
            SyncedEntry entry = entries.get(request.entryId());
            if (entry == null) {
                results.add(SvidResult.refused(request.entryId(), "entry not found"));
                continue;
            }
            PublicKey key;
            try {
                JcaPKCS10CertificationRequest csr = new JcaPKCS10CertificationRequest(request.csr());
                key = csr.getPublicKey();
                if (!csr.isSignatureValid(new JcaContentVerifierProviderBuilder().build(key))) {
                    results.add(SvidResult.refused(request.entryId(), "bad CSR signature"));
                    continue;
                }
            } catch (IOException | PKCSException | java.security.GeneralSecurityException
                    | org.bouncycastle.operator.OperatorCreationException e) {
                results.add(SvidResult.refused(request.entryId(), "bad CSR"));
                continue;
            }
            TestCa signer = signWith == null ? ca : signWith;
            SpiffeId id = issueAs == null ? entry.entry().spiffeId() : issueAs;
            Instant now = clock.instant();
            X509Certificate leaf = signer.leafSpec(id.toString(), key).validity(now.minusSeconds(1), now.plus(svidTtl))
                    .issue();
            results.add(SvidResult.issued(request.entryId(), TestCa.svidChain(leaf, signer)));
        }
        return results;
    }

    @Override
    public JwtToken newJwtSvid(String entryId, List<String> audience) throws ServerCallException {
        check();
        jwtCalls.add(entryId + " " + audience);
        Instant now = clock.instant();
        return new JwtToken("token-" + jwtCalls.size(), now, now.plus(jwtTtl));
    }

    @Override
    public SpiffeBundle bundle() throws ServerCallException {
        check();
        return SpiffeBundle.of(dev.bourne.core.spiffeid.TrustDomain.parse("example.org"), List.of(ca.certificate()),
                Map.of());
    }
}
