package dev.bourne.agent.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bourne.api.v1.RegistrationEntry;
import dev.bourne.api.v1.Selector;
import dev.bourne.core.spiffeid.InvalidSpiffeIdException;
import dev.bourne.core.spiffeid.TrustDomain;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class EntryProtosTest {
    private static final TrustDomain TD = TrustDomain.parse("example.org");

    private static RegistrationEntry.Builder entry() {
        return RegistrationEntry.newBuilder().setId("e1").setSpiffeId("spiffe://example.org/web")
                .setParentId("spiffe://example.org/spire/agent/join_token/t").setRevisionNumber(7)
                .addSelectors(Selector.newBuilder().setType("unix").setValue("uid:1000"))
                .addFederatesWith("partner.org").addFederatesWith("example.org").setHint("web");
    }

    @Test
    void toSynced_keepsIdSelectorsFederationHintAndRevision() {
        SyncedEntry synced = EntryProtos.toSynced(entry().build(), TD);
        assertEquals("e1", synced.id());
        assertEquals(7, synced.revision());
        assertEquals("spiffe://example.org/web", synced.entry().spiffeId().toString());
        assertEquals(Set.of(new dev.bourne.core.selector.Selector("unix", "uid:1000")), synced.entry().selectors());
        // The own trust domain is never "federated".
        assertEquals(Set.of(TrustDomain.parse("partner.org")), synced.entry().federatesWith());
        assertEquals("web", synced.entry().hint());
    }

    @ParameterizedTest
    @CsvSource({
        "spiffe://other.org/web, names a SPIFFE ID outside the agent's trust domain",
    })
    void toSynced_foreignId_rejected(String id, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> EntryProtos.toSynced(entry().setSpiffeId(id).build(), TD));
        assertEquals(message, e.getMessage());
    }

    @Test
    void toSynced_nodeAlias_rejectedAsNotAWorkload() {
        RegistrationEntry alias = entry().setParentId("spiffe://example.org/spire/server").build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> EntryProtos.toSynced(alias, TD));
        assertEquals(EntryProtos.NOT_A_WORKLOAD, e.getMessage());
        assertTrue(EntryProtos.isNodeAlias(alias, TD));
    }

    @Test
    void toSynced_noSelectors_rejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> EntryProtos.toSynced(entry().clearSelectors().build(), TD));
        assertEquals(EntryProtos.NO_SELECTORS, e.getMessage());
    }

    @Test
    void toSynced_malformedId_rejected() {
        assertThrows(InvalidSpiffeIdException.class,
                () -> EntryProtos.toSynced(entry().setSpiffeId("https://example.org/web").build(), TD));
    }

    @Test
    void toSynced_emptyId_rejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> EntryProtos.toSynced(entry().setId("").build(), TD));
        assertEquals("an entry has no id", e.getMessage());
    }

    @Test
    void toSynced_badSelector_rejected() {
        assertThrows(IllegalArgumentException.class, () -> EntryProtos.toSynced(entry().clearSelectors()
                .addSelectors(Selector.newBuilder().setType("unix").setValue("")).build(), TD));
    }
}
