package dev.bourne.appliance.ca;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bourne.appliance.ca.journal.AuthorityState;
import dev.bourne.appliance.ca.journal.FileCaJournal;
import dev.bourne.appliance.ca.journal.JournalContent;
import dev.bourne.appliance.ca.journal.JwtAuthorityRecord;
import dev.bourne.appliance.ca.journal.X509AuthorityRecord;
import dev.bourne.core.bundle.SpiffeBundle;
import dev.bourne.core.keymanager.KeyType;
import dev.bourne.keymanager.memory.MemoryKeyManager;
import dev.bourne.testing.time.MutableClock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Start, rotation timeline, manual operations and restarts of the CA manager, on a fake clock. */
class CaManagerTest {
    private static final Instant T0 = Instant.parse("2026-03-01T00:00:00Z");

    @TempDir
    Path dataDir;

    private final MutableClock clock = new MutableClock(T0);
    private final MemoryKeyManager keyManager = new MemoryKeyManager(CaFixtures.RANDOM);

    private CaManager start() throws CaException {
        return start(keyManager);
    }

    private CaManager start(MemoryKeyManager keys) throws CaException {
        return CaManager.start(CaFixtures.options(), keys, Optional.empty(), FileCaJournal.inDataDir(dataDir), clock,
                CaFixtures.RANDOM);
    }

    private static Set<String> kids(SpiffeBundle bundle) {
        return bundle.jwtAuthorities().keySet();
    }

    private static List<String> authorityIds(SpiffeBundle bundle) {
        return bundle.x509Authorities().stream()
                .map(c -> X509Authority.hex(dev.bourne.appliance.ca.internal.CaCertificates.subjectKeyIdentifier(c)
                        .orElseThrow()))
                .toList();
    }

    private static Optional<X509AuthorityRecord> x509(CaManager manager, AuthorityState state) {
        return manager.snapshot().x509Authorities().stream().filter(r -> r.state() == state).findFirst();
    }

    private static Optional<JwtAuthorityRecord> jwt(CaManager manager, AuthorityState state) {
        return manager.snapshot().jwtAuthorities().stream().filter(r -> r.state() == state).findFirst();
    }

    @Test
    void start_fresh_activatesSlotA_andPublishes() throws Exception {
        CaManager manager = start();
        CaSnapshot snapshot = manager.snapshot();
        assertEquals(CaManager.X509_SLOT_A, snapshot.activeX509().slotId());
        assertEquals(CaManager.JWT_SLOT_A, snapshot.activeJwt().slotId());
        assertEquals(T0.plus(Duration.ofHours(6)), snapshot.activeJwt().notAfter());
        assertEquals("ES256", snapshot.activeJwt().signatureAlgorithm().jwsName());
        assertTrue(snapshot.activeJwt().keyId().length() >= 32, "kid carries " + CaManager.KID_BYTES + " random bytes");
        assertEquals(List.of(snapshot.activeX509().certificate()), snapshot.bundle().x509Authorities());
        assertEquals(Set.of(snapshot.activeJwt().keyId()), kids(snapshot.bundle()));
        assertEquals(snapshot.activeJwt().key().publicKey(),
                snapshot.bundle().jwtAuthorities().get(snapshot.activeJwt().keyId()));
        assertEquals(1, snapshot.sequence());
        assertEquals(Duration.ofMinutes(5), snapshot.bundle().refreshHint().orElseThrow());
        assertEquals(CaFixtures.TRUST_DOMAIN, snapshot.bundle().trustDomain());

        JournalContent journal = FileCaJournal.inDataDir(dataDir).load().orElseThrow();
        assertEquals(snapshot.x509Authorities(), journal.x509Authorities());
        assertEquals(snapshot.jwtAuthorities(), journal.jwtAuthorities());
        assertEquals(1, journal.bundleSequence());
    }

