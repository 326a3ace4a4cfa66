package dev.bourne.appliance.agentapi;

import dev.bourne.appliance.datastore.AttestedNode;
import dev.bourne.appliance.datastore.DataStore;
import dev.bourne.appliance.datastore.DataStoreException;
import dev.bourne.appliance.datastore.EntryFilter;
import dev.bourne.appliance.datastore.Page;
import dev.bourne.appliance.datastore.PageRequest;
import dev.bourne.appliance.datastore.RegistrationEntry;
import dev.bourne.appliance.datastore.SelectorMatch;
import dev.bourne.core.spiffeid.SpiffeId;
import dev.bourne.core.spiffeid.TrustDomain;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Which registration entries an agent may obtain SVIDs for, in one place (SPIRE's authorized entries):
 * <ol>
 * <li>entries whose parent is the agent's own ID;</li>
 * <li>entries whose parent is a node alias that applies to the agent: an entry parented to the server
 * ({@code spiffe://<td>/spire/server}) whose selectors are a subset of the node's selectors;</li>
 * <li>descendants of entries authorised by 1 or 2 (entries parented to their SPIFFE IDs), up to
 * {@link #MAX_DEPTH} levels below, so nested identities work and a cycle of entries cannot loop forever.</li>
 * </ol>
 * The node alias entries themselves are not authorised: they name the node, which already holds its agent SVID.
 */
public final class AuthorizedEntries {
    /** Levels of descendants followed below a directly authorised entry. */
    public static final int MAX_DEPTH = 8;
    private static final int PAGE_SIZE = 1000;

    private final DataStore dataStore;
    private final TrustDomain trustDomain;
    private final SpiffeId serverId;

    public AuthorizedEntries(DataStore dataStore, TrustDomain trustDomain) {
        this.dataStore = Objects.requireNonNull(dataStore, "dataStore");
        this.trustDomain = Objects.requireNonNull(trustDomain, "trustDomain");
        this.serverId = SpiffeId.of(trustDomain, "spire", "server");
    }

    /** The server's trust domain. */
    public TrustDomain trustDomain() {
        return trustDomain;
    }

    /** The entries {@code node} is authorised for, by entry ID, in discovery order. */
    public Map<String, RegistrationEntry> forNode(AttestedNode node) throws DataStoreException {
        Map<String, RegistrationEntry> authorized = new LinkedHashMap<>();
        Set<SpiffeId> parents = new HashSet<>();
        parents.add(node.spiffeId());
        if (!node.selectors().isEmpty()) {
            for (RegistrationEntry alias : list(EntryFilter.all().withParentId(serverId)
                    .withSelectors(SelectorMatch.subset(node.selectors())))) {
                parents.add(alias.spiffeId());
            }
        }
        Deque<SpiffeId> level = new ArrayDeque<>(parents);
        Set<SpiffeId> visited = new HashSet<>(parents);
        for (int depth = 0; depth <= MAX_DEPTH && !level.isEmpty(); depth++) {
            Deque<SpiffeId> next = new ArrayDeque<>();
            for (SpiffeId parent : level) {
                for (RegistrationEntry entry : list(EntryFilter.all().withParentId(parent))) {
                    if (authorized.putIfAbsent(entry.id(), entry) == null && visited.add(entry.spiffeId())) {
                        next.add(entry.spiffeId());
                    }
                }
            }
            level = next;
        }
        return authorized;
    }

    private List<RegistrationEntry> list(EntryFilter filter) throws DataStoreException {
        List<RegistrationEntry> out = new ArrayList<>();
        Page<RegistrationEntry> page = dataStore.listEntries(filter, PageRequest.first(PAGE_SIZE));
        out.addAll(page.items());
        while (page.nextPageToken().isPresent()) {
            page = dataStore.listEntries(filter, PageRequest.after(PAGE_SIZE, page));
            out.addAll(page.items());
        }
        return out;
    }
}
