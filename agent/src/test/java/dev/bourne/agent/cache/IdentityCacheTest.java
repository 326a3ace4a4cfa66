package dev.bourne.agent.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bourne.agent.workloadapi.JwtSvidMintException;
import dev.bourne.agent.workloadapi.WorkloadIdentities;
import dev.bourne.agent.workloadapi.WorkloadIdentity;
import dev.bourne.agent.workloadapi.WorkloadKey;
import dev.bourne.agent.workloadapi.WorkloadX509Svid;
import dev.bourne.core.bundle.SpiffeBundle;
import dev.bourne.core.selector.Selector;
import dev.bourne.core.spiffeid.SpiffeId;
import dev.bourne.core.spiffeid.TrustDomain;
import dev.bourne.testing.pki.TestCa;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class IdentityCacheTest {
    private static final TrustDomain TD = TrustDomain.parse("example.org");
    private static final Selector UID = new Selector("unix", "uid:1000");
    private static final Selector GID = new Selector("unix", "gid:1000");
    private static final Selector UNIT = new Selector("systemd", "id:web.service");

    private final TestCa ca = TestCa.root("example.org");
    private final WorkloadKeyGenerator keys = new WorkloadKeyGenerator(new SecureRandom());
    private final SpiffeBundle bundle = SpiffeBundle.of(TD, List.of(ca.certificate()), Map.of());

    private WorkloadX509Svid svid(WorkloadEntry entry) throws Exception {
        WorkloadKeyGenerator.GeneratedKey key = keys.generate();
        return new WorkloadX509Svid(entry.entryId(), List.of(ca.leaf(entry.spiffeId().toString(), key.publicKey())),
                key.privateKey(), entry.hint());
    }

    private CacheContents contents(WorkloadEntry... entries) throws Exception {
        Map<String, WorkloadX509Svid> svids = new java.util.LinkedHashMap<>();
        for (WorkloadEntry entry : entries) {
            svids.put(entry.entryId(), svid(entry));
        }
        return new CacheContents(bundle, Map.of(), List.of(entries), svids);
    }

    private static IdentityCache cache() {
        return new IdentityCache((id, audience) -> {
            throw new JwtSvidMintException("no server in this test");
        });
    }

    @Test
    void identityFor_entrySelectorsSubsetOfWorkloads_matches() throws Exception {
        WorkloadEntry byUid = WorkloadEntry.of("a", SpiffeId.parse("spiffe://example.org/a"), UID);
        WorkloadEntry byUidAndUnit = WorkloadEntry.of("b", SpiffeId.parse("spiffe://example.org/b"), UID, UNIT);
        IdentityCache cache = cache();
        cache.update(contents(byUid, byUidAndUnit));
        assertEquals(List.of("a"), ids(cache.identityFor(List.of(UID, GID))));
        assertEquals(List.of("a", "b"), ids(cache.identityFor(List.of(UID, GID, UNIT))));
        assertEquals(List.of(), ids(cache.identityFor(List.of(GID, UNIT))));
        assertEquals(List.of(), ids(cache.identityFor(List.of())));
    }

    private static List<String> ids(Optional<WorkloadIdentity> identity) {
        return identity.orElseThrow().svids().stream().map(WorkloadX509Svid::entryId).toList();
    }

    @Test
    void notReady_emptyAndMintRefused() {
        IdentityCache cache = cache();
        assertEquals(Optional.empty(), cache.identityFor(List.of(UID)));
        assertThrows(JwtSvidMintException.class,
                () -> cache.mintJwtSvid(SpiffeId.parse("spiffe://example.org/a"), List.of("x")));
    }

    @Test
    void watch_calledAtOnceAndOnlyWhenItsIdentityChanges() throws Exception {
        WorkloadEntry mine = WorkloadEntry.of("mine", SpiffeId.parse("spiffe://example.org/mine"), UID);
        WorkloadEntry other = WorkloadEntry.of("other", SpiffeId.parse("spiffe://example.org/other"), UNIT);
        IdentityCache cache = cache();
        List<Optional<WorkloadIdentity>> seen = new ArrayList<>();
        try (WorkloadIdentities.Watch watch = cache.watch(List.of(UID), seen::add)) {
            assertEquals(List.of(Optional.empty()), seen, "not ready yet: told at once");
            CacheContents first = contents(mine, other);
            cache.update(first);
            assertEquals(2, seen.size());
            cache.modify(c -> c.withSvid(uncheckedSvid(other)));
            assertEquals(2, seen.size(), "another workload's rotation is not this watcher's business");
            WorkloadX509Svid rotated = uncheckedSvid(mine);
            cache.modify(c -> c.withSvid(rotated));
            assertEquals(3, seen.size());
            assertEquals(List.of(rotated), seen.get(2).orElseThrow().svids());
            assertEquals(1, cache.watcherCount());
        }
        assertEquals(0, cache.watcherCount());
    }

    private WorkloadX509Svid uncheckedSvid(WorkloadEntry entry) {
        try {
            return svid(entry);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void modify_beforeFirstUpdate_refused() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> cache().modify(c -> c));
        assertEquals(IdentityCache.NO_CONTENTS, e.getMessage());
    }

    @Test
    void watch_failingWatcher_othersStillNotified() throws Exception {
        WorkloadEntry mine = WorkloadEntry.of("mine", SpiffeId.parse("spiffe://example.org/mine"), UID);
        IdentityCache cache = cache();
        cache.update(contents(mine));
        List<Optional<WorkloadIdentity>> seen = new ArrayList<>();
        boolean[] armed = {false};
        try (WorkloadIdentities.Watch broken = cache.watch(List.of(UID), identity -> {
            if (armed[0]) {
                throw new IllegalStateException("stream broke");
            }
        }); WorkloadIdentities.Watch healthy = cache.watch(List.of(UID), seen::add)) {
            armed[0] = true;
            cache.modify(c -> c.withSvid(uncheckedSvid(mine)));
            assertEquals(2, seen.size());
        }
    }

    @Test
    void contents_inconsistentSvid_rejected() throws Exception {
        WorkloadEntry a = WorkloadEntry.of("a", SpiffeId.parse("spiffe://example.org/a"), UID);
        WorkloadEntry b = WorkloadEntry.of("b", SpiffeId.parse("spiffe://example.org/b"), UID);
        WorkloadX509Svid bsSvidForA = new WorkloadX509Svid("a", svid(b).chain(), new WorkloadKey(new byte[] {1}), "");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new CacheContents(bundle, Map.of(), List.of(a), Map.of("a", bsSvidForA)));
        assertTrue(e.getMessage().contains("names spiffe://example.org/b"), e.getMessage());
    }

    @Test
    void entry_withoutSelectors_rejected() {
        assertThrows(IllegalArgumentException.class,
                () -> new WorkloadEntry("x", SpiffeId.parse("spiffe://example.org/x"), Set.of(), Set.of(), ""));
    }

    @Test
    void workloadKey_toStringRedacted() {
        WorkloadKey key = keys.generate().privateKey();
        assertEquals("WorkloadKey[redacted]", key.toString());
        assertFalse(keys.generate().toString().contains("pkcs8"));
    }
}