    @Test
    void rotate_followsHalfAndFiveSixthsTimeline() throws Exception {
        CaManager manager = start();
        List<CaSnapshot> seen = new ArrayList<>();
        manager.addListener(seen::add);
        String first = manager.activeX509Authority().authorityId();
        String firstKid = manager.activeJwtAuthority().keyId();

        clock.set(T0.plus(Duration.ofMinutes(179)));
        manager.rotate();
        assertEquals(List.of(), seen, "nothing is due before half the lifetime");
        assertTrue(x509(manager, AuthorityState.PREPARED).isEmpty());

        clock.set(T0.plus(Duration.ofHours(3)));
        manager.rotate();
        X509AuthorityRecord prepared = x509(manager, AuthorityState.PREPARED).orElseThrow();
        JwtAuthorityRecord preparedKid = jwt(manager, AuthorityState.PREPARED).orElseThrow();
        assertEquals(CaManager.X509_SLOT_B, prepared.slotId());
        assertEquals(CaManager.JWT_SLOT_B, preparedKid.slotId());
        assertEquals(first, manager.activeX509Authority().authorityId(), "prepared is published, not used");
        assertEquals(List.of(first, prepared.authorityId()), authorityIds(manager.bundle()));
        assertEquals(Set.of(firstKid, preparedKid.keyId()), kids(manager.bundle()));
        assertEquals(2, manager.snapshot().sequence());
        assertEquals(1, seen.size());

        clock.set(T0.plus(Duration.ofMinutes(299)));
        manager.rotate();
        assertEquals(first, manager.activeX509Authority().authorityId());
        assertEquals(firstKid, manager.activeJwtAuthority().keyId());

        clock.set(T0.plus(Duration.ofHours(5)));
        manager.rotate();
        assertEquals(prepared.authorityId(), manager.activeX509Authority().authorityId());
        assertEquals(CaManager.X509_SLOT_B, manager.activeX509Authority().slotId());
        assertEquals(preparedKid.keyId(), manager.activeJwtAuthority().keyId());
        assertEquals(first, x509(manager, AuthorityState.OLD).orElseThrow().authorityId());
        assertEquals(firstKid, jwt(manager, AuthorityState.OLD).orElseThrow().keyId());
        assertEquals(List.of(first, prepared.authorityId()), authorityIds(manager.bundle()),
                "the old authority stays published");
        assertEquals(2, manager.snapshot().sequence(), "activation does not change the bundle");
        assertEquals(2, seen.size(), "listeners hear of the activation");

        clock.set(T0.plus(Duration.ofHours(6)));
        manager.rotate();
        assertFalse(authorityIds(manager.bundle()).contains(first), "the expired authority leaves the bundle");
        assertFalse(kids(manager.bundle()).contains(firstKid));
        X509AuthorityRecord third = x509(manager, AuthorityState.PREPARED).orElseThrow();
        assertEquals(CaManager.X509_SLOT_A, third.slotId(), "the freed slot takes the next authority");
        assertEquals(List.of(prepared.authorityId(), third.authorityId()), authorityIds(manager.bundle()));
        assertEquals(3, manager.snapshot().sequence());
        assertEquals(List.of(2L, 2L, 3L), seen.stream().map(CaSnapshot::sequence).toList());
    }

    @Test
    void rotate_afterLongOutage_replacesExpiredAuthorityAtOnce() throws Exception {
        CaManager manager = start();
        X509Certificate first = manager.activeX509Authority().certificate();
        clock.set(T0.plus(Duration.ofDays(3)));
        manager.rotate();
        assertNotEquals(first, manager.activeX509Authority().certificate());
        assertTrue(manager.activeX509Authority().notAfter().isAfter(clock.instant()));
        assertTrue(manager.activeJwtAuthority().notAfter().isAfter(clock.instant()));
        assertEquals(1, manager.bundle().x509Authorities().size());
        assertEquals(1, manager.bundle().jwtAuthorities().size());
    }

