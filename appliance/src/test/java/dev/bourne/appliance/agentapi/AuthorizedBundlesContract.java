package dev.bourne.appliance.agentapi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.bourne.appliance.datastore.AttestedNode;
import dev.bourne.appliance.datastore.DataStore;
import dev.bourne.appliance.datastore.EntryField;
import dev.bourne.appliance.datastore.NodeCertificate;
import dev.bourne.appliance.datastore.RegistrationEntry;
import dev.bourne.core.bundle.SpiffeBundle;
import dev.bourne.core.selector.Selector;
import dev.bourne.core.spiffeid.SpiffeId;
import dev.bourne.core.spiffeid.TrustDomain;
import dev.bourne.testing.pki.TestCa;
import dev.bourne.testing.pki.TestKeys;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link AuthorizedBundles} over {@link AuthorizedEntries} against a real datastore (SQLite and PostgreSQL
 * subclasses): an agent receives the bundles of exactly the trust domains its authorised entries federate with, again
 * only when they change, and is told to drop those no entry needs any more.
 */
abstract class AuthorizedBundlesContract {
    static final TrustDomain TD = TrustDomain.parse("example.org");
    static final TrustDomain PARTNER = TrustDomain.parse("partner.org");
    static final TrustDomain OTHER = TrustDomain.parse("other.org");
    static final TrustDomain THIRD = TrustDomain.parse("third.org");
    static final TrustDomain MISSING = TrustDomain.parse("missing.org");
    private static final SpiffeId SERVER = SpiffeId.parse("spiffe://example.org/spire/server");
    private static final SpiffeId AGENT = SpiffeId.parse("spiffe://example.org/spire/agent/tpm/aaaa");
    private static final SpiffeId OTHER_AGENT = SpiffeId.parse("spiffe://example.org/spire/agent/tpm/bbbb");
    private static final SpiffeId LONELY_AGENT = SpiffeId.parse("spiffe://example.org/spire/agent/tpm/cccc");

    private DataStore store;
    private AuthorizedEntries entries;
    private AuthorizedBundles bundles;
    private final Map<TrustDomain, SpiffeBundle> stored = new LinkedHashMap<>();

    /** A fresh, empty datastore. */
    abstract DataStore openStore() throws Exception;

    @BeforeEach
    void open() throws Exception {
        store = openStore();
        entries = new AuthorizedEntries(store, TD);
        bundles = new AuthorizedBundles(store, TD);
        int key = 20;
        for (TrustDomain td : List.of(PARTNER, OTHER, THIRD, TD)) {
            SpiffeBundle bundle = SpiffeBundle.of(td, List.of(TestCa.root(td.name()).certificate()),
                    Map.of(td.name() + "-jwt", TestKeys.ecP256(key++).getPublic())).withSequence(1);
            store.setBundle(bundle);
            stored.put(td, bundle);
        }
    }

    @AfterEach
    void close() {
        store.close();
    }

    private AttestedNode node(SpiffeId id, Selector... selectors) throws Exception {
        return store.createNode(AttestedNode.attested(id, "tpm", new NodeCertificate("1", Instant.now()
                .plusSeconds(3600)), true, List.of(selectors)));
    }

    private RegistrationEntry entry(SpiffeId parent, String path, List<TrustDomain> federatesWith) throws Exception {
        return store.createEntry(RegistrationEntry.builder().spiffeId(SpiffeId.parse("spiffe://example.org" + path))
                .parentId(parent).selector(new Selector("unix", "uid:0")).federatesWith(federatesWith).build());
    }

    private AuthorizedBundles.Changes changes(AttestedNode node, Map<TrustDomain, String> known) throws Exception {
        return bundles.changes(entries.forNode(node).values(), known);
    }

    private static Set<TrustDomain> domains(Collection<AuthorizedBundles.Versioned> bundles) {
        return bundles.stream().map(b -> b.bundle().trustDomain()).collect(Collectors.toSet());
    }

    private static Map<TrustDomain, String> digests(AuthorizedBundles.Changes changes) {
        Map<TrustDomain, String> out = new LinkedHashMap<>();
        changes.changed().forEach(b -> out.put(b.bundle().trustDomain(), b.digest()));
        return out;
    }

    @Test
    void eachAgent_getsOnlyTheBundlesItsEntriesFederateWith() throws Exception {
        AttestedNode agent = node(AGENT, new Selector("tpm", "rack:7"));
        AttestedNode other = node(OTHER_AGENT);
        AttestedNode lonely = node(LONELY_AGENT);
        entry(AGENT, "/direct", List.of(PARTNER));
        // Through a node alias the agent's selectors satisfy, and a descendant of it.
        RegistrationEntry alias = store.createEntry(RegistrationEntry.builder()
                .spiffeId(SpiffeId.parse("spiffe://example.org/alias/rack7")).parentId(SERVER)
                .selector(new Selector("tpm", "rack:7")).federatesWith(List.of(OTHER)).build());
        entry(alias.spiffeId(), "/via-alias", List.of(THIRD));
        entry(OTHER_AGENT, "/other", List.of(OTHER));
        entry(LONELY_AGENT, "/lonely", List.of());

        AuthorizedBundles.Changes mine = changes(agent, Map.of());
        // The alias entry itself is not authorised, so its federation with other.org gives the agent nothing.
        assertEquals(List.of(PARTNER, THIRD), mine.changed().stream().map(b -> b.bundle().trustDomain()).toList());
        assertEquals(stored.get(PARTNER), mine.changed().get(0).bundle());
        assertEquals(Set.of(OTHER), domains(changes(other, Map.of()).changed()));
        assertEquals(Set.of(), domains(changes(lonely, Map.of()).changed()));
    }

