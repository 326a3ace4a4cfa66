package dev.bourne.appliance.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.protobuf.ByteString;
import dev.bourne.api.v1.AttestAgentResponse;
import dev.bourne.api.v1.FederatedBundle;
import dev.bourne.api.v1.FederatedBundleRevision;
import dev.bourne.api.v1.SyncAuthorizedEntriesRequest;
import dev.bourne.api.v1.SyncAuthorizedEntriesResponse;
import dev.bourne.api.v1.TrustBundle;
import dev.bourne.appliance.agentapi.AuthorizedBundles;
import dev.bourne.appliance.datastore.DataStore;
import dev.bourne.appliance.datastore.EntryField;
import dev.bourne.appliance.datastore.RegistrationEntry;
import dev.bourne.core.bundle.SpiffeBundle;
import dev.bourne.core.selector.Selector;
import dev.bourne.core.spiffeid.SpiffeId;
import dev.bourne.core.spiffeid.TrustDomain;
import dev.bourne.testing.pki.TestCa;
import dev.bourne.testing.pki.TestKeys;
import dev.bourne.testing.time.MutableClock;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Federated bundles on the agent API's SyncAuthorizedEntries, end to end: a real server (SQLite) on 127.0.0.1 and
 * real grpc-netty mTLS clients authenticated as attested agents. Each agent receives exactly the bundles its entries
 * federate with, with digests it sends back so unchanged bundles are not sent again; hostile lists are refused.
 */
class FederatedBundleSyncTest {
    private static final TrustDomain PARTNER = TrustDomain.parse("partner.org");
    private static final TrustDomain SECRET = TrustDomain.parse("secret.org");

    @TempDir
    Path dir;

    private final MutableClock clock = new MutableClock();
    private BourneServer server;
    private DataStore store;
    private SpiffeBundle bundle;
    private int port;
    private final List<AgentClient> clients = new ArrayList<>();
    private final KeyPair partnerJwt = TestKeys.ecP256(31);
    private SpiffeBundle partner;
    private SpiffeBundle secret;

    @BeforeEach
    void start() throws Exception {
        server = BourneServer.start(TestServers.sqliteMemory(dir), clock);
        store = server.dataStore();
        bundle = server.ca().orElseThrow().bundle();
        port = server.agentApiPort().orElseThrow();
        partner = SpiffeBundle.of(PARTNER, List.of(TestCa.root("partner.org").certificate()),
                Map.of("partner-kid", partnerJwt.getPublic())).withSequence(7).withRefreshHint(Duration.ofMinutes(5));
        secret = SpiffeBundle.of(SECRET, List.of(TestCa.root("secret.org").certificate()), Map.of());
        store.setBundle(partner);
        store.setBundle(secret);
    }

    @AfterEach
    void stop() throws Exception {
        for (AgentClient client : clients) {
            client.close();
        }
        server.close();
    }

    /** An attested agent's mTLS client and ID. */
    private record Agent(AgentClient client, SpiffeId id) {
    }

    private Agent attest() throws Exception {
        String token = UUID.randomUUID().toString();
        store.createJoinToken(token, clock.instant().plus(Duration.ofMinutes(10)));
        KeyPair keys = TestKeys.freshEcP256();
        AgentClient anonymous = AgentClient.connect(port, bundle);
        clients.add(anonymous);
        AttestAgentResponse.Result result = anonymous.attestJoinToken(token, keys);
        List<X509Certificate> chain = AgentClient.chain(result.getSvid());
        AgentClient client = AgentClient.connect(port, bundle, keys.getPrivate(), chain);
        clients.add(client);
        return new Agent(client, SpiffeId.parse(result.getSvid().getId()));
    }

    private RegistrationEntry entry(SpiffeId parent, String path, TrustDomain... federatesWith) throws Exception {
        return store.createEntry(RegistrationEntry.builder().spiffeId(SpiffeId.parse("spiffe://example.org" + path))
                .parentId(parent).selector(new Selector("unix", "uid:1")).federatesWith(List.of(federatesWith))
                .build());
    }

    private static SyncAuthorizedEntriesResponse sync(Agent agent, List<FederatedBundleRevision> known) {
        return agent.client().entry().syncAuthorizedEntries(SyncAuthorizedEntriesRequest.newBuilder()
                .addAllKnownFederatedBundles(known).build());
    }

    private static List<FederatedBundleRevision> held(SyncAuthorizedEntriesResponse response) {
        return response.getFederatedBundlesList().stream().map(b -> FederatedBundleRevision.newBuilder()
                .setTrustDomain(b.getBundle().getTrustDomain()).setDigest(b.getDigest()).build()).toList();
    }

    private static FederatedBundleRevision revision(String trustDomain, int digestBytes) {
        return FederatedBundleRevision.newBuilder().setTrustDomain(trustDomain)
                .setDigest(ByteString.copyFrom(new byte[digestBytes])).build();
    }