    @Test
    void manualX509_transitionsFollowSpireRules() throws Exception {
        CaManager manager = start();
        String first = manager.activeX509Authority().authorityId();
        long sequence = manager.snapshot().sequence();

        X509AuthorityRecord prepared = manager.prepareX509();
        assertEquals(AuthorityState.PREPARED, prepared.state());
        assertEquals(sequence + 1, manager.snapshot().sequence());
        assertRefused(() -> manager.taintX509(prepared.authorityId()), LocalAuthorityException.TAINT_PREPARED,
                prepared.authorityId());
        assertRefused(() -> manager.taintX509(first), LocalAuthorityException.TAINT_ACTIVE, first);
        assertRefused(() -> manager.revokeX509(first), LocalAuthorityException.REVOKE_NOT_TAINTED, first, "active");
        assertRefused(() -> manager.activateX509(first), LocalAuthorityException.ACTIVATE_NOT_PREPARED, first,
                "active");
        LocalAuthorityException unknown = assertThrows(LocalAuthorityException.class,
                () -> manager.activateX509("00ff"));
        assertEquals(String.format(LocalAuthorityException.NOT_FOUND, "X.509", "\"00ff\""), unknown.getMessage());
        assertTrue(unknown.notFound());

        assertEquals(AuthorityState.ACTIVE, manager.activateX509(prepared.authorityId()).state());
        assertEquals(prepared.authorityId(), manager.activeX509Authority().authorityId());
        assertRefused(() -> manager.activateX509(first), LocalAuthorityException.ACTIVATE_NOT_PREPARED, first, "old");
        assertRefused(() -> manager.revokeX509(first), LocalAuthorityException.REVOKE_NOT_TAINTED, first, "old");

        assertTrue(manager.taintX509(first).tainted());
        assertRefused(() -> manager.taintX509(first), LocalAuthorityException.ALREADY_TAINTED, first);
        assertTrue(authorityIds(manager.bundle()).contains(first), "tainting keeps it published");
        long beforeRevoke = manager.snapshot().sequence();

        manager.revokeX509(first);
        assertEquals(List.of(prepared.authorityId()), authorityIds(manager.bundle()));
        assertEquals(beforeRevoke + 1, manager.snapshot().sequence());
        assertThrows(LocalAuthorityException.class, () -> manager.revokeX509(first));
        // After a revoke the slot is free: the next prepare uses it.
        assertEquals(CaManager.X509_SLOT_A, manager.prepareX509().slotId());
    }

    @Test
    void manualJwt_transitionsFollowSpireRules() throws Exception {
        CaManager manager = start();
        String first = manager.activeJwtAuthority().keyId();
        JwtAuthorityRecord prepared = manager.prepareJwt();
        assertEquals(CaManager.JWT_SLOT_B, prepared.slotId());
        assertTrue(kids(manager.bundle()).contains(prepared.keyId()));
        assertRefused(() -> manager.taintJwt(first), LocalAuthorityException.TAINT_ACTIVE, first);
        assertRefused(() -> manager.taintJwt(prepared.keyId()), LocalAuthorityException.TAINT_PREPARED,
                prepared.keyId());
        assertRefused(() -> manager.activateJwt(first), LocalAuthorityException.ACTIVATE_NOT_PREPARED, first,
                "active");
        assertTrue(assertThrows(LocalAuthorityException.class, () -> manager.revokeJwt("nope")).notFound());

        manager.activateJwt(prepared.keyId());
        assertEquals(prepared.keyId(), manager.activeJwtAuthority().keyId());
        assertRefused(() -> manager.revokeJwt(first), LocalAuthorityException.REVOKE_NOT_TAINTED, first, "old");
        manager.taintJwt(first);
        assertRefused(() -> manager.taintJwt(first), LocalAuthorityException.ALREADY_TAINTED, first);
        manager.revokeJwt(first);
        assertEquals(Set.of(prepared.keyId()), kids(manager.bundle()));
    }

    @Test
    void prepareTwice_retiresFirstPrepared_whichStaysPublishedUntilItExpires() throws Exception {
        CaManager manager = start();
        X509AuthorityRecord one = manager.prepareX509();
        X509AuthorityRecord two = manager.prepareX509();
        assertEquals(one.slotId(), two.slotId());
        assertEquals(AuthorityState.RETIRED, manager.snapshot().x509Authorities().stream()
                .filter(r -> r.authorityId().equals(one.authorityId())).findFirst().orElseThrow().state());
        assertRefused(() -> manager.activateX509(one.authorityId()), LocalAuthorityException.ACTIVATE_NOT_PREPARED,
                one.authorityId(), "retired");
        assertEquals(3, manager.bundle().x509Authorities().size());
    }

