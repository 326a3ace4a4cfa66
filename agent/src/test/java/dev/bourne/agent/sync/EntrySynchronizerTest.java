package dev.bourne.agent.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bourne.agent.cache.CacheContents;
import dev.bourne.agent.cache.IdentityCache;
import dev.bourne.agent.cache.WorkloadEntry;
import dev.bourne.agent.cache.WorkloadKeyGenerator;
import dev.bourne.agent.node.ServerCallException;
import dev.bourne.agent.workloadapi.WorkloadIdentity;
import dev.bourne.agent.workloadapi.WorkloadX509Svid;
import dev.bourne.core.bundle.SpiffeBundle;
import dev.bourne.core.selector.Selector;
import dev.bourne.core.spiffeid.SpiffeId;
import dev.bourne.core.spiffeid.TrustDomain;
import dev.bourne.testing.pki.TestCa;
import dev.bourne.testing.pki.TestKeys;
import dev.bourne.testing.time.MutableClock;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class EntrySynchronizerTest {
    private static final Selector UID_1000 = new Selector("unix", "uid:1000");
    private static final Selector UID_1001 = new Selector("unix", "uid:1001");

    private final MutableClock clock = new MutableClock(Instant.now());
    private final FakeEntryServer server = new FakeEntryServer(clock);
    private final IdentityCache cache = new IdentityCache((id, aud) -> "unused");
    private final List<SpiffeBundle> bundlesSeen = new ArrayList<>();
    private final EntrySynchronizer sync = new EntrySynchronizer(server, cache,
            new WorkloadKeyGenerator(new SecureRandom()), clock, bundlesSeen::add);

    private static WorkloadEntry entry(String id, String path, Selector... selectors) {
        return WorkloadEntry.of(id, SpiffeId.parse("spiffe://example.org/" + path), selectors);
    }

    private WorkloadIdentity identity(Selector... selectors) {
        return cache.identityFor(List.of(selectors)).orElseThrow();
    }

    @Test
    void firstSync_mintsAnSvidPerEntryForAKeyOnlyTheAgentHolds() throws Exception {
        server.put(entry("e1", "web", UID_1000), 1);
        server.put(entry("e2", "db", UID_1001), 1);

        EntrySynchronizer.Report report = sync.syncOnce();

        assertEquals(2, report.changed());
        assertEquals(2, report.minted());
        assertTrue(report.failures().isEmpty());
        WorkloadX509Svid web = identity(UID_1000).svids().get(0);
        assertEquals(SpiffeId.parse("spiffe://example.org/web"), web.spiffeId());
        assertEquals(1, identity(UID_1000).svids().size());
        // The private key the cache serves signs what the certificate's public key verifies.
        PrivateKey key = KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(web.key().pkcs8()));
        Signature signer = Signature.getInstance("SHA256withECDSA");
        signer.initSign(key);
        signer.update(new byte[] {1, 2, 3});
        byte[] signature = signer.sign();
        Signature verifier = Signature.getInstance("SHA256withECDSA");
        verifier.initVerify(web.chain().get(0).getPublicKey());
        verifier.update(new byte[] {1, 2, 3});
        assertTrue(verifier.verify(signature));
        assertEquals(List.of(server.ca.certificate()), identity(UID_1000).bundle().x509Authorities());
        assertEquals(1, bundlesSeen.size());
    }

    @Test
    void manyEntries_areMintedInBatchesOfAtMostBatchSize() throws Exception {
        for (int i = 0; i < 250; i++) {
            server.put(entry("e" + i, "w" + i, UID_1000), 1);
        }
        EntrySynchronizer.Report report = sync.syncOnce();
        assertEquals(List.of(100, 100, 50), server.batchSizes);
        assertEquals(250, report.minted());
        assertEquals(250, identity(UID_1000).svids().size());
    }

    @Test
    void unchangedEntries_keepTheirSvids() throws Exception {
        server.put(entry("e1", "web", UID_1000), 1);
        sync.syncOnce();
        WorkloadX509Svid before = identity(UID_1000).svids().get(0);

        EntrySynchronizer.Report report = sync.syncOnce();

        assertEquals(0, report.changed());
        assertEquals(0, report.minted());
        assertEquals(List.of(1), server.batchSizes);
        assertSame(before, identity(UID_1000).svids().get(0));
    }

    @Test
    void changedRevision_remintsForTheNewId() throws Exception {
        server.put(entry("e1", "web", UID_1000), 1);
        sync.syncOnce();
        server.put(entry("e1", "web-v2", UID_1000), 2);

        EntrySynchronizer.Report report = sync.syncOnce();

        assertEquals(1, report.changed());
        assertEquals(1, report.minted());
        List<WorkloadX509Svid> svids = identity(UID_1000).svids();
        assertEquals(1, svids.size());
        assertEquals(SpiffeId.parse("spiffe://example.org/web-v2"), svids.get(0).spiffeId());
        assertEquals(2L, sync.entries().get("e1").revision());
    }

    @Test
    void removedEntry_workloadLosesItsIdentity() throws Exception {
        server.put(entry("e1", "web", UID_1000), 1);
        sync.syncOnce();
        assertTrue(identity(UID_1000).hasIdentity());
        server.remove("e1");

        EntrySynchronizer.Report report = sync.syncOnce();

        assertEquals(1, report.removed());
        assertFalse(identity(UID_1000).hasIdentity());
        assertTrue(sync.entries().isEmpty());
    }

    @Test
    void pastHalfLife_svidIsRotatedBeforeItExpires() throws Exception {
        server.put(entry("e1", "web", UID_1000), 1);
        sync.syncOnce();
        WorkloadX509Svid first = identity(UID_1000).svids().get(0);

        clock.advance(Duration.ofMinutes(20));
        assertEquals(0, sync.syncOnce().minted());
        clock.advance(Duration.ofMinutes(11));
        EntrySynchronizer.Report report = sync.syncOnce();

        assertEquals(1, report.minted());
        WorkloadX509Svid second = identity(UID_1000).svids().get(0);
        assertNotEquals(first.chain().get(0).getSerialNumber(), second.chain().get(0).getSerialNumber());
        assertTrue(second.chain().get(0).getNotAfter().after(first.chain().get(0).getNotAfter()));
    }

    @Test
    void serverDown_throwsAndLeavesTheCacheAsItWas() throws Exception {
        server.put(entry("e1", "web", UID_1000), 1);
        sync.syncOnce();
        CacheContents before = cache.contents().orElseThrow();
        server.down = true;

        ServerCallException e = assertThrows(ServerCallException.class, sync::syncOnce);

        assertEquals(ServerCallException.Kind.UNAVAILABLE, e.kind());
        assertSame(before, cache.contents().orElseThrow());
    }

    @Test
    void svidForAnotherId_isRefused() throws Exception {
        server.put(entry("e1", "web", UID_1000), 1);
        server.issueAs = SpiffeId.parse("spiffe://example.org/admin");

        EntrySynchronizer.Report report = sync.syncOnce();

        assertEquals(0, report.minted());
        assertEquals(List.of("e1: the server's SVID did not verify"), report.failures());
        assertFalse(identity(UID_1000).hasIdentity());
    }

    @Test
    void svidNotChainingToTheBundle_isRefused() throws Exception {
        server.put(entry("e1", "web", UID_1000), 1);
        server.signWith = TestCa.root("example.org", TestKeys.ecP256(5), Instant.now().minusSeconds(60),
                Instant.now().plus(Duration.ofDays(1)));

        EntrySynchronizer.Report report = sync.syncOnce();

        assertEquals(0, report.minted());
        assertEquals(1, report.failures().size());
        assertFalse(identity(UID_1000).hasIdentity());
    }

    @Test
    void nodeAlias_rememberedByRevisionButNeverServedOrMinted() throws Exception {
        server.put(entry("e1", "web", UID_1000), 1);
        server.aliases.put("alias", 4L);

        EntrySynchronizer.Report first = sync.syncOnce();
        EntrySynchronizer.Report second = sync.syncOnce();

        assertEquals(1, first.minted());
        assertTrue(first.failures().isEmpty(), first.failures().toString());
        assertEquals(0, second.minted());
        assertEquals(List.of(0, 2), server.syncCalls);
        assertEquals(Set.of("e1"), sync.entries().keySet());
        assertEquals(List.of(1), server.batchSizes);
    }

    @Test
    void entryIdFor_findsTheEntryGrantingAnId() throws Exception {
        server.put(entry("e1", "web", UID_1000), 1);
        sync.syncOnce();
        assertEquals("e1", sync.entryIdFor(SpiffeId.parse("spiffe://example.org/web")).orElseThrow());
        assertTrue(sync.entryIdFor(SpiffeId.parse("spiffe://example.org/other")).isEmpty());
    }

    @Test
    void reset_makesTheNextSyncAskForEverything() throws Exception {
        server.put(entry("e1", "web", UID_1000), 1);
        sync.syncOnce();
        sync.reset();
        assertEquals(1, sync.syncOnce().changed());
        assertEquals(Set.of("e1"), sync.entries().keySet());
    }

    private static final TrustDomain PARTNER = TrustDomain.parse("partner.org");
    private static final TrustDomain OTHER = TrustDomain.parse("other.org");

    private static WorkloadEntry federating(String id, String path, Selector selector, TrustDomain... domains) {
        return new WorkloadEntry(id, SpiffeId.parse("spiffe://example.org/" + path), Set.of(selector),
                Set.of(domains), "");
    }

    private static FederatedBundleUpdate federatedBundle(TrustDomain td, String digest) {
        return new FederatedBundleUpdate(SpiffeBundle.of(td, List.of(TestCa.root(td.name()).certificate()),
                Map.of()), digest);
    }

    @Test
    void federatedBundles_publishedPerEntry_digestsSentBack_updatesAndRemovalsApplied() throws Exception {
        server.put(federating("e1", "web", UID_1000, PARTNER), 1);
        server.put(federating("e2", "db", UID_1001, OTHER), 1);
        FederatedBundleUpdate partner = federatedBundle(PARTNER, "aa");
        server.federated.put(PARTNER, partner);
        server.federated.put(OTHER, federatedBundle(OTHER, "bb"));

        sync.syncOnce();
        assertEquals(Map.of(PARTNER, partner.bundle()), identity(UID_1000).federatedBundles());
        assertEquals(Set.of(OTHER), identity(UID_1001).federatedBundles().keySet());
        assertEquals(Map.of(), server.bundleSyncs.get(0));

        sync.syncOnce();
        assertEquals(Map.of(PARTNER, "aa", OTHER, "bb"), server.bundleSyncs.get(1));

        // The peer rotated its CA: the new bundle replaces the old one in the workload's identity.
        FederatedBundleUpdate rotated = federatedBundle(PARTNER, "cc");
        server.federated.put(PARTNER, rotated);
        sync.syncOnce();
        assertEquals(Map.of(PARTNER, rotated.bundle()), identity(UID_1000).federatedBundles());

        server.federated.remove(OTHER);
        sync.syncOnce();
        assertEquals(Map.of(), identity(UID_1001).federatedBundles());
        assertEquals(Set.of(PARTNER), sync.federatedBundles().keySet());
        assertEquals(Map.of(PARTNER, "cc", OTHER, "bb"), server.bundleSyncs.get(3));
        sync.syncOnce();
        assertEquals(Map.of(PARTNER, "cc"), server.bundleSyncs.get(4));
    }

    @Test
    void federatedBundleOfTheOwnTrustDomain_refused() throws Exception {
        server.put(federating("e1", "web", UID_1000, PARTNER), 1);
        server.federated.put(TrustDomain.parse("example.org"), federatedBundle(TrustDomain.parse("example.org"),
                "dd"));
        server.federated.put(PARTNER, federatedBundle(PARTNER, "aa"));

        EntrySynchronizer.Report report = sync.syncOnce();
        assertEquals(List.of("federated bundle of the agent's own trust domain example.org refused"),
                report.failures());
        assertEquals(Set.of(PARTNER), identity(UID_1000).federatedBundles().keySet());
        // The own bundle is still the server's CA, not the impostor.
        assertEquals(List.of(server.ca.certificate()), identity(UID_1000).bundle().x509Authorities());
    }

    @Test
    void serverDown_federatedBundlesKept() throws Exception {
        server.put(federating("e1", "web", UID_1000, PARTNER), 1);
        server.federated.put(PARTNER, federatedBundle(PARTNER, "aa"));
        sync.syncOnce();
        server.down = true;
        assertThrows(ServerCallException.class, sync::syncOnce);
        assertEquals(Set.of(PARTNER), identity(UID_1000).federatedBundles().keySet());
    }

    @Test
    void reset_forgetsFederatedBundles() throws Exception {
        server.put(federating("e1", "web", UID_1000, PARTNER), 1);
        server.federated.put(PARTNER, federatedBundle(PARTNER, "aa"));
        sync.syncOnce();
        sync.reset();
        sync.syncOnce();
        assertEquals(Map.of(), server.bundleSyncs.get(1));
        assertEquals(Set.of(PARTNER), identity(UID_1000).federatedBundles().keySet());
    }
}
