package dev.bourne.appliance.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.bourne.api.v1.AttestAgentResponse;
import dev.bourne.api.v1.BatchNewX509SVIDRequest;
import dev.bourne.api.v1.BatchNewX509SVIDResponse;
import dev.bourne.api.v1.EntryRevision;
import dev.bourne.api.v1.GetBundleRequest;
import dev.bourne.api.v1.NewJWTSVIDRequest;
import dev.bourne.api.v1.NewX509SVIDParams;
import dev.bourne.api.v1.RenewAgentRequest;
import dev.bourne.api.v1.AgentX509SVIDParams;
import dev.bourne.api.v1.SyncAuthorizedEntriesRequest;
import dev.bourne.api.v1.SyncAuthorizedEntriesResponse;
import dev.bourne.api.v1.TrustBundle;
import dev.bourne.appliance.agentapi.AgentAttestation;
import dev.bourne.appliance.agentapi.AgentAuthenticator;
import dev.bourne.appliance.agentapi.EntrySvids;
import dev.bourne.appliance.attestation.JoinTokenAttestor;
import dev.bourne.appliance.attestation.NodeAttestors;
import dev.bourne.appliance.ca.CertificateRequests;
import dev.bourne.appliance.datastore.AttestedNode;
import dev.bourne.appliance.datastore.DataStore;
import dev.bourne.appliance.datastore.EntryField;
import dev.bourne.appliance.datastore.RegistrationEntry;
import dev.bourne.core.bundle.BundleSource;
import dev.bourne.core.bundle.SpiffeBundle;
import dev.bourne.core.selector.Selector;
import dev.bourne.core.spiffeid.SpiffeId;
import dev.bourne.core.spiffeid.TrustDomain;
import dev.bourne.core.svid.x509.X509Svid;
import dev.bourne.core.svid.x509.X509SvidVerifier;
import dev.bourne.testing.pki.TestCa;
import dev.bourne.testing.pki.TestKeys;
import dev.bourne.testing.time.MutableClock;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent API end to end: a real server (SQLite, memory key manager) on 127.0.0.1, real grpc-netty TLS clients.
 */
class AgentApiTest {
    private static final TrustDomain TD = TrustDomain.parse(TestServers.TRUST_DOMAIN);

    @TempDir
    Path dir;