    private static void assertRefused(org.junit.jupiter.api.function.Executable operation, String format,
            String id, String... more) {
        LocalAuthorityException error = assertThrows(LocalAuthorityException.class, operation);
        assertFalse(error.notFound());
        List<Object> arguments = new ArrayList<>();
        arguments.add(error.getMessage().contains(" JWT ") || error.getMessage().startsWith("JWT") ? "JWT" : "X.509");
        arguments.add("\"" + id + "\"");
        arguments.addAll(List.of(more));
        assertEquals(String.format(format, arguments.toArray()), error.getMessage());
    }

    @Test
    void restart_resumesSameAuthorities_andContinuesSequence() throws Exception {
        CaManager first = start();
        clock.set(T0.plus(Duration.ofHours(5)));
        first.rotate();
        CaSnapshot before = first.snapshot();

        clock.advance(Duration.ofMinutes(1));
        CaManager second = start();
        CaSnapshot after = second.snapshot();
        assertEquals(before.activeX509().authorityId(), after.activeX509().authorityId());
        assertEquals(before.activeX509().certificate(), after.activeX509().certificate());
        assertEquals(before.activeJwt().keyId(), after.activeJwt().keyId());
        assertEquals(before.activeJwt().notAfter(), after.activeJwt().notAfter());
        assertEquals(before.x509Authorities(), after.x509Authorities());
        assertEquals(before.jwtAuthorities(), after.jwtAuthorities());
        assertEquals(before.bundle().x509Authorities(), after.bundle().x509Authorities());
        assertEquals(before.bundle().jwtAuthorities(), after.bundle().jwtAuthorities());
        assertEquals(before.sequence() + 1, after.sequence());
        assertSame(keyManager.getKey(CaManager.X509_SLOT_B).orElseThrow(), after.activeX509().key());
    }

    @Test
    void restart_withLostKeys_startsFreshButKeepsUnexpiredRootsPublished() throws Exception {
        CaManager first = start();
        String oldId = first.activeX509Authority().authorityId();
        String oldKid = first.activeJwtAuthority().keyId();

        CaManager second = start(new MemoryKeyManager(CaFixtures.RANDOM));
        assertNotEquals(oldId, second.activeX509Authority().authorityId());
        assertNotEquals(oldKid, second.activeJwtAuthority().keyId());
        assertTrue(authorityIds(second.bundle()).contains(oldId), "SVIDs it signed are valid until it expires");
        assertEquals(AuthorityState.RETIRED, second.snapshot().x509Authorities().get(0).state());
    }

    @Test
    void restart_withReplacedKey_doesNotResumeTheAuthority() throws Exception {
        CaManager first = start();
        String oldId = first.activeX509Authority().authorityId();
        keyManager.generateKey(CaManager.X509_SLOT_A, KeyType.EC_P256);
        CaManager second = start();
        assertNotEquals(oldId, second.activeX509Authority().authorityId());
        assertEquals(first.activeJwtAuthority().keyId(), second.activeJwtAuthority().keyId(),
                "the JWT key still matches and is resumed");
    }

    @Test
    void restart_afterExpiry_startsFresh_withOnlyNewAuthorities() throws Exception {
        start();
        clock.set(T0.plus(Duration.ofDays(2)));
        CaManager second = start();
        assertEquals(1, second.bundle().x509Authorities().size());
        assertEquals(1, second.bundle().jwtAuthorities().size());
        assertTrue(second.activeX509Authority().notAfter().isAfter(clock.instant()));
    }

    @Test
    void start_damagedJournal_failsAndLeavesItUntouched() throws Exception {
        Path file = dataDir.resolve(FileCaJournal.FILE_NAME);
        Files.writeString(file, "{\"version\":1");
        CaException error = assertThrows(CaException.class, this::start);
        assertTrue(error.getMessage().startsWith("CA journal " + file + " is damaged"), error.getMessage());
        assertEquals("{\"version\":1", Files.readString(file));
        assertTrue(keyManager.getKeys().isEmpty(), "no key is generated before the journal is read");
    }

