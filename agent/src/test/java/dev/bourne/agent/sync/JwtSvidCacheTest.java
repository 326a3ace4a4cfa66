package dev.bourne.agent.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.bourne.agent.workloadapi.JwtSvidMintException;
import dev.bourne.core.spiffeid.SpiffeId;
import dev.bourne.testing.time.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class JwtSvidCacheTest {
    private static final SpiffeId WEB = SpiffeId.parse("spiffe://example.org/web");

    private final MutableClock clock = new MutableClock(Instant.now());
    private final FakeEntryServer server = new FakeEntryServer(clock);
    private final JwtSvidCache cache = new JwtSvidCache(server,
            id -> id.equals(WEB) ? Optional.of("e1") : Optional.empty(), clock);

    @Test
    void sameIdAndAudienceSet_reusedUntilHalfLife() throws Exception {
        String first = cache.mint(WEB, List.of("a", "b"));
        clock.advance(Duration.ofMinutes(2));
        assertEquals(first, cache.mint(WEB, List.of("b", "a")));
        assertEquals(1, server.jwtCalls.size());
        assertEquals("e1 [a, b]", server.jwtCalls.get(0));

        clock.advance(Duration.ofSeconds(31));
        String second = cache.mint(WEB, List.of("a", "b"));
        assertNotEquals(first, second);
        assertEquals(2, server.jwtCalls.size());
    }

    @Test
    void otherAudience_isAnotherToken() throws Exception {
        String a = cache.mint(WEB, List.of("a"));
        String b = cache.mint(WEB, List.of("b"));
        assertNotEquals(a, b);
        assertEquals(2, cache.size());
    }

    @Test
    void idWithoutEntry_refused() {
        JwtSvidMintException e = assertThrows(JwtSvidMintException.class,
                () -> cache.mint(SpiffeId.parse("spiffe://example.org/gone"), List.of("a")));
        assertEquals(JwtSvidCache.NO_ENTRY, e.getMessage());
    }

    @Test
    void serverDown_refusedWithoutDetail() {
        server.down = true;
        JwtSvidMintException e = assertThrows(JwtSvidMintException.class, () -> cache.mint(WEB, List.of("a")));
        assertEquals(JwtSvidCache.SERVER_FAILED, e.getMessage());
    }

    @Test
    void clear_forgetsTokens() throws Exception {
        cache.mint(WEB, List.of("a"));
        cache.clear();
        cache.mint(WEB, List.of("a"));
        assertEquals(2, server.jwtCalls.size());
    }
}