    private final MutableClock clock = new MutableClock();
    private BourneServer server;
    private DataStore store;
    private SpiffeBundle bundle;
    private int port;
    private final List<AgentClient> clients = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        server = BourneServer.start(TestServers.sqliteMemory(dir), clock);
        store = server.dataStore();
        bundle = server.ca().orElseThrow().bundle();
        port = server.agentApiPort().orElseThrow();
    }

    @AfterEach
    void stop() throws Exception {
        for (AgentClient client : clients) {
            client.close();
        }
        server.close();
    }

    private AgentClient anonymous() throws Exception {
        AgentClient client = AgentClient.connect(port, bundle);
        clients.add(client);
        return client;
    }

    private AgentClient as(Agent agent) throws Exception {
        AgentClient client = AgentClient.connect(port, bundle, agent.keys.getPrivate(), agent.chain);
        clients.add(client);
        return client;
    }

    /** An attested agent: its key, SVID chain and ID. */
    private record Agent(KeyPair keys, List<X509Certificate> chain, SpiffeId id) {
    }

    private String newToken() throws Exception {
        String token = UUID.randomUUID().toString();
        store.createJoinToken(token, clock.instant().plus(Duration.ofMinutes(10)));
        return token;
    }

    private Agent attest() throws Exception {
        KeyPair keys = TestKeys.freshEcP256();
        AttestAgentResponse.Result result = anonymous().attestJoinToken(newToken(), keys);
        List<X509Certificate> chain = AgentClient.chain(result.getSvid());
        return new Agent(keys, chain, SpiffeId.parse(result.getSvid().getId()));
    }

    private RegistrationEntry entry(SpiffeId parent, String path, Selector... selectors) throws Exception {
        return store.createEntry(RegistrationEntry.builder().spiffeId(SpiffeId.parse("spiffe://example.org" + path))
                .parentId(parent).selectors(List.of(selectors)).build());
    }

    private static void assertStatus(Status.Code code, String message, StatusRuntimeException e) {
        assertEquals(code, e.getStatus().getCode(), e.toString());
        assertEquals(message, e.getStatus().getDescription());
    }

    @Test
    void attest_joinToken_issuesAgentSvidValidAgainstGetBundle() throws Exception {
        String token = newToken();
        KeyPair keys = TestKeys.freshEcP256();
        AgentClient client = anonymous();
        AttestAgentResponse.Result result = client.attestJoinToken(token, keys);

        TrustBundle proto = client.bundle().getBundle(GetBundleRequest.getDefaultInstance());
        assertEquals("example.org", proto.getTrustDomain());
        assertTrue(proto.getSequenceNumber() > 0);
        assertTrue(proto.getRefreshHint() > 0);
        assertFalse(proto.getJwtAuthoritiesList().isEmpty());
        CertificateFactory factory = CertificateFactory.getInstance("X.509");
        List<X509Certificate> roots = new ArrayList<>();
        for (ByteString der : proto.getX509AuthoritiesList()) {
            roots.add((X509Certificate) factory.generateCertificate(new ByteArrayInputStream(der.toByteArray())));
        }
        SpiffeBundle fetched = SpiffeBundle.of(TD, roots, Map.of());
        X509Svid svid = new X509SvidVerifier(BundleSource.of(List.of(fetched)), clock)
                .verify(AgentClient.chain(result.getSvid()));

        SpiffeId expected = SpiffeId.parse("spiffe://example.org/spire/agent/join_token/" + token);
        assertEquals(expected, svid.spiffeId());
        assertEquals(expected.toString(), result.getSvid().getId());
        assertFalse(result.getReattestable());
        assertEquals(keys.getPublic(), svid.leaf().getPublicKey());
        AttestedNode node = store.getNode(expected).orElseThrow();
        assertEquals(JoinTokenAttestor.NAME, node.attestationDataType());
        assertEquals(List.of(), node.selectors());
        assertEquals(svid.leaf().getSerialNumber().toString(), node.certificate().orElseThrow().serialNumber());
        assertFalse(node.canReattest());
        // agent_ttl (1h default) bounds the SVID
        assertTrue(Duration.between(clock.instant(), svid.leaf().getNotAfter().toInstant())
                .compareTo(Duration.ofHours(1).plusSeconds(1)) <= 0);
    }

    @Test
    void attest_tokenUsedTwice_secondRefused() throws Exception {
        String token = newToken();
        anonymous().attestJoinToken(token, TestKeys.freshEcP256());
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> anonymous().attestJoinToken(token, TestKeys.freshEcP256()));
        assertStatus(Status.Code.PERMISSION_DENIED, JoinTokenAttestor.TOKEN_UNKNOWN, e);
    }

    @Test
    void attest_expiredToken_refusedAndConsumed() throws Exception {
        String token = newToken();
        clock.advance(Duration.ofMinutes(11));
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> anonymous().attestJoinToken(token, TestKeys.freshEcP256()));
        assertStatus(Status.Code.PERMISSION_DENIED, JoinTokenAttestor.TOKEN_EXPIRED, e);
        assertTrue(store.takeJoinToken(token).isEmpty());
    }

    @Test
    void attest_badRequests_invalidArgument() throws Exception {
        byte[] csr = AgentClient.csr(TestKeys.freshEcP256());
        assertStatus(Status.Code.INVALID_ARGUMENT, NodeAttestors.TYPE_UNKNOWN, assertThrows(
                StatusRuntimeException.class, () -> anonymous().attest("tpm", new byte[] {1}, csr)));
        assertStatus(Status.Code.INVALID_ARGUMENT, JoinTokenAttestor.TOKEN_BAD_CHARACTERS, assertThrows(
                StatusRuntimeException.class, () -> anonymous().attest("join_token", "../x".getBytes(), csr)));
        assertStatus(Status.Code.INVALID_ARGUMENT, JoinTokenAttestor.TOKEN_EMPTY, assertThrows(
                StatusRuntimeException.class, () -> anonymous().attest("join_token", new byte[0], csr)));
        assertStatus(Status.Code.INVALID_ARGUMENT, AgentAttestation.CSR_MISSING, assertThrows(
                StatusRuntimeException.class, () -> anonymous().attest("join_token", "t".getBytes(), new byte[0])));
        assertStatus(Status.Code.INVALID_ARGUMENT, CertificateRequests.TOO_LARGE, assertThrows(
                StatusRuntimeException.class, () -> anonymous().attest("join_token", "t".getBytes(),
                        new byte[CertificateRequests.MAX_CSR_BYTES + 1])));
        String token = newToken();
        assertStatus(Status.Code.INVALID_ARGUMENT, CertificateRequests.NOT_DER, assertThrows(
                StatusRuntimeException.class, () -> anonymous().attest("join_token", token.getBytes(),
                        new byte[] {1, 2, 3})));
    }

    @Test
    void renew_withAgentSvid_issuesNewSvidAndRetiresOldOnUse() throws Exception {
        Agent agent = attest();
        KeyPair newKeys = TestKeys.freshEcP256();
        var renewed = as(agent).agent().renewAgent(RenewAgentRequest.newBuilder().setParams(
                AgentX509SVIDParams.newBuilder().setCsr(ByteString.copyFrom(AgentClient.csr(newKeys)))).build());
        List<X509Certificate> newChain = AgentClient.chain(renewed.getSvid());
        assertEquals(agent.id().toString(), renewed.getSvid().getId());
        AttestedNode pending = store.getNode(agent.id()).orElseThrow();
        assertEquals(newChain.get(0).getSerialNumber().toString(),
                pending.newCertificate().orElseThrow().serialNumber());

        // The old SVID still works until the new one is used ...
        as(agent).entry().syncAuthorizedEntries(SyncAuthorizedEntriesRequest.getDefaultInstance());
        // ... then the new one becomes current and the old one is refused.
        Agent next = new Agent(newKeys, newChain, agent.id());
        as(next).entry().syncAuthorizedEntries(SyncAuthorizedEntriesRequest.getDefaultInstance());
        assertEquals(newChain.get(0).getSerialNumber().toString(),
                store.getNode(agent.id()).orElseThrow().certificate().orElseThrow().serialNumber());
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> as(agent).entry()
                .syncAuthorizedEntries(SyncAuthorizedEntriesRequest.getDefaultInstance()));
        assertStatus(Status.Code.PERMISSION_DENIED, AgentAuthenticator.SUPERSEDED, e);
    }

    @Test
    void renew_withoutCertificate_unauthenticated() throws Exception {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> anonymous().agent().renewAgent(
                RenewAgentRequest.newBuilder().setParams(AgentX509SVIDParams.newBuilder().setCsr(
                        ByteString.copyFrom(AgentClient.csr(TestKeys.freshEcP256())))).build()));
        assertStatus(Status.Code.UNAUTHENTICATED, AgentAuthenticator.NO_CERTIFICATE, e);
    }

    @Test
    void renew_withForeignCertificate_unauthenticated() throws Exception {
        Agent real = attest();
        // Same trust domain name and the real agent's ID, but from a CA the server never trusted.
        TestCa foreign = TestCa.root("example.org");
        KeyPair keys = TestKeys.freshEcP256();
        X509Certificate leaf = foreign.leaf(real.id().toString(), keys.getPublic());
        Agent impostor = new Agent(keys, TestCa.svidChain(leaf, foreign), real.id());
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> as(impostor).agent().renewAgent(
                RenewAgentRequest.newBuilder().setParams(AgentX509SVIDParams.newBuilder().setCsr(
                        ByteString.copyFrom(AgentClient.csr(keys)))).build()));
        assertStatus(Status.Code.UNAUTHENTICATED, AgentAuthenticator.NOT_AN_SVID, e);
    }

    @Test
    void bannedAgent_refused() throws Exception {
        Agent agent = attest();
        store.banNode(agent.id());
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> as(agent).entry()
                .syncAuthorizedEntries(SyncAuthorizedEntriesRequest.getDefaultInstance()));
        assertStatus(Status.Code.PERMISSION_DENIED, AgentAuthenticator.BANNED, e);
    }

    @Test
    void evictedAgent_mustAttestAgain() throws Exception {
        Agent agent = attest();
        store.deleteNode(agent.id());
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> as(agent).entry()
                .syncAuthorizedEntries(SyncAuthorizedEntriesRequest.getDefaultInstance()));
        assertStatus(Status.Code.PERMISSION_DENIED, AgentAuthenticator.NOT_ATTESTED, e);
        Agent again = attest();
        as(again).entry().syncAuthorizedEntries(SyncAuthorizedEntriesRequest.getDefaultInstance());
    }

    @Test
    void batchNewX509Svid_onlyForAuthorisedEntries() throws Exception {
        Agent mine = attest();
        Agent other = attest();
        RegistrationEntry own = entry(mine.id(), "/workload/mine", new Selector("unix", "uid:1000"));
        RegistrationEntry others = entry(other.id(), "/workload/theirs", new Selector("unix", "uid:1000"));
        KeyPair workload = TestKeys.freshEcP256();
        ByteString csr = ByteString.copyFrom(AgentClient.csr(workload));

        BatchNewX509SVIDResponse response = as(mine).svid().batchNewX509SVID(BatchNewX509SVIDRequest.newBuilder()
                .addParams(NewX509SVIDParams.newBuilder().setEntryId(own.id()).setCsr(csr))
                .addParams(NewX509SVIDParams.newBuilder().setEntryId(others.id()).setCsr(csr))
                .addParams(NewX509SVIDParams.newBuilder().setEntryId("no-such-entry").setCsr(csr))
                .addParams(NewX509SVIDParams.newBuilder().setEntryId("").setCsr(csr))
                .addParams(NewX509SVIDParams.newBuilder().setEntryId(own.id()).setCsr(ByteString.copyFrom(
                        new byte[] {0x30, 0x03, 1, 2, 3})))
                .build());

        assertEquals(5, response.getResultsCount());
        assertEquals(Status.Code.OK.value(), response.getResults(0).getStatus().getCode());
        X509Svid svid = new X509SvidVerifier(BundleSource.of(List.of(bundle)), clock)
                .verify(AgentClient.chain(response.getResults(0).getSvid()));
        assertEquals(own.spiffeId(), svid.spiffeId());
        assertEquals(workload.getPublic(), svid.leaf().getPublicKey());
        // an agent asking for another agent's identity
        assertEquals(Status.Code.PERMISSION_DENIED.value(), response.getResults(1).getStatus().getCode());
        assertEquals(EntrySvids.NOT_AUTHORIZED, response.getResults(1).getStatus().getMessage());
        assertFalse(response.getResults(1).hasSvid());
        assertEquals(Status.Code.NOT_FOUND.value(), response.getResults(2).getStatus().getCode());
        assertEquals(EntrySvids.ENTRY_NOT_FOUND, response.getResults(2).getStatus().getMessage());
        assertEquals(Status.Code.INVALID_ARGUMENT.value(), response.getResults(3).getStatus().getCode());
        assertEquals(EntrySvids.ENTRY_ID_MISSING, response.getResults(3).getStatus().getMessage());
        assertEquals(Status.Code.INVALID_ARGUMENT.value(), response.getResults(4).getStatus().getCode());
    }

    @Test
    void batchNewX509Svid_throughNodeAlias() throws Exception {
        Agent agent = attest();
        store.setNodeSelectors(agent.id(), List.of(new Selector("tpm", "label:rack:7"),
                new Selector("tpm", "pcr_policy:prod")));
        SpiffeId serverId = SpiffeId.parse("spiffe://example.org/spire/server");
        RegistrationEntry alias = entry(serverId, "/node/prod", new Selector("tpm", "pcr_policy:prod"));
        RegistrationEntry otherAlias = entry(serverId, "/node/staging", new Selector("tpm", "pcr_policy:staging"));
        RegistrationEntry viaAlias = entry(alias.spiffeId(), "/service/db", new Selector("unix", "uid:26"));
        RegistrationEntry viaOther = entry(otherAlias.spiffeId(), "/service/web", new Selector("unix", "uid:80"));
        ByteString csr = ByteString.copyFrom(AgentClient.csr(TestKeys.freshEcP256()));

        BatchNewX509SVIDResponse response = as(agent).svid().batchNewX509SVID(BatchNewX509SVIDRequest.newBuilder()
                .addParams(NewX509SVIDParams.newBuilder().setEntryId(viaAlias.id()).setCsr(csr))
                .addParams(NewX509SVIDParams.newBuilder().setEntryId(viaOther.id()).setCsr(csr))
                .build());
        assertEquals(Status.Code.OK.value(), response.getResults(0).getStatus().getCode());
        assertEquals(viaAlias.spiffeId().toString(), response.getResults(0).getSvid().getId());
        assertEquals(Status.Code.PERMISSION_DENIED.value(), response.getResults(1).getStatus().getCode());
    }

    @Test
    void syncAuthorizedEntries_incremental() throws Exception {
        Agent agent = attest();
        RegistrationEntry a = entry(agent.id(), "/a", new Selector("unix", "uid:1"));
        RegistrationEntry b = entry(agent.id(), "/b", new Selector("unix", "uid:2"));
        entry(attest().id(), "/not-mine", new Selector("unix", "uid:3"));
        AgentClient client = as(agent);

        SyncAuthorizedEntriesResponse first = client.entry().syncAuthorizedEntries(
                SyncAuthorizedEntriesRequest.getDefaultInstance());
        assertEquals(Set.of(a.id(), b.id()), first.getChangedList().stream()
                .map(dev.bourne.api.v1.RegistrationEntry::getId).collect(Collectors.toSet()));
        assertEquals(List.of(), first.getRemovedIdsList());

        SyncAuthorizedEntriesRequest known = SyncAuthorizedEntriesRequest.newBuilder()
                .addKnown(EntryRevision.newBuilder().setId(a.id()).setRevisionNumber(0))
                .addKnown(EntryRevision.newBuilder().setId(b.id()).setRevisionNumber(0))
                .addKnown(EntryRevision.newBuilder().setId("gone").setRevisionNumber(4)).build();
        SyncAuthorizedEntriesResponse second = client.entry().syncAuthorizedEntries(known);
        assertEquals(0, second.getChangedCount());
        assertEquals(List.of("gone"), second.getRemovedIdsList());

        store.updateEntry(a.toBuilder().hint("db").build(), Set.of(EntryField.HINT));
        store.deleteEntry(b.id());
        SyncAuthorizedEntriesResponse third = client.entry().syncAuthorizedEntries(known);
        assertEquals(1, third.getChangedCount());
        assertEquals(a.id(), third.getChanged(0).getId());
        assertEquals(1, third.getChanged(0).getRevisionNumber());
        assertEquals("db", third.getChanged(0).getHint());
        assertEquals(List.of(b.id(), "gone"), third.getRemovedIdsList().stream().sorted().toList());
    }

    @Test
    void newJwtSvid_forAuthorisedEntryWithAudience() throws Exception {
        Agent agent = attest();
        RegistrationEntry own = entry(agent.id(), "/jwt", new Selector("unix", "uid:5"));
        RegistrationEntry foreign = entry(attest().id(), "/jwt-other", new Selector("unix", "uid:5"));
        var svid = as(agent).svid().newJWTSVID(NewJWTSVIDRequest.newBuilder().setEntryId(own.id())
                .addAudience("db").build()).getSvid();
        assertEquals(own.spiffeId().toString(), svid.getId());
        assertEquals(3, svid.getToken().split("\\.").length);
        assertTrue(svid.getExpiresAt() > svid.getIssuedAt());

        assertEquals(Status.Code.INVALID_ARGUMENT, assertThrows(StatusRuntimeException.class,
                () -> as(agent).svid().newJWTSVID(NewJWTSVIDRequest.newBuilder().setEntryId(own.id()).build()))
                .getStatus().getCode());
        assertStatus(Status.Code.PERMISSION_DENIED, EntrySvids.NOT_AUTHORIZED, assertThrows(
                StatusRuntimeException.class, () -> as(agent).svid().newJWTSVID(NewJWTSVIDRequest.newBuilder()
                        .setEntryId(foreign.id()).addAudience("db").build())));
    }

    @Test
    void auditLog_recordsAttestationWithoutTheToken() throws Exception {
        String token = newToken();
        PrintStream original = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            anonymous().attestJoinToken(token, TestKeys.freshEcP256());
            assertThrows(StatusRuntimeException.class, () -> anonymous().attestJoinToken(token,
                    TestKeys.freshEcP256()));
        } finally {
            System.setErr(original);
        }
        String log = captured.toString(StandardCharsets.UTF_8);
        assertTrue(log.contains("node attestation succeeded: attestor=join_token agent_id=spiffe://example.org/spire"
                + "/agent/join_token/sha256:" + JoinTokenAttestor.fingerprint(token)), log);
        assertTrue(log.contains("node attestation failed: attestor=join_token reason="
                + JoinTokenAttestor.TOKEN_UNKNOWN), log);
        assertFalse(log.contains(token), log);
    }

    @Test
    void tls12Client_refused() throws Exception {
        AgentClient old = AgentClient.connect(port, bundle, null, null, "TLSv1.2");
        clients.add(old);
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> old.bundle().getBundle(GetBundleRequest.getDefaultInstance()));
        assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode());
        // the same client on TLS 1.3 works
        assertEquals("example.org", anonymous().bundle().getBundle(GetBundleRequest.getDefaultInstance())
                .getTrustDomain());
    }
}
