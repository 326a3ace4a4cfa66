package dev.bourne.agent.sync;

import dev.bourne.agent.cache.JwtSvidMinter;
import dev.bourne.agent.node.ServerCallException;
import dev.bourne.agent.workloadapi.JwtSvidMintException;
import dev.bourne.core.spiffeid.SpiffeId;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * JWT-SVIDs for workloads, from the server's NewJWTSVID, cached by SPIFFE ID and audience set and reused until half
 * their lifetime has passed, so a workload asking every second does not make the agent call the server every second.
 */
public final class JwtSvidCache implements JwtSvidMinter {
    /** Most cached tokens; past this, expired ones are dropped, then all. */
    public static final int MAX_ENTRIES = 4096;
    public static final String NO_ENTRY = "no entry grants this SPIFFE ID any more";
    public static final String SERVER_FAILED = "the server did not issue a JWT-SVID";

    private record Key(SpiffeId spiffeId, Set<String> audience) {
    }

    private final EntryServer server;
    private final Function<SpiffeId, Optional<String>> entryIds;
    private final Clock clock;
    private final Map<Key, JwtToken> tokens = new ConcurrentHashMap<>();

    /**
     * @param entryIds finds the entry granting an ID (the synchroniser's current entries)
     */
    public JwtSvidCache(EntryServer server, Function<SpiffeId, Optional<String>> entryIds, Clock clock) {
        this.server = Objects.requireNonNull(server, "server");
        this.entryIds = Objects.requireNonNull(entryIds, "entryIds");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    @Override
    public String mint(SpiffeId spiffeId, List<String> audience) throws JwtSvidMintException {
        Key key = new Key(spiffeId, Set.copyOf(new TreeSet<>(audience)));
        JwtToken cached = tokens.get(key);
        if (cached != null && clock.instant().isBefore(cached.refreshAt())) {
            return cached.token();
        }
        String entryId = entryIds.apply(spiffeId).orElseThrow(() -> new JwtSvidMintException(NO_ENTRY));
        JwtToken fresh;
        try {
            fresh = server.newJwtSvid(entryId, List.copyOf(audience));
        } catch (ServerCallException e) {
            throw new JwtSvidMintException(SERVER_FAILED, e);
        }
        if (tokens.size() >= MAX_ENTRIES) {
            tokens.values().removeIf(t -> !clock.instant().isBefore(t.expiresAt()));
            if (tokens.size() >= MAX_ENTRIES) {
                tokens.clear();
            }
        }
        tokens.put(key, fresh);
        return fresh.token();
    }

    /** Drops every cached token (entries changed or the agent attested again). */
    public void clear() {
        tokens.clear();
    }

    /** How many tokens are cached. */
    public int size() {
        return tokens.size();
    }
}
