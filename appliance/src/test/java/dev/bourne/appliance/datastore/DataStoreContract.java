package dev.bourne.appliance.datastore;

import dev.bourne.core.bundle.SpiffeBundle;
import dev.bourne.core.selector.Selector;
import dev.bourne.core.spiffeid.SpiffeId;
import dev.bourne.core.spiffeid.TrustDomain;
import dev.bourne.testing.pki.TestCa;
import dev.bourne.tpm.common.EkHash;
import dev.bourne.tpm.server.TpmEnrollment;
import dev.bourne.testing.pki.TestKeys;
import dev.bourne.testing.time.MutableClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The behaviour every {@link DataStore} must have, run against each real database by a subclass that opens a fresh,
 * empty store (and a second store on the same database, standing for a second server).
 */
abstract class DataStoreContract {
    static final TrustDomain TD = new TrustDomain("example.org");
    static final SpiffeId AGENT = SpiffeId.parse("spiffe://example.org/spire/agent/join_token/abc");
    static final SpiffeId AGENT_2 = SpiffeId.parse("spiffe://example.org/spire/agent/join_token/def");
    static final Selector UID = Selector.parse("unix:uid:1000");
    static final Selector GID = Selector.parse("unix:gid:1000");
    static final Selector USER = Selector.parse("unix:user:alice");
    static final Selector OTHER = Selector.parse("systemd:id:other.service");

    final MutableClock clock = new MutableClock(Instant.parse("2026-01-02T03:04:05Z"));
    final SecureRandom random = new SecureRandom();
    DataStore store;

    /** A fresh store on an empty database (schema migrated, no rows). */
    abstract DataStore openStore(Clock clock) throws Exception;

    /** Another store on the same database, as a second server sharing it would have. */
    abstract DataStore openSecondStore(Clock clock) throws Exception;

    @BeforeEach
    void openStore() throws Exception {
        store = openStore(clock);
    }

    @AfterEach
    void closeStore() {
        store.close();
    }

    static SpiffeId id(String path) {
        return SpiffeId.parse("spiffe://example.org" + path);
    }

    static RegistrationEntry.Builder entry(String path, Selector... selectors) {
        return RegistrationEntry.builder().spiffeId(id(path)).parentId(AGENT).selectors(List.of(selectors));
    }

    long rows(String table) throws Exception {
        return ((SqlDataStore) store).withConnection(false, c -> {
            try (PreparedStatement s = c.prepareStatement("SELECT COUNT(*) FROM " + table);
                    ResultSet r = s.executeQuery()) {
                r.next();
                return r.getLong(1);
            }
        });
    }