    @Test
    void start_inconsistentJournal_fails() throws Exception {
        CaManager manager = start();
        X509AuthorityRecord active = manager.snapshot().x509Authorities().get(0);
        JournalContent twoActive = new JournalContent(3, List.of(active, new X509AuthorityRecord(
                active.authorityId(), "x509-CA-B", active.certificate(), List.of(), AuthorityState.ACTIVE, false)),
                List.of());
        FileCaJournal.inDataDir(dataDir).save(twoActive);
        CaException error = assertThrows(CaException.class, this::start);
        assertEquals(String.format(CaManager.JOURNAL_INCONSISTENT, "more than one active authority of one kind"),
                error.getMessage());

        FileCaJournal.inDataDir(dataDir).save(new JournalContent(3, List.of(new X509AuthorityRecord("ff", "x509-CA-C",
                active.certificate(), List.of(), AuthorityState.OLD, false)), List.of()));
        error = assertThrows(CaException.class, this::start);
        assertEquals(String.format(CaManager.JOURNAL_INCONSISTENT,
                "authority \"ff\" names unknown slot \"x509-CA-C\""), error.getMessage());

        FileCaJournal.inDataDir(dataDir).save(new JournalContent(3, List.of(new X509AuthorityRecord("ff", "x509-CA-B",
                active.certificate(), List.of(), AuthorityState.OLD, false)), List.of()));
        error = assertThrows(CaException.class, this::start);
        assertEquals(String.format(CaManager.JOURNAL_INCONSISTENT, "authority \"ff\" is not the ID of its"
                + " certificate (" + active.authorityId() + ")"), error.getMessage());
    }

    @Test
    void failedJournalWrite_leavesStateUnchanged() throws Exception {
        Path directory = dataDir.resolve("ca");
        FileCaJournal journal = FileCaJournal.inDataDir(directory);
        CaManager manager = CaManager.start(CaFixtures.options(), keyManager, Optional.empty(), journal, clock,
                CaFixtures.RANDOM);
        CaSnapshot before = manager.snapshot();
        Files.delete(journal.file());
        Files.delete(directory);
        Files.writeString(directory, "not a directory");

        CaException error = assertThrows(CaException.class, manager::prepareX509);
        assertTrue(error.getMessage().startsWith("the CA state change was not made: cannot write CA journal"),
                error.getMessage());
        assertSame(before, manager.snapshot());
        clock.set(T0.plus(Duration.ofHours(3)));
        assertThrows(CaException.class, manager::rotate);
        assertSame(before, manager.snapshot());
    }

    @Test
    void everySnapshot_isConsistent_whileAnotherThreadRotates() throws Exception {
        CaManager manager = start();
        java.util.concurrent.atomic.AtomicBoolean done = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.ExecutorService reader = java.util.concurrent.Executors.newSingleThreadExecutor();
        try {
            java.util.concurrent.Future<Integer> reads = reader.submit(() -> {
                int count = 0;
                long lastSequence = 0;
                while (!done.get() || count == 0) {
                    CaSnapshot snapshot = manager.snapshot();
                    // The signing authorities are always in the bundle of the same snapshot.
                    assertTrue(snapshot.bundle().x509Authorities().contains(snapshot.activeX509().certificate()));
                    assertTrue(snapshot.bundle().jwtAuthorities().containsKey(snapshot.activeJwt().keyId()));
                    assertTrue(snapshot.sequence() >= lastSequence);
                    lastSequence = snapshot.sequence();
                    count++;
                }
                return count;
            });
            for (int step = 0; step < 60; step++) {
                clock.advance(Duration.ofMinutes(30));
                manager.rotate();
            }
            done.set(true);
            assertTrue(reads.get(60, java.util.concurrent.TimeUnit.SECONDS) > 0);
        } finally {
            done.set(true);
            reader.shutdownNow();
        }
        assertTrue(manager.snapshot().sequence() > 5, "the timeline moved on: " + manager.snapshot().sequence());
    }

    @Test
    void listenerFailure_doesNotUndoChange() throws Exception {
        CaManager manager = start();
        List<Long> heard = new ArrayList<>();
        manager.addListener(s -> {
            throw new IllegalStateException("listener bug");
        });
        manager.addListener(s -> heard.add(s.sequence()));
        manager.prepareX509();
        assertEquals(List.of(2L), heard);
        assertEquals(2, manager.snapshot().sequence());
        assertEquals(2, manager.snapshot().x509Authorities().stream().map(X509AuthorityRecord::slotId)
                .collect(Collectors.toSet()).size());
    }
}