    @Test
    void agent_receivesTheBundleItsEntryFederatesWith_andNoOther() throws Exception {
        Agent agent = attest();
        Agent other = attest();
        entry(agent.id(), "/billing", PARTNER);
        entry(other.id(), "/vault", SECRET);

        SyncAuthorizedEntriesResponse response = sync(agent, List.of());
        assertEquals(1, response.getFederatedBundlesCount());
        FederatedBundle sent = response.getFederatedBundles(0);
        TrustBundle message = sent.getBundle();
        assertEquals("partner.org", message.getTrustDomain());
        assertEquals(1, message.getX509AuthoritiesCount());
        assertArrayEquals(partner.x509Authorities().get(0).getEncoded(),
                message.getX509Authorities(0).toByteArray());
        assertEquals("partner-kid", message.getJwtAuthorities(0).getKeyId());
        assertArrayEquals(partnerJwt.getPublic().getEncoded(),
                message.getJwtAuthorities(0).getPublicKey().toByteArray());
        assertEquals(7, message.getSequenceNumber());
        assertEquals(300, message.getRefreshHint());
        assertEquals(AuthorizedBundles.DIGEST_BYTES, sent.getDigest().size());
        assertEquals(AuthorizedBundles.digest(partner), java.util.HexFormat.of()
                .formatHex(sent.getDigest().toByteArray()));

        assertEquals(List.of("secret.org"), sync(other, List.of()).getFederatedBundlesList().stream()
                .map(b -> b.getBundle().getTrustDomain()).toList());
    }

    @Test
    void heldDigest_notSentAgain_untilTheBundleChanges_thenRemovedWhenNoLongerNeeded() throws Exception {
        Agent agent = attest();
        RegistrationEntry entry = entry(agent.id(), "/billing", PARTNER);
        List<FederatedBundleRevision> known = held(sync(agent, List.of()));

        SyncAuthorizedEntriesResponse quiet = sync(agent, known);
        assertEquals(0, quiet.getFederatedBundlesCount());
        assertEquals(0, quiet.getRemovedFederatedBundlesCount());

        SpiffeBundle rotated = SpiffeBundle.of(PARTNER, List.of(partner.x509Authorities().get(0),
                TestCa.root("partner.org").certificate()), partner.jwtAuthorities()).withSequence(8);
        store.setBundle(rotated);
        SyncAuthorizedEntriesResponse changed = sync(agent, known);
        assertEquals(1, changed.getFederatedBundlesCount());
        assertEquals(2, changed.getFederatedBundles(0).getBundle().getX509AuthoritiesCount());
        assertEquals(8, changed.getFederatedBundles(0).getBundle().getSequenceNumber());

        store.updateEntry(entry.toBuilder().federatesWith(List.of()).build(), Set.of(EntryField.FEDERATES_WITH));
        SyncAuthorizedEntriesResponse dropped = sync(agent, held(changed));
        assertEquals(0, dropped.getFederatedBundlesCount());
        assertEquals(List.of("partner.org"), dropped.getRemovedFederatedBundlesList());
    }

    @Test
    void claimingToHoldAnotherAgentsBundle_getsItRemovedNotSent() throws Exception {
        Agent agent = attest();
        entry(attest().id(), "/vault", SECRET);
        entry(agent.id(), "/billing", PARTNER);
        // A forged digest for a bundle the agent may not have: the answer reveals nothing of it.
        SyncAuthorizedEntriesResponse response = sync(agent, List.of(revision("secret.org", 32)));
        assertEquals(List.of("partner.org"), response.getFederatedBundlesList().stream()
                .map(b -> b.getBundle().getTrustDomain()).toList());
        assertEquals(List.of("secret.org"), response.getRemovedFederatedBundlesList());
    }

    @Test
    void hostileKnownLists_refusedWithInvalidArgument() throws Exception {
        Agent agent = attest();
        entry(agent.id(), "/billing", PARTNER);
        List<FederatedBundleRevision> tooMany = new ArrayList<>();
        for (int i = 0; i <= AuthorizedBundles.MAX_KNOWN_BUNDLES; i++) {
            tooMany.add(revision("td" + i + ".org", 32));
        }
        List<Map.Entry<String, List<FederatedBundleRevision>>> cases = List.of(
                Map.entry(AuthorizedBundles.KNOWN_BUNDLES_TOO_LARGE, tooMany),
                Map.entry(AuthorizedBundles.KNOWN_BUNDLE_BAD_TRUST_DOMAIN, List.of(revision("Not A Domain!", 32))),
                Map.entry(AuthorizedBundles.KNOWN_BUNDLE_BAD_TRUST_DOMAIN, List.of(revision("", 32))),
                Map.entry(AuthorizedBundles.KNOWN_BUNDLE_BAD_TRUST_DOMAIN,
                        List.of(revision("spiffe://partner.org/path", 32))),
                Map.entry(AuthorizedBundles.KNOWN_BUNDLE_BAD_DIGEST, List.of(revision("partner.org", 31))),
                Map.entry(AuthorizedBundles.KNOWN_BUNDLE_BAD_DIGEST, List.of(revision("partner.org", 0))),
                Map.entry(AuthorizedBundles.KNOWN_BUNDLE_BAD_DIGEST, List.of(revision("partner.org", 4096))));
        for (Map.Entry<String, List<FederatedBundleRevision>> c : cases) {
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> sync(agent, c.getValue()));
            assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), c.getKey());
            assertEquals(c.getKey(), e.getStatus().getDescription());
        }
        // The agent is still served afterwards.
        assertEquals(1, sync(agent, List.of()).getFederatedBundlesCount());
    }
}