    static void assertInvalid(String field, String reason, Executable call) {
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class, call::run);
        assertEquals(field, e.field());
        assertEquals(reason, e.reason());
        assertEquals(field + ": " + reason, e.getMessage());
        assertEquals(DataStoreException.Kind.INVALID_ARGUMENT, e.kind());
    }

    @FunctionalInterface
    interface Executable {
        void run() throws Exception;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Registration entries

    @Test
    void createEntry_storesEveryField_andGetReturnsIt() throws Exception {
        RegistrationEntry created = store.createEntry(entry("/web", USER, UID)
                .x509SvidTtl(Duration.ofMinutes(30)).jwtSvidTtl(Duration.ofMinutes(2))
                .federatesWith(List.of(new TrustDomain("b.org"), new TrustDomain("a.org")))
                .admin(true).downstream(true).storeSvid(true).hint("web-frontend")
                .dnsNames(List.of("web.example.org", "*.web.example.org")).build());

        assertTrue(created.id().matches("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"),
                created.id());
        assertEquals(0, created.revisionNumber());
        assertEquals(clock.instant(), created.createdAt());
        RegistrationEntry read = store.getEntry(created.id()).orElseThrow();
        assertEquals(created, read);
        assertEquals(List.of(UID, USER), read.selectors());
        assertEquals(List.of(new TrustDomain("a.org"), new TrustDomain("b.org")), read.federatesWith());
        assertEquals(List.of("web.example.org", "*.web.example.org"), read.dnsNames());
        assertEquals(Duration.ofMinutes(30), read.x509SvidTtl());
        assertEquals(Duration.ofMinutes(2), read.jwtSvidTtl());
        assertTrue(read.admin() && read.downstream() && read.storeSvid());
        assertEquals("web-frontend", read.hint());
        assertEquals(AGENT, read.parentId());
        assertEquals(id("/web"), read.spiffeId());
    }

    @Test
    void createEntry_chosenId_isKept_andATakenIdIsRefused() throws Exception {
        RegistrationEntry created = store.createEntry(entry("/a", UID).id("my-entry.1").build());
        assertEquals("my-entry.1", created.id());
        AlreadyExistsException e = assertThrows(AlreadyExistsException.class,
                () -> store.createEntry(entry("/b", GID).id("my-entry.1").build()));
        assertEquals(DataStoreErrors.ENTRY_ID_TAKEN + ": \"my-entry.1\"", e.getMessage());
        assertEquals(1, store.countEntries(EntryFilter.all()));
    }

    @Test
    void createEntry_sameParentSpiffeIdAndSelectorSet_isADuplicate() throws Exception {
        store.createEntry(entry("/web", UID, USER).build());
        AlreadyExistsException e = assertThrows(AlreadyExistsException.class,
                () -> store.createEntry(entry("/web", USER, UID).hint("other fields do not matter").build()));
        assertEquals(DataStoreErrors.ENTRY_DUPLICATE, e.getMessage());
        assertEquals(DataStoreException.Kind.ALREADY_EXISTS, e.kind());

        // Any difference in the identity makes a distinct entry.
        store.createEntry(entry("/web", UID).build());
        store.createEntry(entry("/web", UID, USER).parentId(AGENT_2).build());
        store.createEntry(entry("/web2", UID, USER).build());
        assertEquals(4, store.countEntries(EntryFilter.all()));
    }

    @Test
    void createEntry_racingDuplicates_exactlyOneIsStored() throws Exception {
        try (DataStore second = openSecondStore(clock)) {
            List<DataStore> stores = List.of(store, second);
            List<Callable<Boolean>> calls = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                DataStore target = stores.get(i % 2);
                calls.add(() -> {
                    try {
                        target.createEntry(entry("/raced", UID, GID).build());
                        return true;
                    } catch (AlreadyExistsException e) {
                        return false;
                    }
                });
            }
            List<Boolean> results = runTogether(calls);
            assertEquals(1, results.stream().filter(b -> b).count(), results.toString());
        }
        assertEquals(1, store.countEntries(EntryFilter.all().withSpiffeId(id("/raced"))));
    }

    @Test
    void getEntry_unknownId_isEmpty_andMalformedIdIsRefused() throws Exception {
        assertEquals(Optional.empty(), store.getEntry("no-such-entry"));
        assertInvalid("entry_id", Limits.ENTRY_ID_INVALID, () -> store.getEntry("a/b"));
        assertInvalid("entry_id", Limits.ENTRY_ID_INVALID, () -> store.getEntry("x".repeat(256)));
        assertInvalid("entry_id", Limits.REQUIRED, () -> store.getEntry(""));
    }

    @Test
    void updateEntry_withMask_changesOnlyMaskedFields_andIncrementsRevision() throws Exception {
        RegistrationEntry created = store.createEntry(entry("/web", UID).hint("old").admin(false)
                .dnsNames(List.of("a.example.org")).build());
        RegistrationEntry change = RegistrationEntry.builder().id(created.id()).spiffeId(id("/ignored"))
                .parentId(AGENT_2).selectors(List.of(GID, USER)).hint("new").admin(true)
                .dnsNames(List.of("b.example.org", "c.example.org")).build();

        RegistrationEntry first = store.updateEntry(change, EnumSet.of(EntryField.SELECTORS, EntryField.HINT));
        assertEquals(1, first.revisionNumber());
        assertEquals(List.of(GID, USER), first.selectors());
        assertEquals("new", first.hint());
        assertEquals(id("/web"), first.spiffeId());
        assertEquals(AGENT, first.parentId());
        assertFalse(first.admin());
        assertEquals(List.of("a.example.org"), first.dnsNames());
        assertEquals(created.createdAt(), first.createdAt());
        assertEquals(first, store.getEntry(created.id()).orElseThrow());

        RegistrationEntry second = store.updateEntry(change, EnumSet.of(EntryField.ADMIN, EntryField.DNS_NAMES));
        assertEquals(2, second.revisionNumber());
        assertTrue(second.admin());
        assertEquals(List.of("b.example.org", "c.example.org"), second.dnsNames());
        assertEquals(second, store.getEntry(created.id()).orElseThrow());
        assertEquals(2, rows("entry_dns_names"));
        assertEquals(2, rows("entry_selectors"));
    }

    @Test
    void updateEntry_everyField_replacesTheEntry() throws Exception {
        RegistrationEntry created = store.createEntry(entry("/web", UID).federatesWith(List.of(new TrustDomain(
                "a.org"))).build());
        RegistrationEntry replacement = entry("/api", OTHER).id(created.id()).parentId(AGENT_2)
                .x509SvidTtl(Duration.ofHours(2)).jwtSvidTtl(Duration.ofMinutes(1)).federatesWith(List.of())
                .downstream(true).storeSvid(true).hint("h").dnsNames(List.of("api.example.org")).build();
        RegistrationEntry updated = store.updateEntry(replacement, EntryField.all());
        assertEquals(replacement.toBuilder().revisionNumber(1).createdAt(created.createdAt()).build(), updated);
        assertEquals(updated, store.getEntry(created.id()).orElseThrow());
        assertEquals(0, rows("entry_federates_with"));
    }

    @Test
    void updateEntry_staleRevision_isAConflict() throws Exception {
        RegistrationEntry created = store.createEntry(entry("/web", UID).build());
        store.updateEntry(created.toBuilder().hint("one").build(), EnumSet.of(EntryField.HINT), 0);
        ConflictException e = assertThrows(ConflictException.class, () -> store.updateEntry(
                created.toBuilder().hint("two").build(), EnumSet.of(EntryField.HINT), 0));
        assertEquals(DataStoreErrors.ENTRY_REVISION_CONFLICT + ": \"" + created.id() + "\"", e.getMessage());
        assertEquals("one", store.getEntry(created.id()).orElseThrow().hint());
    }

    @Test
    void updateEntry_concurrentUpdates_neverLoseARevision() throws Exception {
        RegistrationEntry created = store.createEntry(entry("/web", UID).build());
        try (DataStore second = openSecondStore(clock)) {
            List<DataStore> stores = List.of(store, second);
            List<Callable<Long>> calls = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                DataStore target = stores.get(i % 2);
                String hint = "writer-" + i;
                calls.add(() -> target.updateEntry(created.toBuilder().hint(hint).build(),
                        EnumSet.of(EntryField.HINT)).revisionNumber());
            }
            List<Long> revisions = runTogether(calls);
            assertEquals(longRange(1, 10), new HashSet<>(revisions));
        }
        assertEquals(10, store.getEntry(created.id()).orElseThrow().revisionNumber());
    }

    private static Set<Long> longRange(long from, long to) {
        Set<Long> out = new HashSet<>();
        for (long i = from; i <= to; i++) {
            out.add(i);
        }
        return out;
    }

    @Test
    void updateEntry_refusals() throws Exception {
        RegistrationEntry a = store.createEntry(entry("/web", UID).build());
        store.createEntry(entry("/web", GID).build());
        AlreadyExistsException duplicate = assertThrows(AlreadyExistsException.class, () -> store.updateEntry(
                a.toBuilder().selectors(List.of(GID)).build(), EnumSet.of(EntryField.SELECTORS)));
        assertEquals(DataStoreErrors.ENTRY_DUPLICATE, duplicate.getMessage());
        NotFoundException missing = assertThrows(NotFoundException.class, () -> store.updateEntry(
                a.toBuilder().id("missing").build(), EntryField.all()));
        assertEquals(DataStoreErrors.ENTRY_NOT_FOUND + ": \"missing\"", missing.getMessage());
        assertInvalid("mask", Limits.MASK_EMPTY, () -> store.updateEntry(a, Set.of()));
        assertInvalid("selectors", Limits.SELECTORS_EMPTY, () -> store.updateEntry(
                a.toBuilder().selectors(List.of()).build(), EnumSet.of(EntryField.SELECTORS)));
        assertEquals(a, store.getEntry(a.id()).orElseThrow());
    }

    @Test
    void deleteEntry_removesItAndItsRows() throws Exception {
        RegistrationEntry kept = store.createEntry(entry("/kept", UID).dnsNames(List.of("k.example.org")).build());
        RegistrationEntry doomed = store.createEntry(entry("/web", UID, GID).dnsNames(List.of("w.example.org"))
                .federatesWith(List.of(new TrustDomain("a.org"))).build());
        assertEquals(doomed, store.deleteEntry(doomed.id()));
        assertEquals(Optional.empty(), store.getEntry(doomed.id()));
        assertEquals(Optional.of(kept), store.getEntry(kept.id()));
        assertEquals(1, rows("entry_selectors"));
        assertEquals(1, rows("entry_dns_names"));
        assertEquals(0, rows("entry_federates_with"));
        NotFoundException again = assertThrows(NotFoundException.class, () -> store.deleteEntry(doomed.id()));
        assertEquals(DataStoreException.Kind.NOT_FOUND, again.kind());
    }

    @Test
    void listEntries_filtersByParentAndSpiffeId() throws Exception {
        RegistrationEntry a = store.createEntry(entry("/a", UID).build());
        RegistrationEntry b = store.createEntry(entry("/b", UID).parentId(AGENT_2).build());
        RegistrationEntry c = store.createEntry(entry("/a", GID).parentId(AGENT_2).build());

        assertEquals(Set.of(a, b, c), Set.copyOf(store.listEntries(EntryFilter.all(), PageRequest.ALL).items()));
        assertEquals(Set.of(b, c), Set.copyOf(store.listEntries(EntryFilter.all().withParentId(AGENT_2),
                PageRequest.ALL).items()));
        assertEquals(Set.of(a, c), Set.copyOf(store.listEntries(EntryFilter.all().withSpiffeId(id("/a")),
                PageRequest.ALL).items()));
        assertEquals(List.of(c), store.listEntries(EntryFilter.all().withSpiffeId(id("/a")).withParentId(AGENT_2),
                PageRequest.ALL).items());
        assertEquals(2, store.countEntries(EntryFilter.all().withParentId(AGENT_2)));
        assertEquals(0, store.countEntries(EntryFilter.all().withSpiffeId(id("/none"))));
    }

    @Test
    void listEntries_selectorMatchModes() throws Exception {
        RegistrationEntry a = store.createEntry(entry("/a", UID).build());
        RegistrationEntry ab = store.createEntry(entry("/ab", UID, GID).build());
        RegistrationEntry abc = store.createEntry(entry("/abc", UID, GID, USER).build());
        store.createEntry(entry("/d", OTHER).build());
        List<Selector> given = List.of(GID, UID);

        Function<SelectorMatch, Set<String>> ids = match -> {
            try {
                return store.listEntries(EntryFilter.all().withSelectors(match), PageRequest.ALL).items().stream()
                        .map(e -> e.spiffeId().path()).collect(Collectors.toSet());
            } catch (DataStoreException e) {
                throw new AssertionError(e);
            }
        };
        assertEquals(Set.of("/ab"), ids.apply(SelectorMatch.exact(given)));
        assertEquals(Set.of("/a", "/ab"), ids.apply(SelectorMatch.subset(given)));
        assertEquals(Set.of("/ab", "/abc"), ids.apply(SelectorMatch.superset(given)));
        assertEquals(Set.of("/a", "/ab", "/abc"), ids.apply(SelectorMatch.any(given)));
        assertEquals(Set.of("/a", "/ab", "/abc"), ids.apply(SelectorMatch.subset(List.of(UID, GID, USER,
                Selector.parse("unix:path:/bin/x")))));
        assertEquals(Set.of(), ids.apply(SelectorMatch.exact(List.of(USER))));
        assertEquals(2, store.countEntries(EntryFilter.all().withSelectors(SelectorMatch.superset(given))));
        assertEquals(Set.of(a, ab), Set.copyOf(store.listEntries(EntryFilter.all().withParentId(AGENT)
                .withSelectors(SelectorMatch.subset(given)), PageRequest.ALL).items()));
        assertEquals(abc, store.listEntries(EntryFilter.all().withSelectors(SelectorMatch.exact(List.of(USER, GID,
                UID))), PageRequest.ALL).items().get(0));
        assertInvalid("selectors", Limits.SELECTORS_EMPTY, () -> store.listEntries(
                EntryFilter.all().withSelectors(SelectorMatch.any(List.of())), PageRequest.ALL));
    }

    @Test
    void listEntries_paginates_inIdOrder_withoutGapsOrRepeats() throws Exception {
        List<String> created = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
            created.add(store.createEntry(entry("/w" + i, UID).build()).id());
        }
        Collections.sort(created);
        List<String> seen = new ArrayList<>();
        List<Integer> sizes = new ArrayList<>();
        Page<RegistrationEntry> page = store.listEntries(EntryFilter.all(), PageRequest.first(3));
        while (true) {
            sizes.add(page.items().size());
            page.items().forEach(e -> seen.add(e.id()));
            if (page.nextPageToken().isEmpty()) {
                break;
            }
            page = store.listEntries(EntryFilter.all(), PageRequest.after(3, page));
        }
        assertEquals(List.of(3, 3, 1), sizes);
        assertEquals(created, seen);

        Page<RegistrationEntry> exact = store.listEntries(EntryFilter.all(), PageRequest.first(7));
        assertEquals(7, exact.items().size());
        assertEquals(Optional.empty(), exact.nextPageToken());
        assertInvalid("page_token", Limits.PAGE_TOKEN_INVALID, () -> store.listEntries(EntryFilter.all(),
                new PageRequest(3, Optional.of("not base64!"))));
        assertInvalid("page_size", Limits.PAGE_SIZE_INVALID, () -> store.listEntries(EntryFilter.all(),
                PageRequest.first(Limits.MAX_PAGE_SIZE + 1)));
        assertInvalid("page_size", Limits.PAGE_SIZE_INVALID, () -> store.listEntries(EntryFilter.all(),
                PageRequest.first(-1)));
    }

    @Test
    void listEntries_everything_beyondOneBatchOfChildRows() throws Exception {
        int count = 510;   // more than the 500 IDs the store looks up children for at once
        for (int i = 0; i < count; i++) {
            store.createEntry(entry("/bulk/" + i, Selector.parse("unix:uid:" + i), GID)
                    .dnsNames(List.of("w" + i + ".example.org")).build());
        }
        List<RegistrationEntry> all = store.listEntries(EntryFilter.all(), PageRequest.ALL).items();
        assertEquals(count, all.size());
        for (RegistrationEntry e : all) {
            String n = e.spiffeId().path().substring("/bulk/".length());
            assertEquals(List.of(GID, Selector.parse("unix:uid:" + n)), e.selectors(), e.id());
            assertEquals(List.of("w" + n + ".example.org"), e.dnsNames());
        }
        assertEquals(count, store.countEntries(EntryFilter.all().withSelectors(SelectorMatch.superset(List.of(GID)))));
    }

    @Test
    void createEntry_malformedOrOversized_isRefusedNamingTheField_andStoresNothing() throws Exception {
        List<Selector> tooMany = IntStream.range(0, Limits.MAX_SELECTORS + 1)
                .mapToObj(i -> Selector.parse("unix:uid:" + i)).collect(Collectors.toList());
        List<String> tooManyNames = IntStream.range(0, Limits.MAX_DNS_NAMES + 1)
                .mapToObj(i -> "n" + i + ".example.org").collect(Collectors.toList());
        List<TrustDomain> tooManyDomains = IntStream.range(0, Limits.MAX_FEDERATES_WITH + 1)
                .mapToObj(i -> new TrustDomain("d" + i + ".org")).collect(Collectors.toList());
        String longLabel = "a".repeat(63);
        String tooLongName = String.join(".", longLabel, longLabel, longLabel, longLabel);

        Map<RegistrationEntry.Builder, String[]> cases = new java.util.LinkedHashMap<>();
        cases.put(entry("/w"), new String[] {"selectors", Limits.SELECTORS_EMPTY});
        cases.put(entry("/w").selectors(tooMany), new String[] {"selectors", Limits.TOO_MANY_SELECTORS});
        cases.put(entry("/w", UID).spiffeId(TD.id()), new String[] {"spiffe_id", Limits.SPIFFE_ID_NO_PATH});
        cases.put(entry("/w", UID).dnsNames(List.of("ok.example.org", "bad_name.org")),
                new String[] {"dns_names[1]", Limits.DNS_NAME_INVALID});
        cases.put(entry("/w", UID).dnsNames(List.of("-lead.example.org")),
                new String[] {"dns_names[0]", Limits.DNS_NAME_INVALID});
        cases.put(entry("/w", UID).dnsNames(List.of("a..b")), new String[] {"dns_names[0]", Limits.DNS_NAME_INVALID});
        cases.put(entry("/w", UID).dnsNames(List.of(tooLongName)),
                new String[] {"dns_names[0]", Limits.DNS_NAME_TOO_LONG});
        cases.put(entry("/w", UID).dnsNames(List.of("a.org", "A.org")),
                new String[] {"dns_names[1]", Limits.DNS_NAME_DUPLICATE});
        cases.put(entry("/w", UID).dnsNames(tooManyNames), new String[] {"dns_names", Limits.TOO_MANY_DNS_NAMES});
        cases.put(entry("/w", UID).federatesWith(tooManyDomains),
                new String[] {"federates_with", Limits.TOO_MANY_FEDERATES_WITH});
        cases.put(entry("/w", UID).hint("line\nforged"), new String[] {"hint", Limits.CONTROL_CHARACTER});
        cases.put(entry("/w", UID).hint("h".repeat(Limits.MAX_HINT_LENGTH + 1)),
                new String[] {"hint", Limits.HINT_TOO_LONG});
        cases.put(entry("/w", UID).x509SvidTtl(Duration.ofSeconds(-1)),
                new String[] {"x509_svid_ttl", Limits.TTL_NEGATIVE});
        cases.put(entry("/w", UID).jwtSvidTtl(Limits.MAX_TTL.plusSeconds(1)),
                new String[] {"jwt_svid_ttl", Limits.TTL_TOO_LONG});
        cases.put(entry("/w", UID).jwtSvidTtl(Duration.ofMillis(1500)),
                new String[] {"jwt_svid_ttl", Limits.TTL_SUBSECOND});
        cases.put(entry("/w", UID).id("bad id"), new String[] {"entry_id", Limits.ENTRY_ID_INVALID});
        cases.put(entry("/w", UID).id("i".repeat(Limits.MAX_ENTRY_ID_LENGTH + 1)),
                new String[] {"entry_id", Limits.ENTRY_ID_INVALID});

        for (Map.Entry<RegistrationEntry.Builder, String[]> c : cases.entrySet()) {
            RegistrationEntry bad = c.getKey().build();
            assertInvalid(c.getValue()[0], c.getValue()[1], () -> store.createEntry(bad));
        }
        assertEquals(0, store.countEntries(EntryFilter.all()));
        assertEquals(0, store.lastEventId());

        // The limits themselves are accepted.
        store.createEntry(entry("/w").selectors(tooMany.subList(0, Limits.MAX_SELECTORS))
                .dnsNames(tooManyNames.subList(0, Limits.MAX_DNS_NAMES))
                .hint("h".repeat(Limits.MAX_HINT_LENGTH)).x509SvidTtl(Limits.MAX_TTL).build());
        assertEquals(Limits.MAX_SELECTORS, rows("entry_selectors"));
    }

    @Test
    void longestSpiffeId_isStoredIntact() throws Exception {
        String path = "/" + "p".repeat(Limits.MAX_SPIFFE_ID_BYTES - "spiffe://example.org/".length());
        SpiffeId longest = id(path);
        assertEquals(Limits.MAX_SPIFFE_ID_BYTES, longest.toString().getBytes(StandardCharsets.UTF_8).length);
        RegistrationEntry created = store.createEntry(entry(path, UID).build());
        assertEquals(longest, store.getEntry(created.id()).orElseThrow().spiffeId());
        assertThrows(IllegalArgumentException.class, () -> id(path + "p"));
    }

    @Test
    void longestSelectorValues_areStoredAndMatched() throws Exception {
        // Random text, so that no database can shrink it by compression below an index's size limit.
        Selector longest = new Selector("unix", "path:/" + randomText(Selector.MAX_VALUE_LENGTH - 6));
        Selector longest2 = new Selector("unix", "path:/" + randomText(Selector.MAX_VALUE_LENGTH - 6));
        assertEquals(Selector.MAX_VALUE_LENGTH, longest.value().length());
        RegistrationEntry created = store.createEntry(entry("/long", longest, longest2).build());
        assertEquals(created, store.getEntry(created.id()).orElseThrow());
        assertEquals(List.of(created), store.listEntries(EntryFilter.all().withSelectors(
                SelectorMatch.exact(List.of(longest2, longest))), PageRequest.ALL).items());
        assertEquals(List.of(), store.listEntries(EntryFilter.all().withSelectors(
                SelectorMatch.exact(List.of(longest))), PageRequest.ALL).items());
        AttestedNode node = store.createNode(node(AGENT, longest));
        assertEquals(node, store.getNode(AGENT).orElseThrow());
        assertEquals(1, store.countNodes(NodeFilter.all().withSelectors(SelectorMatch.subset(List.of(longest, UID)))));
    }

    String randomText(int length) {
        String alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        StringBuilder out = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
            out.append(alphabet.charAt(random.nextInt(alphabet.length())));
        }
        return out.toString();
    }

    // ------------------------------------------------------------------------------------------------------------
    // Attested nodes

    static AttestedNode node(SpiffeId id, Selector... selectors) {
        return AttestedNode.attested(id, "join_token", new NodeCertificate("1234", Instant.parse(
                "2026-01-02T04:04:05Z")), false, List.of(selectors));
    }

    @Test
    void createNode_andGet() throws Exception {
        AttestedNode created = store.createNode(new AttestedNode(AGENT, "tpm",
                Optional.of(new NodeCertificate("111", Instant.parse("2026-01-02T04:00:00Z"))),
                Optional.of(new NodeCertificate("222", Instant.parse("2026-01-02T05:00:00Z"))), true, false,
                List.of(Selector.parse("tpm:pub_hash:abc"), Selector.parse("tpm:label:rack:r1")), Instant.EPOCH));
        assertEquals(clock.instant(), created.createdAt());
        assertEquals(created, store.getNode(AGENT).orElseThrow());
        assertEquals("tpm", created.attestationDataType());
        assertEquals("111", created.certificate().orElseThrow().serialNumber());
        assertEquals(Instant.parse("2026-01-02T05:00:00Z"), created.newCertificate().orElseThrow().notAfter());
        assertTrue(created.canReattest());
        assertEquals(List.of(Selector.parse("tpm:label:rack:r1"), Selector.parse("tpm:pub_hash:abc")),
                created.selectors());
        assertEquals(Optional.empty(), store.getNode(AGENT_2));

        AlreadyExistsException e = assertThrows(AlreadyExistsException.class, () -> store.createNode(node(AGENT)));
        assertEquals(DataStoreErrors.NODE_EXISTS + ": \"" + AGENT + "\"", e.getMessage());
    }

    @Test
    void updateNodeCertificates_recordsRenewal() throws Exception {
        store.createNode(node(AGENT, UID));
        NodeCertificate next = new NodeCertificate("98765432109876543210", Instant.parse("2026-01-02T06:00:00Z"));
        AttestedNode pending = store.updateNodeCertificates(AGENT,
                store.getNode(AGENT).orElseThrow().certificate(), Optional.of(next));
        assertEquals(Optional.of(next), pending.newCertificate());
        AttestedNode switched = store.updateNodeCertificates(AGENT, Optional.of(next), Optional.empty());
        assertEquals(Optional.of(next), switched.certificate());
        assertEquals(Optional.empty(), switched.newCertificate());
        assertEquals(switched, store.getNode(AGENT).orElseThrow());
        assertThrows(NotFoundException.class, () -> store.updateNodeCertificates(AGENT_2, Optional.empty(),
                Optional.empty()));
        assertInvalid("new_cert_serial_number", Limits.SERIAL_NUMBER_INVALID, () -> store.updateNodeCertificates(
                AGENT, Optional.of(next), Optional.of(new NodeCertificate("12ab", Instant.EPOCH))));
    }

    @Test
    void banNode_forgetsCertificates_andBlocksRenewal() throws Exception {
        store.createNode(node(AGENT, UID));
        store.createNode(node(AGENT_2, UID));
        AttestedNode banned = store.banNode(AGENT);
        assertTrue(banned.banned());
        assertEquals(Optional.empty(), banned.certificate());
        assertEquals(Optional.empty(), banned.newCertificate());
        assertEquals(banned, store.getNode(AGENT).orElseThrow());
        ConflictException e = assertThrows(ConflictException.class, () -> store.updateNodeCertificates(AGENT,
                Optional.of(new NodeCertificate("1", Instant.EPOCH)), Optional.empty()));
        assertEquals(DataStoreErrors.NODE_BANNED + ": \"" + AGENT + "\"", e.getMessage());
        assertEquals(1, store.countNodes(NodeFilter.all().withBanned(true)));
        assertEquals(List.of(AGENT_2), store.listNodes(NodeFilter.all().withBanned(false), PageRequest.ALL).items()
                .stream().map(AttestedNode::spiffeId).collect(Collectors.toList()));
        assertThrows(NotFoundException.class, () -> store.banNode(id("/spire/agent/x/none")));
    }

    @Test
    void deleteNode_evicts_andTheNodeMayAttestAgain() throws Exception {
        AttestedNode created = store.createNode(node(AGENT, UID, GID));
        store.banNode(AGENT);
        AttestedNode deleted = store.deleteNode(AGENT);
        assertEquals(AGENT, deleted.spiffeId());
        assertTrue(deleted.banned());
        assertEquals(Optional.empty(), store.getNode(AGENT));
        assertEquals(0, rows("node_selectors"));
        assertThrows(NotFoundException.class, () -> store.deleteNode(AGENT));
        assertEquals(created, store.createNode(node(AGENT, UID, GID)));
    }

    @Test
    void setNodeSelectors_replacesThem() throws Exception {
        store.createNode(node(AGENT, UID, GID));
        AttestedNode updated = store.setNodeSelectors(AGENT, List.of(USER, OTHER, USER));
        assertEquals(List.of(OTHER, USER), updated.selectors());
        assertEquals(updated, store.getNode(AGENT).orElseThrow());
        assertEquals(List.of(), store.setNodeSelectors(AGENT, List.of()).selectors());
        assertThrows(NotFoundException.class, () -> store.setNodeSelectors(AGENT_2, List.of(UID)));
    }

    @Test
    void listNodes_filtersMatchesAndPaginates() throws Exception {
        for (int i = 0; i < 5; i++) {
            store.createNode(node(id("/spire/agent/join_token/n" + i), UID, i % 2 == 0 ? GID : USER));
        }
        store.createNode(new AttestedNode(id("/spire/agent/tpm/h"), "tpm", Optional.of(new NodeCertificate("5",
                Instant.parse("2026-01-01T00:00:00Z"))), Optional.empty(), true, false, List.of(OTHER),
                Instant.EPOCH));

        assertEquals(6, store.countNodes(NodeFilter.all()));
        assertEquals(1, store.countNodes(NodeFilter.all().withAttestationDataType("tpm")));
        assertEquals(3, store.countNodes(NodeFilter.all().withSelectors(SelectorMatch.superset(List.of(UID, GID)))));
        assertEquals(3, store.countNodes(NodeFilter.all().withSelectors(SelectorMatch.exact(List.of(UID, GID)))));
        assertEquals(1, store.countNodes(NodeFilter.all().withSelectors(SelectorMatch.subset(List.of(OTHER, UID)))));
        assertEquals(6, store.countNodes(NodeFilter.all().withSelectors(SelectorMatch.any(List.of(UID, OTHER)))));
        assertEquals(List.of(id("/spire/agent/tpm/h")), store.listNodes(NodeFilter.all()
                .withCertificateExpiresBefore(Instant.parse("2026-01-02T00:00:00Z")), PageRequest.ALL).items()
                .stream().map(AttestedNode::spiffeId).collect(Collectors.toList()));

        List<SpiffeId> seen = new ArrayList<>();
        Page<AttestedNode> page = store.listNodes(NodeFilter.all(), PageRequest.first(4));
        assertEquals(4, page.items().size());
        page.items().forEach(n -> seen.add(n.spiffeId()));
        page = store.listNodes(NodeFilter.all(), PageRequest.after(4, page));
        assertEquals(Optional.empty(), page.nextPageToken());
        page.items().forEach(n -> seen.add(n.spiffeId()));
        List<SpiffeId> sorted = new ArrayList<>(seen);
        Collections.sort(sorted);
        assertEquals(sorted, seen);
        assertEquals(6, new HashSet<>(seen).size());
        assertEquals(2, store.listNodes(NodeFilter.all(), PageRequest.first(4)).items().get(0).selectors().size());
    }

    @Test
    void createNode_malformed_isRefusedNamingTheField() throws Exception {
        assertInvalid("attestation_data_type", Limits.ATTESTATION_TYPE_INVALID, () -> store.createNode(
                AttestedNode.attested(AGENT, "Join-Token", new NodeCertificate("1", Instant.EPOCH), false,
                        List.of())));
        assertInvalid("attestation_data_type", Limits.ATTESTATION_TYPE_INVALID, () -> store.createNode(
                AttestedNode.attested(AGENT, "", new NodeCertificate("1", Instant.EPOCH), false, List.of())));
        assertInvalid("cert_serial_number", Limits.SERIAL_NUMBER_INVALID, () -> store.createNode(
                AttestedNode.attested(AGENT, "tpm", new NodeCertificate("1".repeat(65), Instant.EPOCH), false,
                        List.of())));
        assertInvalid("cert_serial_number", Limits.SERIAL_NUMBER_INVALID, () -> store.createNode(
                AttestedNode.attested(AGENT, "tpm", new NodeCertificate("", Instant.EPOCH), false, List.of())));
        assertInvalid("spiffe_id", Limits.SPIFFE_ID_NO_PATH, () -> store.createNode(node(TD.id(), UID)));
        List<Selector> tooMany = IntStream.range(0, Limits.MAX_SELECTORS + 1)
                .mapToObj(i -> Selector.parse("tpm:label:k:" + i)).collect(Collectors.toList());
        assertInvalid("selectors", Limits.TOO_MANY_SELECTORS, () -> store.createNode(
                node(AGENT, tooMany.toArray(new Selector[0]))));
        assertEquals(0, store.countNodes(NodeFilter.all()));
    }

    // ------------------------------------------------------------------------------------------------------------
    // Join tokens

    @Test
    void joinToken_isTakenOnce() throws Exception {
        Instant expiry = clock.instant().plus(Duration.ofMinutes(10));
        store.createJoinToken("token-1", expiry);
        assertEquals(Optional.of(expiry), store.takeJoinToken("token-1"));
        assertEquals(Optional.empty(), store.takeJoinToken("token-1"));
        assertEquals(Optional.empty(), store.takeJoinToken("never-created"));
    }

    @Test
    void joinToken_isStoredOnlyAsAHash_andNeverQuotedInErrors() throws Exception {
        String secret = "f3a1c0de-5ecr-e7aa-bbcc-0123456789ab";
        store.createJoinToken(secret, clock.instant().plusSeconds(60));
        AlreadyExistsException e = assertThrows(AlreadyExistsException.class,
                () -> store.createJoinToken(secret, clock.instant().plusSeconds(60)));
        assertEquals(DataStoreErrors.JOIN_TOKEN_EXISTS, e.getMessage());
        List<String> stored = ((SqlDataStore) store).withConnection(false, c -> {
            List<String> out = new ArrayList<>();
            try (PreparedStatement s = c.prepareStatement("SELECT token_hash FROM join_tokens");
                    ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    out.add(r.getString(1));
                }
            }
            return out;
        });
        assertEquals(1, stored.size());
        assertFalse(stored.get(0).contains(secret));
        assertEquals(64, stored.get(0).length());
        assertInvalid("join_token", Limits.JOIN_TOKEN_INVALID, () -> store.takeJoinToken("with space"));
        assertInvalid("join_token", Limits.JOIN_TOKEN_INVALID, () -> store.createJoinToken(
                "t".repeat(Limits.MAX_JOIN_TOKEN_LENGTH + 1), clock.instant()));
        assertInvalid("join_token", Limits.JOIN_TOKEN_INVALID, () -> store.takeJoinToken(""));
    }

    @Test
    void joinToken_racingTakers_onTwoServers_exactlyOneWins() throws Exception {
        try (DataStore second = openSecondStore(clock)) {
            List<DataStore> stores = List.of(store, second);
            for (int round = 0; round < 10; round++) {
                String token = "race-" + round;
                store.createJoinToken(token, clock.instant().plusSeconds(600));
                List<Callable<Boolean>> calls = new ArrayList<>();
                for (int i = 0; i < 6; i++) {
                    DataStore target = stores.get(i % 2);
                    calls.add(() -> target.takeJoinToken(token).isPresent());
                }
                List<Boolean> wins = runTogether(calls);
                assertEquals(1, wins.stream().filter(w -> w).count(), "round " + round + ": " + wins);
            }
        }
        assertEquals(0, rows("join_tokens"));
    }

    @Test
    void pruneJoinTokens_deletesOnlyExpired() throws Exception {
        store.createJoinToken("old", clock.instant().minusSeconds(10));
        store.createJoinToken("fresh", clock.instant().plusSeconds(10));
        assertEquals(1, store.pruneJoinTokens(clock.instant()));
        assertEquals(Optional.empty(), store.takeJoinToken("old"));
        assertTrue(store.takeJoinToken("fresh").isPresent());
    }

    // ------------------------------------------------------------------------------------------------------------
    // Bundles

    static SpiffeBundle bundle(String domain, int keyIndex) {
        TestCa ca = TestCa.root(domain);
        return SpiffeBundle.of(new TrustDomain(domain), List.of(ca.certificate()),
                Map.of("key-" + keyIndex, TestKeys.ecP256(keyIndex).getPublic())).withSequence(keyIndex);
    }

    @Test
    void bundles_setGetListReplaceDelete() throws Exception {
        SpiffeBundle a = bundle("a.org", 1);
        SpiffeBundle b = bundle("b.org", 2);
        store.setBundle(b);
        store.setBundle(a);
        assertEquals(Optional.of(a), store.getBundle(new TrustDomain("a.org")));
        assertEquals(List.of(a, b), store.listBundles());

        SpiffeBundle replaced = bundle("a.org", 3);
        store.setBundle(replaced);
        assertEquals(Optional.of(replaced), store.getBundle(new TrustDomain("a.org")));
        assertNotEquals(a, replaced);

        store.deleteBundle(new TrustDomain("a.org"));
        assertEquals(Optional.empty(), store.getBundle(new TrustDomain("a.org")));
        assertEquals(List.of(b), store.listBundles());
        NotFoundException e = assertThrows(NotFoundException.class,
                () -> store.deleteBundle(new TrustDomain("a.org")));
        assertEquals(DataStoreErrors.BUNDLE_NOT_FOUND + ": \"a.org\"", e.getMessage());
    }

    @Test
    void bundles_areStoredAsSpiffeBundleJson() throws Exception {
        store.setBundle(bundle("a.org", 1));
        String json = ((SqlDataStore) store).withConnection(false, c -> {
            try (PreparedStatement s = c.prepareStatement("SELECT bundle_json FROM federated_bundles");
                    ResultSet r = s.executeQuery()) {
                r.next();
                return r.getString(1);
            }
        });
        assertTrue(json.contains("\"keys\""), json);
        assertTrue(json.contains("\"x509-svid\""), json);
        assertTrue(json.contains("\"spiffe_sequence\""), json);
    }

    // ------------------------------------------------------------------------------------------------------------
    // CA journal

    @Test
    void caJournal_optimisticConcurrency() throws Exception {
        assertEquals(Optional.empty(), store.getCaJournal("server-a"));
        byte[] first = "journal v1".getBytes(StandardCharsets.UTF_8);
        assertEquals(1, store.putCaJournal("server-a", 0, first));
        CaJournal read = store.getCaJournal("server-a").orElseThrow();
        assertEquals(1, read.version());
        assertArrayEquals(first, read.data());

        ConflictException again = assertThrows(ConflictException.class,
                () -> store.putCaJournal("server-a", 0, new byte[] {1}));
        assertEquals(DataStoreErrors.JOURNAL_CONFLICT + ": \"server-a\"", again.getMessage());
        byte[] second = new byte[] {0, 1, 2, (byte) 0xff};
        assertEquals(2, store.putCaJournal("server-a", 1, second));
        assertThrows(ConflictException.class, () -> store.putCaJournal("server-a", 1, new byte[] {9}));
        assertThrows(ConflictException.class, () -> store.putCaJournal("server-a", 3, new byte[] {9}));
        assertArrayEquals(second, store.getCaJournal("server-a").orElseThrow().data());

        // Journals of different servers are independent.
        assertEquals(1, store.putCaJournal("server-b", 0, new byte[0]));
        assertEquals(2, store.getCaJournal("server-a").orElseThrow().version());

        assertInvalid("journal", Limits.JOURNAL_TOO_LARGE, () -> store.putCaJournal("server-a", 2,
                new byte[Limits.MAX_JOURNAL_BYTES + 1]));
        assertInvalid("expected_version", Limits.JOURNAL_VERSION_NEGATIVE,
                () -> store.putCaJournal("server-a", -1, new byte[1]));
        assertInvalid("server_id", Limits.SERVER_ID_INVALID, () -> store.getCaJournal("bad\nid"));
        assertEquals(2, store.getCaJournal("server-a").orElseThrow().version());
    }

    @Test
    void caJournal_racingWriters_onTwoServers_exactlyOneWinsEachVersion() throws Exception {
        store.putCaJournal("shared", 0, new byte[] {0});
        try (DataStore second = openSecondStore(clock)) {
            List<DataStore> stores = List.of(store, second);
            List<Callable<Boolean>> calls = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                DataStore target = stores.get(i % 2);
                byte[] data = {(byte) i};
                calls.add(() -> {
                    try {
                        target.putCaJournal("shared", 1, data);
                        return true;
                    } catch (ConflictException e) {
                        return false;
                    }
                });
            }
            assertEquals(1, runTogether(calls).stream().filter(w -> w).count());
        }
        assertEquals(2, store.getCaJournal("shared").orElseThrow().version());
    }

    @Test
    void caJournal_largestAllowed_roundTrips() throws Exception {
        byte[] big = new byte[Limits.MAX_JOURNAL_BYTES];
        random.nextBytes(big);
        store.putCaJournal("big", 0, big);
        assertArrayEquals(big, store.getCaJournal("big").orElseThrow().data());
    }

    // ------------------------------------------------------------------------------------------------------------
    // Change log

    @Test
    void changeLog_recordsEveryChange_inOrder() throws Exception {
        assertEquals(0, store.lastEventId());
        RegistrationEntry e1 = store.createEntry(entry("/a", UID).build());
        store.updateEntry(e1.toBuilder().hint("x").build(), EnumSet.of(EntryField.HINT));
        store.createNode(node(AGENT, UID));
        store.updateNodeCertificates(AGENT, Optional.empty(), Optional.empty());
        store.banNode(AGENT);
        store.deleteNode(AGENT);
        store.deleteEntry(e1.id());
        store.createEntry(entry("/b", UID).build());
        assertThrows(AlreadyExistsException.class, () -> store.createEntry(entry("/b", UID).build()));

        List<ChangeEvent> events = store.listEvents(0, 100);
        assertEquals(List.of(ChangeEvent.Kind.ENTRY_CREATED, ChangeEvent.Kind.ENTRY_UPDATED,
                ChangeEvent.Kind.NODE_CREATED, ChangeEvent.Kind.NODE_UPDATED, ChangeEvent.Kind.NODE_BANNED,
                ChangeEvent.Kind.NODE_DELETED, ChangeEvent.Kind.ENTRY_DELETED, ChangeEvent.Kind.ENTRY_CREATED),
                events.stream().map(ChangeEvent::kind).collect(Collectors.toList()));
        assertEquals(List.of(e1.id(), e1.id(), AGENT.toString(), AGENT.toString()),
                events.subList(0, 4).stream().map(ChangeEvent::subject).collect(Collectors.toList()));
        for (int i = 1; i < events.size(); i++) {
            assertTrue(events.get(i).id() > events.get(i - 1).id());
        }
        assertEquals(events.get(events.size() - 1).id(), store.lastEventId());
        assertEquals(events.subList(3, 5), store.listEvents(events.get(2).id(), 2));
        assertEquals(clock.instant(), events.get(0).createdAt());
        assertInvalid("limit", Limits.EVENT_LIMIT_INVALID, () -> store.listEvents(0, 0));
        assertInvalid("after_id", Limits.EVENT_ID_NEGATIVE, () -> store.listEvents(-1, 10));
    }

    @Test
    void changeLog_prune_keepsRecentEvents_andNeverReusesIds() throws Exception {
        store.createEntry(entry("/a", UID).build());
        store.createEntry(entry("/b", UID).build());
        long lastOld = store.lastEventId();
        clock.advance(Duration.ofHours(2));
        store.createEntry(entry("/c", UID).build());
        assertEquals(2, store.pruneEvents(clock.instant().minus(Duration.ofHours(1))));
        List<ChangeEvent> left = store.listEvents(0, 100);
        assertEquals(1, left.size());
        assertTrue(left.get(0).id() > lastOld);

        assertEquals(1, store.pruneEvents(clock.instant().plusSeconds(1)));
        store.createEntry(entry("/d", UID).build());
        assertTrue(store.listEvents(0, 10).get(0).id() > left.get(0).id(), "an id was reused after pruning");
    }

    @Test
    void changeLog_concurrentWritersOnTwoServers_eventsAreCompleteAndStrictlyIncreasing() throws Exception {
        AtomicInteger counter = new AtomicInteger();
        try (DataStore second = openSecondStore(clock)) {
            List<DataStore> stores = List.of(store, second);
            List<Callable<String>> calls = new ArrayList<>();
            for (int i = 0; i < 12; i++) {
                DataStore target = stores.get(i % 2);
                calls.add(() -> target.createEntry(entry("/c" + counter.incrementAndGet(), UID).build()).id());
            }
            List<String> ids = runTogether(calls);
            List<ChangeEvent> events = store.listEvents(0, 100);
            assertEquals(new HashSet<>(ids), events.stream().map(ChangeEvent::subject).collect(Collectors.toSet()));
            assertEquals(12, events.size());
            for (int i = 1; i < events.size(); i++) {
                assertTrue(events.get(i).id() > events.get(i - 1).id());
            }
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // TPM enrolments

    static final String EK_A = "a".repeat(64);
    static final String EK_B = "b".repeat(64);
    static final String EK_C = "c".repeat(64);
    static final String PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

    static TpmEnrollment enrollment(String ekHash, Map<String, String> labels, String pcrPolicy, String pem) {
        return new TpmEnrollment(ekHash, new TreeMap<>(labels), Optional.ofNullable(pcrPolicy),
                Optional.ofNullable(pem), Instant.EPOCH, Optional.empty());
    }

    @Test
    void tpmEnrollment_everyFieldRoundTrips_createdNow_notRevoked() throws Exception {
        TpmEnrollment created = store.createTpmEnrollment(new TpmEnrollment(EK_A.toUpperCase(java.util.Locale.ROOT),
                new TreeMap<>(Map.of("rack", "r12", "site.name", "Zürich = HQ; east", "role", "db")),
                Optional.of("prod-boot"), Optional.of(PEM), Instant.EPOCH, Optional.of(Instant.EPOCH)));

        assertEquals(EK_A, created.ekHash());
        assertEquals(clock.instant(), created.createdAt(), "created now, whatever the record said");
        assertFalse(created.revoked(), "a new enrolment is never revoked");
        assertEquals(Map.of("rack", "r12", "site.name", "Zürich = HQ; east", "role", "db"), created.labels());
        assertEquals(Optional.of("prod-boot"), created.pcrPolicy());
        assertEquals(Optional.of(PEM), created.ekCertificatePem());
        assertEquals(Optional.of(created), store.getTpmEnrollment(EK_A));
        assertEquals(Optional.of(created), store.getTpmEnrollment(EK_A.toUpperCase(java.util.Locale.ROOT)));
        TpmEnrollment bare = store.createTpmEnrollment(enrollment(EK_B, Map.of(), null, null));
        assertEquals(Optional.of(bare), store.getTpmEnrollment(EK_B));
        assertTrue(bare.labels().isEmpty() && bare.pcrPolicy().isEmpty() && bare.ekCertificatePem().isEmpty());
        assertEquals(Optional.empty(), store.getTpmEnrollment(EK_C));
    }

    @Test
    void tpmEnrollment_existingHash_refused_revokedOrNot() throws Exception {
        store.createTpmEnrollment(enrollment(EK_A, Map.of("a", "1"), null, null));
        AlreadyExistsException again = assertThrows(AlreadyExistsException.class,
                () -> store.createTpmEnrollment(enrollment(EK_A, Map.of("b", "2"), null, null)));
        assertEquals(DataStoreErrors.TPM_ENROLLMENT_EXISTS + ": \"" + EK_A + "\"", again.getMessage());
        store.revokeTpmEnrollment(EK_A);
        assertThrows(AlreadyExistsException.class,
                () -> store.createTpmEnrollment(enrollment(EK_A, Map.of(), null, null)));
        assertEquals(Map.of("a", "1"), store.getTpmEnrollment(EK_A).orElseThrow().labels(), "first one kept");
        assertTrue(store.getTpmEnrollment(EK_A).orElseThrow().revoked(), "still revoked");
    }

    @Test
    void tpmEnrollment_concurrentCreatesOnTwoServers_exactlyOneWins() throws Exception {
        try (DataStore second = openSecondStore(clock)) {
            List<DataStore> stores = List.of(store, second);
            List<Callable<Boolean>> calls = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                DataStore target = stores.get(i % 2);
                String label = "n" + i;
                calls.add(() -> {
                    try {
                        target.createTpmEnrollment(enrollment(EK_A, Map.of("who", label), null, null));
                        return true;
                    } catch (AlreadyExistsException e) {
                        return false;
                    }
                });
            }
            assertEquals(1, runTogether(calls).stream().filter(b -> b).count());
        }
    }

    @Test
    void tpmEnrollment_revoke_setsTimeOnce_andUnknownIsNotFound() throws Exception {
        store.createTpmEnrollment(enrollment(EK_A, Map.of(), "p", null));
        clock.advance(Duration.ofMinutes(5));
        Instant first = clock.instant();
        TpmEnrollment revoked = store.revokeTpmEnrollment(EK_A);
        assertEquals(Optional.of(first), revoked.revokedAt());
        assertEquals(Optional.of("p"), revoked.pcrPolicy());
        clock.advance(Duration.ofMinutes(5));
        assertEquals(Optional.of(first), store.revokeTpmEnrollment(EK_A).revokedAt(), "revoking twice keeps the first");
        assertEquals(Optional.of(first), store.getTpmEnrollment(EK_A).orElseThrow().revokedAt());
        NotFoundException missing = assertThrows(NotFoundException.class, () -> store.revokeTpmEnrollment(EK_B));
        assertEquals(DataStoreErrors.TPM_ENROLLMENT_NOT_FOUND + ": \"" + EK_B + "\"", missing.getMessage());
        assertEquals(DataStoreException.Kind.NOT_FOUND, missing.kind());
    }

    @Test
    void tpmEnrollment_list_pagesInHashOrder_andFiltersByRevoked() throws Exception {
        List<String> hashes = new ArrayList<>();
        for (int i = 0; i < 25; i++) {
            String hash = String.format("%064x", (long) i * 7919);
            hashes.add(hash);
            store.createTpmEnrollment(enrollment(hash, Map.of("i", Integer.toString(i)), null, null));
            if (i % 3 == 0) {
                store.revokeTpmEnrollment(hash);
            }
        }
        Collections.sort(hashes);
        List<String> seen = new ArrayList<>();
        PageRequest request = PageRequest.first(4);
        while (true) {
            Page<TpmEnrollment> page = store.listTpmEnrollments(Optional.empty(), request);
            assertTrue(page.items().size() <= 4);
            page.items().forEach(e -> seen.add(e.ekHash()));
            if (page.nextPageToken().isEmpty()) {
                break;
            }
            request = PageRequest.after(4, page);
        }
        assertEquals(hashes, seen, "every enrolment once, in EK hash order");
        List<TpmEnrollment> revoked = store.listTpmEnrollments(Optional.of(true), PageRequest.ALL).items();
        List<TpmEnrollment> active = store.listTpmEnrollments(Optional.of(false), PageRequest.ALL).items();
        assertEquals(9, revoked.size());
        assertEquals(16, active.size());
        assertTrue(revoked.stream().allMatch(TpmEnrollment::revoked));
        assertTrue(active.stream().noneMatch(TpmEnrollment::revoked));
        assertEquals("0", revoked.stream().filter(e -> e.ekHash().equals(String.format("%064x", 0))).findFirst()
                .orElseThrow().labels().get("i"));
        assertInvalid("page_token", Limits.PAGE_TOKEN_INVALID,
                () -> store.listTpmEnrollments(Optional.empty(), new PageRequest(4, Optional.of("!!"))));
        assertInvalid("page_size", Limits.PAGE_SIZE_INVALID,
                () -> store.listTpmEnrollments(Optional.empty(), PageRequest.first(Limits.MAX_PAGE_SIZE + 1)));
    }

    static List<Object[]> invalidTpmEnrollments() {
        Map<String, String> tooMany = new TreeMap<>();
        for (int i = 0; i <= Limits.MAX_TPM_LABELS; i++) {
            tooMany.put("k" + i, "v");
        }
        return List.of(
                new Object[] {enrollment(EK_A, tooMany, null, null), "labels", Limits.TOO_MANY_TPM_LABELS},
                new Object[] {enrollment(EK_A, Map.of("Upper", "v"), null, null), "labels",
                    Limits.TPM_LABEL_KEY_INVALID},
                new Object[] {enrollment(EK_A, Map.of("a:b", "v"), null, null), "labels",
                    Limits.TPM_LABEL_KEY_INVALID},
                new Object[] {enrollment(EK_A, Map.of("a=b", "v"), null, null), "labels",
                    Limits.TPM_LABEL_KEY_INVALID},
                new Object[] {enrollment(EK_A, Map.of("", "v"), null, null), "labels", Limits.TPM_LABEL_KEY_INVALID},
                new Object[] {enrollment(EK_A, Map.of("k".repeat(Limits.MAX_TPM_LABEL_KEY_LENGTH + 1), "v"), null,
                    null), "labels", Limits.TPM_LABEL_KEY_INVALID},
                new Object[] {enrollment(EK_A, Map.of("k", ""), null, null), "labels.k",
                    Limits.TPM_LABEL_VALUE_INVALID},
                new Object[] {enrollment(EK_A, Map.of("k", "a\nforged=line"), null, null), "labels.k",
                    Limits.TPM_LABEL_VALUE_INVALID},
                new Object[] {enrollment(EK_A, Map.of("k", "v".repeat(Limits.MAX_TPM_LABEL_VALUE_LENGTH + 1)), null,
                    null), "labels.k", Limits.TPM_LABEL_VALUE_INVALID},
                new Object[] {enrollment(EK_A, Map.of(), "-leading-dash", null), "pcr_policy",
                    Limits.PCR_POLICY_NAME_INVALID},
                new Object[] {enrollment(EK_A, Map.of(), "has space", null), "pcr_policy",
                    Limits.PCR_POLICY_NAME_INVALID},
                new Object[] {enrollment(EK_A, Map.of(), "p".repeat(Limits.MAX_PCR_POLICY_NAME_LENGTH + 1), null),
                    "pcr_policy", Limits.PCR_POLICY_NAME_INVALID},
                new Object[] {enrollment(EK_A, Map.of(), null, "not a certificate"), "ek_certificate",
                    Limits.EK_CERTIFICATE_PEM_INVALID},
                new Object[] {enrollment(EK_A, Map.of(), null, PEM + PEM), "ek_certificate",
                    Limits.EK_CERTIFICATE_PEM_INVALID},
                new Object[] {enrollment(EK_A, Map.of(), null, PEM.replace("MIIB", "MII\u0007")), "ek_certificate",
                    Limits.EK_CERTIFICATE_PEM_INVALID},
                new Object[] {enrollment(EK_A, Map.of(), null, PEM.replace("MIIB",
                    "A".repeat(Limits.MAX_EK_CERTIFICATE_PEM_LENGTH))), "ek_certificate",
                    Limits.EK_CERTIFICATE_PEM_INVALID});
    }

    @Test
    void tpmEnrollment_invalidInput_refusedNamingTheField_andNothingStored() throws Exception {
        for (Object[] row : invalidTpmEnrollments()) {
            assertInvalid((String) row[1], (String) row[2], () -> store.createTpmEnrollment((TpmEnrollment) row[0]));
        }
        assertEquals(0, rows("tpm_enrollments"));
        assertInvalid("ek_hash", EkHash.MALFORMED, () -> store.getTpmEnrollment("abc"));
        assertInvalid("ek_hash", EkHash.MALFORMED, () -> store.revokeTpmEnrollment("g".repeat(64)));
        assertInvalid("ek_hash", EkHash.MALFORMED, () -> store.getTpmEnrollment(null));
    }

    @Test
    void tpmEnrollment_valuesAtTheLimits_accepted() throws Exception {
        Map<String, String> labels = new TreeMap<>();
        for (int i = 0; i < Limits.MAX_TPM_LABELS; i++) {
            labels.put(String.format("%02d", i) + "k".repeat(Limits.MAX_TPM_LABEL_KEY_LENGTH - 2),
                    "v=;:,\"é".repeat(Limits.MAX_TPM_LABEL_VALUE_LENGTH / 8));
        }
        String pem = PEM.replace("MIIB", "A".repeat(Limits.MAX_EK_CERTIFICATE_PEM_LENGTH - PEM.length() + 4));
        assertEquals(Limits.MAX_EK_CERTIFICATE_PEM_LENGTH, pem.length());
        String policy = "P" + "._-9".repeat((Limits.MAX_PCR_POLICY_NAME_LENGTH - 1) / 4) + "abc";
        assertEquals(Limits.MAX_PCR_POLICY_NAME_LENGTH, policy.length());
        TpmEnrollment created = store.createTpmEnrollment(enrollment(EK_A, labels, policy, pem));
        assertEquals(created, store.getTpmEnrollment(EK_A).orElseThrow());
        assertEquals(labels, created.labels());
    }

    // ------------------------------------------------------------------------------------------------------------
    // OpenStack IID single-use IDs

    @Test
    void consumeIidJti_firstUseOnly_perIssuer_andAcrossStores() throws Exception {
        Instant exp = clock.instant().plus(Duration.ofMinutes(5));
        assertTrue(store.consumeIidJti("https://iid.example.org", "jti-1", exp));
        assertFalse(store.consumeIidJti("https://iid.example.org", "jti-1", exp));
        assertFalse(store.consumeIidJti("https://iid.example.org", "jti-1", exp.plusSeconds(600)));
        // The same jti from another issuer is another document.
        assertTrue(store.consumeIidJti("https://other.example.org", "jti-1", exp));
        // A second server on the same database (a restarted one reads the same rows) sees the use too.
        try (DataStore second = openSecondStore(clock)) {
            assertFalse(second.consumeIidJti("https://iid.example.org", "jti-1", exp));
            assertTrue(second.consumeIidJti("https://iid.example.org", "jti-2", exp));
        }
        assertFalse(store.consumeIidJti("https://iid.example.org", "jti-2", exp));
    }

    @Test
    void consumeIidJti_keptPastExpiryForLongerThanAnySkew_thenPruned() throws Exception {
        Instant exp = clock.instant().plus(Duration.ofMinutes(5));
        assertTrue(store.consumeIidJti("iss", "kept", exp));
        clock.set(exp.plus(Duration.ofMinutes(10)));
        assertTrue(store.consumeIidJti("iss", "trigger-1", clock.instant().plusSeconds(60)));
        assertFalse(store.consumeIidJti("iss", "kept", exp), "still inside the retention");
        clock.set(exp.plus(SqlDataStore.IID_JTI_RETENTION).plusSeconds(1));
        assertTrue(store.consumeIidJti("iss", "trigger-2", clock.instant().plusSeconds(60)));
        assertEquals(0, rows("iid_jtis WHERE jti = 'kept'"));
    }

    @Test
    void consumeIidJti_racingServers_exactlyOneWins() throws Exception {
        Instant exp = clock.instant().plus(Duration.ofMinutes(5));
        try (DataStore second = openSecondStore(clock)) {
            List<DataStore> stores = List.of(store, second);
            List<Callable<Boolean>> calls = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                DataStore target = stores.get(i % 2);
                calls.add(() -> target.consumeIidJti("iss", "raced", exp));
            }
            List<Boolean> results = runTogether(calls);
            assertEquals(1, results.stream().filter(b -> b).count(), results.toString());
        }
    }

    @Test
    void consumeIidJti_malformed_isRefused() {
        Instant exp = clock.instant();
        assertInvalid("issuer", Limits.IID_ISSUER_INVALID, () -> store.consumeIidJti("", "j", exp));
        assertInvalid("issuer", Limits.IID_ISSUER_INVALID, () -> store.consumeIidJti("i".repeat(257), "j", exp));
        assertInvalid("jti", Limits.IID_JTI_INVALID, () -> store.consumeIidJti("iss", "", exp));
        assertInvalid("jti", Limits.IID_JTI_INVALID, () -> store.consumeIidJti("iss", "j".repeat(129), exp));
        assertInvalid("jti", Limits.IID_JTI_INVALID, () -> store.consumeIidJti("iss", "a\nb", exp));
        assertInvalid("expires_at", "is required", () -> store.consumeIidJti("iss", "j", null));
    }

    // ------------------------------------------------------------------------------------------------------------
    // TPM attestation key bindings

    @Test
    void tpmAkBinding_setGetReplaceDelete() throws Exception {
        byte[] akPublic = new byte[300];
        random.nextBytes(akPublic);
        byte[] akName = new byte[34];
        random.nextBytes(akName);
        assertEquals(Optional.empty(), store.getTpmAkBinding(EK_A));

        Instant bound = clock.instant();
        TpmAkBinding first = store.setTpmAkBinding(EK_A.toUpperCase(java.util.Locale.ROOT), akPublic, akName);
        assertEquals(EK_A, first.ekHash());
        assertArrayEquals(akPublic, first.akPublic());
        assertArrayEquals(akName, first.akName());
        assertEquals(bound, first.boundAt());
        assertEquals(bound, first.updatedAt());
        assertEquals(Optional.of(first), store.getTpmAkBinding(EK_A));

        clock.advance(Duration.ofHours(1));
        byte[] otherPublic = new byte[120];
        random.nextBytes(otherPublic);
        byte[] otherName = new byte[50];
        random.nextBytes(otherName);
        TpmAkBinding replaced = store.setTpmAkBinding(EK_A, otherPublic, otherName);
        assertArrayEquals(otherPublic, replaced.akPublic());
        assertArrayEquals(otherName, replaced.akName());
        assertEquals(bound, replaced.boundAt(), "bound_at kept");
        assertEquals(clock.instant(), replaced.updatedAt());
        assertEquals(1, rows("tpm_ak_bindings"));

        assertEquals(Optional.of(replaced), store.deleteTpmAkBinding(EK_A));
        assertEquals(Optional.empty(), store.deleteTpmAkBinding(EK_A));
        assertEquals(Optional.empty(), store.getTpmAkBinding(EK_A));
    }

    @Test
    void deleteNode_tpmNode_deletesItsAkBinding_otherNodesAndBindingsStay() throws Exception {
        byte[] akPublic = {1, 2, 3};
        byte[] akName = new byte[34];
        store.setTpmAkBinding(EK_A, akPublic, akName);
        store.setTpmAkBinding(EK_B, akPublic, akName);
        SpiffeId tpmA = id("/spire/agent/tpm/" + EK_A);
        store.createNode(AttestedNode.attested(tpmA, "tpm", new NodeCertificate("1", Instant.EPOCH), true,
                List.of()));
        // A node of another attestor whose last segment happens to be EK_B's hash: its binding is not its own.
        SpiffeId other = id("/spire/agent/join_token/" + EK_B);
        store.createNode(node(other));

        store.deleteNode(tpmA);
        assertEquals(Optional.empty(), store.getTpmAkBinding(EK_A));
        store.deleteNode(other);
        assertTrue(store.getTpmAkBinding(EK_B).isPresent());
        // Banning keeps the binding (the node record stays, refusing every renewal).
        SpiffeId tpmB = id("/spire/agent/tpm/" + EK_B);
        store.createNode(AttestedNode.attested(tpmB, "tpm", new NodeCertificate("2", Instant.EPOCH), true,
                List.of()));
        store.banNode(tpmB);
        assertTrue(store.getTpmAkBinding(EK_B).isPresent());
    }

    @Test
    void tpmAkBinding_isIndependentOfEnrolment_andCopiesItsBytes() throws Exception {
        byte[] akPublic = {1, 2, 3};
        byte[] akName = new byte[22];
        TpmAkBinding binding = store.setTpmAkBinding(EK_B, akPublic, akName);
        akPublic[0] = 9;
        binding.akPublic()[1] = 9;
        assertArrayEquals(new byte[] {1, 2, 3}, store.getTpmAkBinding(EK_B).orElseThrow().akPublic());
        assertEquals(Optional.empty(), store.getTpmEnrollment(EK_B), "CA-trusted nodes have no enrolment");
    }

    @Test
    void tpmAkBinding_invalidInput_refused() throws Exception {
        assertInvalid("ak_public", Limits.AK_PUBLIC_INVALID, () -> store.setTpmAkBinding(EK_A, new byte[0],
                new byte[34]));
        assertInvalid("ak_public", Limits.AK_PUBLIC_INVALID, () -> store.setTpmAkBinding(EK_A,
                new byte[Limits.MAX_AK_PUBLIC_BYTES + 1], new byte[34]));
        assertInvalid("ak_name", Limits.AK_NAME_INVALID, () -> store.setTpmAkBinding(EK_A, new byte[10],
                new byte[Limits.MIN_AK_NAME_BYTES - 1]));
        assertInvalid("ak_name", Limits.AK_NAME_INVALID, () -> store.setTpmAkBinding(EK_A, new byte[10],
                new byte[Limits.MAX_AK_NAME_BYTES + 1]));
        assertInvalid("ek_hash", EkHash.MALFORMED, () -> store.setTpmAkBinding("xyz", new byte[10], new byte[34]));
        assertInvalid("ek_hash", EkHash.MALFORMED, () -> store.deleteTpmAkBinding("xyz"));
        assertEquals(0, rows("tpm_ak_bindings"));
        TpmAkBinding max = store.setTpmAkBinding(EK_A, new byte[Limits.MAX_AK_PUBLIC_BYTES],
                new byte[Limits.MAX_AK_NAME_BYTES]);
        assertEquals(Limits.MAX_AK_PUBLIC_BYTES, store.getTpmAkBinding(EK_A).orElseThrow().akPublic().length);
        assertEquals(max, store.getTpmAkBinding(EK_A).orElseThrow());
    }

    @Test
    void tpmAkBinding_concurrentSetsOnTwoServers_leaveOneRow() throws Exception {
        try (DataStore second = openSecondStore(clock)) {
            List<DataStore> stores = List.of(store, second);
            List<Callable<TpmAkBinding>> calls = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                DataStore target = stores.get(i % 2);
                byte[] name = new byte[34];
                name[0] = (byte) i;
                byte[] akPublic = {(byte) i};
                calls.add(() -> target.setTpmAkBinding(EK_A, akPublic, name));
            }
            runTogether(calls);
            assertEquals(1, rows("tpm_ak_bindings"));
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Lifecycle

    @Test
    void closedStore_reportsUnavailable() throws Exception {
        store.close();
        UnavailableException e = assertThrows(UnavailableException.class, () -> store.countEntries(
                EntryFilter.all()));
        assertEquals(DataStoreErrors.CLOSED, e.getMessage());
        assertEquals(DataStoreException.Kind.UNAVAILABLE, e.kind());
        store = openStore(clock);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Federation relationships

    static final TrustDomain PEER = new TrustDomain("peer.org");

    static FederationRelationship relationship(String domain, String url, BundleEndpointProfile profile) {
        return FederationRelationship.of(new TrustDomain(domain), java.net.URI.create(url), profile);
    }

    static BundleEndpointProfile spiffeProfile(String id) {
        return new BundleEndpointProfile.HttpsSpiffe(SpiffeId.parse(id));
    }

    @Test
    void federation_createGetListUpdateDelete() throws Exception {
        FederationRelationship created = store.createFederationRelationship(relationship("peer.org",
                "https://peer.example:8443/bundle", spiffeProfile("spiffe://peer.org/spire/server")), Optional.empty());
        assertEquals(PEER, created.trustDomain());
        assertEquals(clock.instant(), created.createdAt());
        assertEquals(clock.instant(), created.updatedAt());
        assertEquals(BundleFetchState.NONE, created.fetchState());
        assertEquals(Optional.of(created), store.getFederationRelationship(PEER));
        store.createFederationRelationship(relationship("a.org", "https://a.example/b.json",
                new BundleEndpointProfile.HttpsWeb()), Optional.empty());
        store.createFederationRelationship(relationship("z.org", "https://z.example/",
                new BundleEndpointProfile.HttpsWeb()), Optional.empty());

        Page<FederationRelationship> first = store.listFederationRelationships(PageRequest.first(2));
        assertEquals(List.of("a.org", "peer.org"), first.items().stream().map(r -> r.trustDomain().name()).toList());
        Page<FederationRelationship> second = store.listFederationRelationships(PageRequest.after(2, first));
        assertEquals(List.of("z.org"), second.items().stream().map(r -> r.trustDomain().name()).toList());
        assertEquals(Optional.empty(), second.nextPageToken());

        clock.advance(Duration.ofMinutes(5));
        FederationRelationship updated = store.updateFederationRelationship(relationship("peer.org",
                "https://other.example/bundle", new BundleEndpointProfile.HttpsWeb()));
        assertEquals("https://other.example/bundle", updated.bundleEndpointUrl().toString());
        assertEquals(new BundleEndpointProfile.HttpsWeb(), updated.profile());
        assertEquals(created.createdAt(), updated.createdAt());
        assertEquals(clock.instant(), updated.updatedAt());

        assertEquals(updated, store.deleteFederationRelationship(PEER));
        assertEquals(Optional.empty(), store.getFederationRelationship(PEER));
        NotFoundException gone = assertThrows(NotFoundException.class, () -> store.deleteFederationRelationship(PEER));
        assertEquals(DataStoreErrors.RELATIONSHIP_NOT_FOUND + ": \"peer.org\"", gone.getMessage());
        NotFoundException notUpdated = assertThrows(NotFoundException.class, () -> store.updateFederationRelationship(
                relationship("peer.org", "https://x.example/", new BundleEndpointProfile.HttpsWeb())));
        assertEquals(DataStoreErrors.RELATIONSHIP_NOT_FOUND + ": \"peer.org\"", notUpdated.getMessage());
    }

    @Test
    void federation_duplicateTrustDomain_refused() throws Exception {
        store.createFederationRelationship(relationship("peer.org", "https://peer.example/",
                new BundleEndpointProfile.HttpsWeb()), Optional.empty());
        AlreadyExistsException e = assertThrows(AlreadyExistsException.class,
                () -> store.createFederationRelationship(relationship("peer.org", "https://other.example/",
                        new BundleEndpointProfile.HttpsWeb()), Optional.empty()));
        assertEquals(DataStoreErrors.RELATIONSHIP_EXISTS + ": \"peer.org\"", e.getMessage());
    }

    @Test
    void federation_bootstrapBundle_storedOnlyWhenNoneIs() throws Exception {
        SpiffeBundle bootstrap = bundle("peer.org", 1);
        store.createFederationRelationship(relationship("peer.org", "https://peer.example/",
                spiffeProfile("spiffe://peer.org/spire/server")), Optional.of(bootstrap));
        assertEquals(Optional.of(bootstrap), store.getBundle(PEER));

        SpiffeBundle stored = bundle("other.org", 2);
        store.setBundle(stored);
        store.createFederationRelationship(relationship("other.org", "https://other.example/",
                spiffeProfile("spiffe://other.org/spire/server")), Optional.of(bundle("other.org", 3)));
        assertEquals(Optional.of(stored), store.getBundle(new TrustDomain("other.org")));

        InvalidArgumentException wrong = assertThrows(InvalidArgumentException.class,
                () -> store.createFederationRelationship(relationship("third.org", "https://third.example/",
                        new BundleEndpointProfile.HttpsWeb()), Optional.of(bundle("peer.org", 4))));
        assertEquals(Limits.BUNDLE_TRUST_DOMAIN_MISMATCH, wrong.reason());
        assertEquals(Optional.empty(), store.getFederationRelationship(new TrustDomain("third.org")));
    }

    @Test
    void federation_deleteKeepsTheBundle() throws Exception {
        store.createFederationRelationship(relationship("peer.org", "https://peer.example/",
                new BundleEndpointProfile.HttpsWeb()), Optional.of(bundle("peer.org", 1)));
        store.deleteFederationRelationship(PEER);
        assertTrue(store.getBundle(PEER).isPresent());
    }

    @Test
    void federation_fetchState_recordedAndReadBack() throws Exception {
        store.createFederationRelationship(relationship("peer.org", "https://peer.example/",
                new BundleEndpointProfile.HttpsWeb()), Optional.empty());
        Instant at = clock.instant();
        BundleFetchState state = new BundleFetchState(Optional.of(at.minusSeconds(60)), Optional.of(at),
                Optional.of("peer answered HTTP 500"), Optional.of(at.plusSeconds(30)), 2);
        store.setBundleFetchState(PEER, state);
        assertEquals(state, store.getFederationRelationship(PEER).orElseThrow().fetchState());
        // Updating the endpoint keeps the state.
        store.updateFederationRelationship(relationship("peer.org", "https://new.example/",
                new BundleEndpointProfile.HttpsWeb()));
        assertEquals(state, store.getFederationRelationship(PEER).orElseThrow().fetchState());

        NotFoundException e = assertThrows(NotFoundException.class,
                () -> store.setBundleFetchState(new TrustDomain("nobody.org"), state));
        assertEquals(DataStoreErrors.RELATIONSHIP_NOT_FOUND + ": \"nobody.org\"", e.getMessage());
    }

    @Test
    void federation_fetchStateError_isCutAndFreeOfControlCharacters() {
        BundleFetchState state = new BundleFetchState(Optional.empty(), Optional.empty(),
                Optional.of("bad\npeer\u0000" + "x".repeat(5000)), Optional.empty(), 1);
        assertEquals(BundleFetchState.MAX_ERROR_LENGTH, state.lastError().orElseThrow().length());
        assertTrue(state.lastError().orElseThrow().startsWith("bad peer x"));
    }

    @Test
    void compareAndSetBundle_writesOnlyOverTheExpectedBundle() throws Exception {
        SpiffeBundle first = bundle("peer.org", 1);
        SpiffeBundle second = bundle("peer.org", 2);
        SpiffeBundle third = bundle("peer.org", 3);
        assertTrue(store.compareAndSetBundle(Optional.empty(), first));
        assertFalse(store.compareAndSetBundle(Optional.empty(), second));
        assertEquals(Optional.of(first), store.getBundle(PEER));
        assertFalse(store.compareAndSetBundle(Optional.of(second), third));
        assertEquals(Optional.of(first), store.getBundle(PEER));
        assertTrue(store.compareAndSetBundle(Optional.of(first), second));
        assertEquals(Optional.of(second), store.getBundle(PEER));

        store.deleteBundle(PEER);
        assertFalse(store.compareAndSetBundle(Optional.of(second), third));
        assertEquals(Optional.empty(), store.getBundle(PEER));
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class,
                () -> store.compareAndSetBundle(Optional.of(bundle("a.org", 1)), second));
        assertEquals(Limits.BUNDLE_TRUST_DOMAIN_MISMATCH, e.reason());
    }

    @Test
    void compareAndSetBundle_twoServersRacing_exactlyOneWins() throws Exception {
        SpiffeBundle base = bundle("peer.org", 1);
        store.setBundle(base);
        try (DataStore second = openSecondStore(clock)) {
            for (int round = 0; round < 5; round++) {
                SpiffeBundle expected = store.getBundle(PEER).orElseThrow();
                SpiffeBundle a = bundle("peer.org", 10 + 2 * round);
                SpiffeBundle b = bundle("peer.org", 11 + 2 * round);
                List<Boolean> results = runTogether(List.of(
                        () -> store.compareAndSetBundle(Optional.of(expected), a),
                        () -> second.compareAndSetBundle(Optional.of(expected), b)));
                assertEquals(1, results.stream().filter(Boolean::booleanValue).count(), results.toString());
                SpiffeBundle winner = results.get(0) ? a : b;
                assertEquals(Optional.of(winner), store.getBundle(PEER));
            }
        }
    }

    // ------------------------------------------------------------------------------------------------------------

    /** Runs the calls on their own threads, released together, and returns their results in order. */
    static <T> List<T> runTogether(List<Callable<T>> calls) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(calls.size());
        try {
            CountDownLatch ready = new CountDownLatch(calls.size());
            CountDownLatch go = new CountDownLatch(1);
            List<Future<T>> futures = new ArrayList<>();
            for (Callable<T> call : calls) {
                futures.add(pool.submit(() -> {
                    ready.countDown();
                    go.await();
                    return call.call();
                }));
            }
            assertTrue(ready.await(30, TimeUnit.SECONDS));
            go.countDown();
            List<T> results = new ArrayList<>();
            for (Future<T> future : futures) {
                results.add(future.get(60, TimeUnit.SECONDS));
            }
            return results;
        } finally {
            pool.shutdownNow();
        }
    }
}
