package dev.bourne.agent.sync;

import dev.bourne.agent.cache.WorkloadEntry;
import dev.bourne.api.v1.RegistrationEntry;
import dev.bourne.core.selector.Selector;
import dev.bourne.core.spiffeid.SpiffeId;
import dev.bourne.core.spiffeid.TrustDomain;
import java.util.LinkedHashSet;
import java.util.Set;

/** Converts the server's RegistrationEntry messages into the cache's {@link WorkloadEntry}. */
final class EntryProtos {
    static final String NO_SELECTORS = "has no selectors";
    static final String FOREIGN_ID = "names a SPIFFE ID outside the agent's trust domain";
    static final String NOT_A_WORKLOAD = "is a node alias (its parent is the server), not a workload entry";

    private EntryProtos() {
    }

    /** Node alias entries are parented to the server: they group agents, no workload ever receives them. */
    static boolean isNodeAlias(RegistrationEntry message, TrustDomain trustDomain) {
        return message.getParentId().equals(trustDomain.idString() + "/spire/server");
    }

    /**
     * The entry as the cache uses it.
     *
     * @throws IllegalArgumentException naming what the agent cannot use in it
     */
    static SyncedEntry toSynced(RegistrationEntry message, TrustDomain trustDomain) {
        if (message.getId().isEmpty()) {
            throw new IllegalArgumentException("an entry has no id");
        }
        SpiffeId id = SpiffeId.parse(message.getSpiffeId());
        if (!id.memberOf(trustDomain)) {
            throw new IllegalArgumentException(FOREIGN_ID);
        }
        if (isNodeAlias(message, trustDomain)) {
            throw new IllegalArgumentException(NOT_A_WORKLOAD);
        }
        if (message.getSelectorsCount() == 0) {
            throw new IllegalArgumentException(NO_SELECTORS);
        }
        Set<Selector> selectors = new LinkedHashSet<>();
        for (dev.bourne.api.v1.Selector s : message.getSelectorsList()) {
            selectors.add(new Selector(s.getType(), s.getValue()));
        }
        Set<TrustDomain> federatesWith = new LinkedHashSet<>();
        for (String td : message.getFederatesWithList()) {
            TrustDomain parsed = TrustDomain.parse(td);
            if (!parsed.equals(trustDomain)) {
                federatesWith.add(parsed);
            }
        }
        return new SyncedEntry(new WorkloadEntry(message.getId(), id, selectors, federatesWith, message.getHint()),
                message.getRevisionNumber());
    }
}
