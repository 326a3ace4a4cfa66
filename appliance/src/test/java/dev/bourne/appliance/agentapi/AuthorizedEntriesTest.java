package dev.bourne.appliance.agentapi;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.bourne.appliance.datastore.AttestedNode;
import dev.bourne.appliance.datastore.DataStore;
import dev.bourne.appliance.datastore.NodeCertificate;
import dev.bourne.appliance.datastore.RegistrationEntry;
import dev.bourne.appliance.datastore.SqlDataStore;
import dev.bourne.core.selector.Selector;
import dev.bourne.core.spiffeid.SpiffeId;
import dev.bourne.core.spiffeid.TrustDomain;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link AuthorizedEntries} against a real SQLite datastore. */
class AuthorizedEntriesTest {
    private static final TrustDomain TD = TrustDomain.parse("example.org");
    private static final SpiffeId SERVER = SpiffeId.parse("spiffe://example.org/spire/server");
    private static final SpiffeId AGENT = SpiffeId.parse("spiffe://example.org/spire/agent/tpm/aaaa");
    private static final SpiffeId OTHER_AGENT = SpiffeId.parse("spiffe://example.org/spire/agent/tpm/bbbb");

    @TempDir
    Path dir;

    private DataStore store;
    private AuthorizedEntries authorized;

    @BeforeEach
    void open() throws Exception {
        store = SqlDataStore.openSqlite(dir.resolve("ds.sqlite3"), Clock.systemUTC(), new SecureRandom());
        authorized = new AuthorizedEntries(store, TD);
    }

    @AfterEach
    void close() {
        store.close();
    }

    private AttestedNode node(SpiffeId id, Selector... selectors) throws Exception {
        return store.createNode(AttestedNode.attested(id, "tpm", new NodeCertificate("1", Instant.now()
                .plusSeconds(3600)), true, List.of(selectors)));
    }

    private RegistrationEntry entry(SpiffeId parent, String path, Selector... selectors) throws Exception {
        return store.createEntry(RegistrationEntry.builder().spiffeId(SpiffeId.parse("spiffe://example.org" + path))
                .parentId(parent).selectors(List.of(selectors)).build());
    }

    private Set<String> ids(AttestedNode node) throws Exception {
        return authorized.forNode(node).keySet();
    }

    private static Selector s(String value) {
        return new Selector("tpm", value);
    }

    @Test
    void directChildren_authorised_othersNot() throws Exception {
        AttestedNode node = node(AGENT);
        RegistrationEntry mine = entry(AGENT, "/a", s("x"));
        entry(OTHER_AGENT, "/b", s("x"));
        assertEquals(Set.of(mine.id()), ids(node));
    }

    @Test
    void nodeAlias_appliesWhenItsSelectorsAreASubsetOfTheNodes() throws Exception {
        AttestedNode node = node(AGENT, s("rack:7"), s("pcr_policy:prod"));
        RegistrationEntry subset = entry(SERVER, "/alias/prod", s("pcr_policy:prod"));
        RegistrationEntry equal = entry(SERVER, "/alias/rack7prod", s("pcr_policy:prod"), s("rack:7"));
        RegistrationEntry superset = entry(SERVER, "/alias/strict", s("pcr_policy:prod"), s("rack:7"), s("gpu"));
        RegistrationEntry disjoint = entry(SERVER, "/alias/staging", s("pcr_policy:staging"));
        RegistrationEntry underSubset = entry(subset.spiffeId(), "/svc/1", s("u"));
        RegistrationEntry underEqual = entry(equal.spiffeId(), "/svc/2", s("u"));
        entry(superset.spiffeId(), "/svc/3", s("u"));
        entry(disjoint.spiffeId(), "/svc/4", s("u"));
        assertEquals(Set.of(underSubset.id(), underEqual.id()), ids(node));
    }

    @Test
    void nodeWithoutSelectors_getsNoAliasEntries() throws Exception {
        AttestedNode node = node(AGENT);
        RegistrationEntry alias = entry(SERVER, "/alias/any", s("x"));
        entry(alias.spiffeId(), "/svc", s("u"));
        assertEquals(Set.of(), ids(node));
    }

    @Test
    void descendants_followedToTheDepthBound() throws Exception {
        AttestedNode node = node(AGENT);
        SpiffeId parent = AGENT;
        List<String> chain = new java.util.ArrayList<>();
        for (int level = 0; level <= AuthorizedEntries.MAX_DEPTH + 2; level++) {
            RegistrationEntry entry = entry(parent, "/level/" + level, s("u"));
            chain.add(entry.id());
            parent = entry.spiffeId();
        }
        // direct children are level 0; MAX_DEPTH levels of descendants below them
        assertEquals(Set.copyOf(chain.subList(0, AuthorizedEntries.MAX_DEPTH + 1)), ids(node));
    }

    @Test
    void cycleOfEntries_terminates() throws Exception {
        AttestedNode node = node(AGENT);
        RegistrationEntry a = entry(AGENT, "/loop/a", s("u"));
        RegistrationEntry b = entry(a.spiffeId(), "/loop/b", s("u"));
        RegistrationEntry back = entry(b.spiffeId(), "/loop/a", s("v"));
        assertEquals(Set.of(a.id(), b.id(), back.id()), ids(node));
    }
}