    @Test
    void unchangedBundles_notSentAgain_aChangedOneIs() throws Exception {
        AttestedNode agent = node(AGENT);
        entry(AGENT, "/a", List.of(PARTNER, THIRD));
        Map<TrustDomain, String> known = digests(changes(agent, Map.of()));
        assertEquals(Set.of(PARTNER, THIRD), known.keySet());

        AuthorizedBundles.Changes again = changes(agent, known);
        assertEquals(List.of(), again.changed());
        assertEquals(List.of(), again.removed());

        // The peer rotated its CA: the new bundle goes out, with a new digest; third.org stays quiet.
        SpiffeBundle rotated = SpiffeBundle.of(PARTNER, List.of(TestCa.root("partner.org", TestKeys.ecP256(40),
                Instant.now(), Instant.now().plus(Duration.ofDays(1))).certificate()),
                stored.get(PARTNER).jwtAuthorities()).withSequence(2);
        store.setBundle(rotated);
        AuthorizedBundles.Changes afterRotation = changes(agent, known);
        assertEquals(1, afterRotation.changed().size());
        assertEquals(rotated, afterRotation.changed().get(0).bundle());
        assertNotEquals(known.get(PARTNER), afterRotation.changed().get(0).digest());
        assertEquals(List.of(), afterRotation.removed());
    }

    @Test
    void bundleNoLongerNeeded_orDeleted_removed() throws Exception {
        AttestedNode agent = node(AGENT);
        RegistrationEntry a = entry(AGENT, "/a", List.of(PARTNER, THIRD));
        RegistrationEntry b = entry(AGENT, "/b", List.of(OTHER));
        Map<TrustDomain, String> known = digests(changes(agent, Map.of()));
        assertEquals(Set.of(PARTNER, THIRD, OTHER), known.keySet());

        store.updateEntry(a.toBuilder().federatesWith(List.of(PARTNER)).build(), Set.of(EntryField.FEDERATES_WITH));
        assertEquals(List.of(THIRD), changes(agent, known).removed());

        store.deleteEntry(b.id());
        assertEquals(List.of(OTHER, THIRD), changes(agent, known).removed());

        store.deleteBundle(PARTNER);
        AuthorizedBundles.Changes afterDelete = changes(agent, known);
        assertEquals(List.of(OTHER, PARTNER, THIRD), afterDelete.removed());
        assertEquals(List.of(), afterDelete.changed());
    }

    @Test
    void domainWithoutAStoredBundle_nothingSent_andAHeldOneDropped() throws Exception {
        AttestedNode agent = node(AGENT);
        entry(AGENT, "/a", List.of(MISSING));
        AuthorizedBundles.Changes first = changes(agent, Map.of(MISSING, "00".repeat(32)));
        assertEquals(List.of(), first.changed());
        assertEquals(List.of(MISSING), first.removed());

        // Once the federation client stores the peer's bundle, the next sync carries it.
        SpiffeBundle fetched = SpiffeBundle.of(MISSING, List.of(TestCa.root("missing.org").certificate()), Map.of());
        store.setBundle(fetched);
        assertEquals(List.of(fetched), changes(agent, Map.of()).changed().stream()
                .map(AuthorizedBundles.Versioned::bundle).toList());
    }

    @Test
    void ownTrustDomain_neverSentAsAFederatedBundle() throws Exception {
        AttestedNode agent = node(AGENT);
        entry(AGENT, "/a", List.of(TD, PARTNER));
        assertEquals(Set.of(PARTNER), domains(changes(agent, Map.of()).changed()));
        assertEquals(List.of(TD), changes(agent, Map.of(TD, "00".repeat(32))).removed());
    }

    @Test
    void digest_stableAcrossReads_andChangesWithEveryPart() throws Exception {
        SpiffeBundle bundle = stored.get(PARTNER);
        String digest = AuthorizedBundles.digest(bundle);
        assertEquals(64, digest.length());
        assertEquals(digest, AuthorizedBundles.digest(store.getBundle(PARTNER).orElseThrow()));
        assertEquals(digest, AuthorizedBundles.digest(store.listBundles().stream()
                .filter(b -> b.trustDomain().equals(PARTNER)).findFirst().orElseThrow()));
        List<SpiffeBundle> variants = List.of(
                bundle.withSequence(2),
                bundle.withRefreshHint(Duration.ofMinutes(5)),
                SpiffeBundle.of(PARTNER, bundle.x509Authorities(), bundle.jwtAuthorities()),
                SpiffeBundle.of(PARTNER, List.of(), bundle.jwtAuthorities()).withSequence(1),
                SpiffeBundle.of(PARTNER, bundle.x509Authorities(), Map.of()).withSequence(1),
                SpiffeBundle.of(PARTNER, bundle.x509Authorities(),
                        Map.of("another-kid", bundle.jwtAuthorities().values().iterator().next())).withSequence(1),
                SpiffeBundle.of(OTHER, bundle.x509Authorities(), bundle.jwtAuthorities()).withSequence(1));
        for (SpiffeBundle variant : variants) {
            assertNotEquals(digest, AuthorizedBundles.digest(variant), variant.toString());
        }
    }
}
