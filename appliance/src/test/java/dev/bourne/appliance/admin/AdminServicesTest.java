package dev.bourne.appliance.admin;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.nimbusds.jwt.SignedJWT;
import dev.bourne.api.v1.AgentGrpc;
import dev.bourne.api.v1.AttestedAgent;
import dev.bourne.api.v1.AuthorityIdRequest;
import dev.bourne.api.v1.AuthorityState;
import dev.bourne.api.v1.BanAgentRequest;
import dev.bourne.api.v1.BatchCreateEntryRequest;
import dev.bourne.api.v1.BatchCreateEntryResponse;
import dev.bourne.api.v1.BatchDeleteEntryRequest;
import dev.bourne.api.v1.BatchDeleteFederatedBundleRequest;
import dev.bourne.api.v1.BatchSetFederatedBundleRequest;
import dev.bourne.api.v1.BatchSetFederatedBundleResponse;
import dev.bourne.api.v1.BatchUpdateEntryRequest;
import dev.bourne.api.v1.BatchUpdateEntryResponse;
import dev.bourne.api.v1.BundleGrpc;
import dev.bourne.api.v1.CountAgentsRequest;
import dev.bourne.api.v1.CountEntriesRequest;
import dev.bourne.api.v1.CreateJoinTokenRequest;
import dev.bourne.api.v1.DeleteAgentRequest;
import dev.bourne.api.v1.EntryGrpc;
import dev.bourne.api.v1.EntryMask;
import dev.bourne.api.v1.GetAgentRequest;
import dev.bourne.api.v1.GetBundleRequest;
import dev.bourne.api.v1.GetEntryRequest;
import dev.bourne.api.v1.GetFederatedBundleRequest;
import dev.bourne.api.v1.GetJWTAuthorityStateRequest;
import dev.bourne.api.v1.GetX509AuthorityStateRequest;
import dev.bourne.api.v1.JoinToken;
import dev.bourne.api.v1.ListAgentsRequest;
import dev.bourne.api.v1.ListEntriesRequest;
import dev.bourne.api.v1.ListEntriesResponse;
import dev.bourne.api.v1.ListFederatedBundlesRequest;
import dev.bourne.api.v1.LocalAuthorityGrpc;
import dev.bourne.api.v1.MintJWTSVIDRequest;
import dev.bourne.api.v1.MintJWTSVIDResponse;
import dev.bourne.api.v1.MintX509SVIDRequest;
import dev.bourne.api.v1.MintX509SVIDResponse;
import dev.bourne.api.v1.PrepareJWTAuthorityRequest;
import dev.bourne.api.v1.PrepareX509AuthorityRequest;
import dev.bourne.api.v1.RegistrationEntry;
import dev.bourne.api.v1.SVIDGrpc;
import dev.bourne.api.v1.Selector;
import dev.bourne.api.v1.TrustBundle;
import dev.bourne.appliance.ca.LocalAuthorityException;
import dev.bourne.appliance.datastore.AttestedNode;
import dev.bourne.appliance.datastore.NodeCertificate;
import dev.bourne.core.spiffeid.SpiffeId;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import javax.security.auth.x500.X500Principal;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every admin RPC, in-process, against a real SQLite datastore and a real CA on the memory key manager. */
class AdminServicesTest {
    static final String TD = "spiffe://example.org";
    static final String SERVER = TD + "/spire/server";
    static final String AGENT = TD + "/spire/agent/join_token/abc";

    @TempDir
    Path dir;

    AdminFixture fixture;
    EntryGrpc.EntryBlockingStub entries;
    AgentGrpc.AgentBlockingStub agents;
    BundleGrpc.BundleBlockingStub bundles;
    SVIDGrpc.SVIDBlockingStub svids;
    LocalAuthorityGrpc.LocalAuthorityBlockingStub authorities;

    @BeforeEach
    void setUp() throws Exception {
        fixture = new AdminFixture(dir);
        entries = EntryGrpc.newBlockingStub(fixture.channel());
        agents = AgentGrpc.newBlockingStub(fixture.channel());
        bundles = BundleGrpc.newBlockingStub(fixture.channel());
        svids = SVIDGrpc.newBlockingStub(fixture.channel());
        authorities = LocalAuthorityGrpc.newBlockingStub(fixture.channel());
    }

    @AfterEach
    void tearDown() throws Exception {
        fixture.close();
    }

    static RegistrationEntry.Builder entry(String path) {
        return RegistrationEntry.newBuilder().setSpiffeId(TD + path).setParentId(AGENT)
                .addSelectors(Selector.newBuilder().setType("unix").setValue("uid:1000"));
    }

    BatchCreateEntryResponse.Result create(RegistrationEntry.Builder entry) {
        return entries.batchCreateEntry(BatchCreateEntryRequest.newBuilder().addEntries(entry).build())
                .getResults(0);
    }

    static Status.Code code(StatusRuntimeException e) {
        return e.getStatus().getCode();
    }

    // Entries

    @Test
    void createEntry_storesAndReturnsIt() {
        BatchCreateEntryResponse.Result result = create(entry("/web").addDnsNames("web.example.org")
                .setX509SvidTtl(600).setHint("web"));
        assertEquals(0, result.getStatus().getCode());
        RegistrationEntry created = result.getEntry();
        assertFalse(created.getId().isEmpty());
        assertEquals(TD + "/web", created.getSpiffeId());
        assertEquals(600, created.getX509SvidTtl());
        assertEquals(0, created.getRevisionNumber());
        assertEquals(created, entries.getEntry(GetEntryRequest.newBuilder().setId(created.getId()).build()));
        assertEquals(1, entries.countEntries(CountEntriesRequest.getDefaultInstance()).getCount());
    }

    @Test
    void createEntry_duplicate_alreadyExists() {
        assertEquals(0, create(entry("/web")).getStatus().getCode());
        BatchCreateEntryResponse.Result again = create(entry("/web"));
        assertEquals(Status.Code.ALREADY_EXISTS.value(), again.getStatus().getCode());
    }

    @Test
    void createEntry_nodeAliasUnderServerId_accepted() {
        BatchCreateEntryResponse.Result result = create(RegistrationEntry.newBuilder().setSpiffeId(TD + "/nodes/a")
                .setParentId(SERVER).addSelectors(Selector.newBuilder().setType("tpm").setValue("pub_hash:ab")));
        assertEquals(0, result.getStatus().getCode(), result.getStatus().getMessage());
    }

    static Stream<Arguments> invalidEntries() {
        return Stream.of(
                Arguments.of(entry("/w").setSpiffeId(""), "spiffe_id: is required"),
                Arguments.of(entry("/w").setSpiffeId("spiffe://other.org/w"),
                        "spiffe_id: must be in trust domain example.org"),
                Arguments.of(entry("/w").setSpiffeId(TD), "spiffe_id: " + EntryValidator.NO_PATH),
                Arguments.of(entry("/spire/agent/x"), "spiffe_id: " + EntryValidator.RESERVED),
                Arguments.of(entry("/w").setParentId(""), "parent_id: is required"),
                Arguments.of(entry("/w").setParentId(TD + "/spire/other"),
                        "parent_id: " + EntryValidator.PARENT_RESERVED),
                Arguments.of(entry("/w").setParentId("spiffe://other.org/a"),
                        "parent_id: must be in trust domain example.org"),
                Arguments.of(entry("/w").clearSelectors(), "selectors: " + EntryValidator.SELECTORS_EMPTY),
                Arguments.of(entry("/w").addSelectors(Selector.newBuilder().setType("unix").setValue("colour:red")),
                        "selectors[0]: a unix selector must start with one of uid:, user:, gid:, group:,"
                                + " supplementary_gid:, supplementary_group:, path:, sha256:"),
                Arguments.of(entry("/w").clearSelectors()
                        .addSelectors(Selector.newBuilder().setType("unix").setValue("uid:root")),
                        "selectors[0]: uid must be a decimal number"),
                Arguments.of(entry("/w").addDnsNames("bad name"), "dns_names[0]: " + EntryValidator.DNS_NAME_INVALID),
                Arguments.of(entry("/w").setX509SvidTtl(-1), "x509_svid_ttl: cannot be negative"),
                Arguments.of(entry("/w").setJwtSvidTtl(86400),
                        "jwt_svid_ttl: must be less than ca_ttl (86400 seconds)"),
                Arguments.of(entry("/w").addFederatesWith("example.org"),
                        "federates_with[0]: " + EntryValidator.FEDERATES_OWN),
                Arguments.of(entry("/w").addFederatesWith("not a domain!"), null),
                Arguments.of(entry("/w").setHint("a\nb"), "hint: " + EntryValidator.CONTROL_CHARACTER),
                Arguments.of(entry("/w").setId("bad id"), "id: " + EntryValidator.ENTRY_ID_INVALID),
                Arguments.of(entry("/w").setExpiresAt(5), "expires_at: " + EntryValidator.EXPIRY_UNSUPPORTED));
    }

    @ParameterizedTest
    @MethodSource("invalidEntries")
    void createEntry_invalid_rejectedNamingTheField(RegistrationEntry.Builder entry, String message) {
        BatchCreateEntryResponse.Result result = create(entry);
        assertEquals(Status.Code.INVALID_ARGUMENT.value(), result.getStatus().getCode());
        if (message != null) {
            assertEquals(message, result.getStatus().getMessage());
        } else {
            assertTrue(result.getStatus().getMessage().startsWith("federates_with[0]: is not a valid trust domain"),
                    result.getStatus().getMessage());
        }
        assertEquals(0, entries.countEntries(CountEntriesRequest.getDefaultInstance()).getCount());
    }

    @Test
    void createEntry_batchMixesSuccessAndFailure() {
        BatchCreateEntryResponse response = entries.batchCreateEntry(BatchCreateEntryRequest.newBuilder()
                .addEntries(entry("/a")).addEntries(entry("/b").setSpiffeId("")).addEntries(entry("/c")).build());
        assertEquals(List.of(0, Status.Code.INVALID_ARGUMENT.value(), 0),
                response.getResultsList().stream().map(r -> r.getStatus().getCode()).toList());
        assertEquals(2, entries.countEntries(CountEntriesRequest.getDefaultInstance()).getCount());
    }

    @Test
    void emptyBatch_invalidArgument() {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> entries.batchCreateEntry(BatchCreateEntryRequest.getDefaultInstance()));
        assertEquals(Status.Code.INVALID_ARGUMENT, code(e));
        assertEquals("entries: " + AdminLimits.BATCH_EMPTY, e.getStatus().getDescription());
    }

    @Test
    void getEntry_unknown_notFound() {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> entries.getEntry(GetEntryRequest.newBuilder().setId("nope").build()));
        assertEquals(Status.Code.NOT_FOUND, code(e));
        assertEquals("no entry with ID nope", e.getStatus().getDescription());
    }

    @Test
    void listEntries_filtersAndPages() {
        for (int i = 0; i < 5; i++) {
            create(entry("/w" + i));
        }
        create(entry("/other").setParentId(SERVER));
        create(entry("/sel").clearSelectors().addSelectors(Selector.newBuilder().setType("unix").setValue("uid:7")));

        List<String> ids = new ArrayList<>();
        String token = "";
        int pages = 0;
        do {
            ListEntriesResponse page = entries.listEntries(ListEntriesRequest.newBuilder().setPageSize(3)
                    .setPageToken(token).build());
            assertTrue(page.getEntriesCount() <= 3);
            page.getEntriesList().forEach(e -> ids.add(e.getId()));
            token = page.getNextPageToken();
            pages++;
        } while (!token.isEmpty());
        assertEquals(7, ids.size());
        assertEquals(7, ids.stream().distinct().count());
        assertEquals(3, pages);

        assertEquals(1, entries.listEntries(ListEntriesRequest.newBuilder().setFilter(ListEntriesRequest.Filter
                .newBuilder().setByParentId(SERVER)).build()).getEntriesCount());
        assertEquals(TD + "/w3", entries.listEntries(ListEntriesRequest.newBuilder().setFilter(ListEntriesRequest
                .Filter.newBuilder().setBySpiffeId(TD + "/w3")).build()).getEntries(0).getSpiffeId());
        ListEntriesResponse bySelector = entries.listEntries(ListEntriesRequest.newBuilder().setFilter(
                ListEntriesRequest.Filter.newBuilder().setSelectorMatch("exact")
                        .addBySelectors(Selector.newBuilder().setType("unix").setValue("uid:7"))).build());
        assertEquals(List.of(TD + "/sel"), bySelector.getEntriesList().stream().map(RegistrationEntry::getSpiffeId)
                .toList());
    }

    @Test
    void listEntries_badFilter_invalidArgument() {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> entries.listEntries(
                ListEntriesRequest.newBuilder().setFilter(ListEntriesRequest.Filter.newBuilder()
                        .setSelectorMatch("most").addBySelectors(Selector.newBuilder().setType("unix")
                                .setValue("uid:1"))).build()));
        assertEquals("filter.selector_match: " + EntryAdminService.MATCH_INVALID, e.getStatus().getDescription());
        StatusRuntimeException size = assertThrows(StatusRuntimeException.class,
                () -> entries.listEntries(ListEntriesRequest.newBuilder().setPageSize(-1).build()));
        assertEquals("page_size: " + AdminLimits.PAGE_SIZE_INVALID, size.getStatus().getDescription());
    }

    @Test
    void updateEntry_changesOnlyMaskedFields() {
        RegistrationEntry created = create(entry("/web").setX509SvidTtl(600)).getEntry();
        BatchUpdateEntryResponse.Result result = entries.batchUpdateEntry(BatchUpdateEntryRequest.newBuilder()
                .addEntries(RegistrationEntry.newBuilder().setId(created.getId()).setHint("new hint"))
                .setInputMask(EntryMask.newBuilder().setHint(true)).build()).getResults(0);
        assertEquals(0, result.getStatus().getCode(), result.getStatus().getMessage());
        RegistrationEntry stored = entries.getEntry(GetEntryRequest.newBuilder().setId(created.getId()).build());
        assertEquals("new hint", stored.getHint());
        assertEquals(600, stored.getX509SvidTtl());
        assertEquals(created.getSpiffeId(), stored.getSpiffeId());
        assertEquals(1, stored.getRevisionNumber());
    }

    @Test
    void updateEntry_invalidOrUnknown_refused() {
        RegistrationEntry created = create(entry("/web")).getEntry();
        BatchUpdateEntryResponse.Result invalid = entries.batchUpdateEntry(BatchUpdateEntryRequest.newBuilder()
                .addEntries(RegistrationEntry.newBuilder().setId(created.getId()).setSpiffeId(TD + "/spire/x"))
                .setInputMask(EntryMask.newBuilder().setSpiffeId(true)).build()).getResults(0);
        assertEquals(Status.Code.INVALID_ARGUMENT.value(), invalid.getStatus().getCode());
        assertEquals("spiffe_id: " + EntryValidator.RESERVED, invalid.getStatus().getMessage());
        BatchUpdateEntryResponse.Result unknown = entries.batchUpdateEntry(BatchUpdateEntryRequest.newBuilder()
                .addEntries(RegistrationEntry.newBuilder().setId("missing").setHint("x"))
                .setInputMask(EntryMask.newBuilder().setHint(true)).build()).getResults(0);
        assertEquals(Status.Code.NOT_FOUND.value(), unknown.getStatus().getCode());
        assertEquals(TD + "/web", entries.getEntry(GetEntryRequest.newBuilder().setId(created.getId()).build())
                .getSpiffeId());
    }

    @Test
    void deleteEntry_removesIt_unknownNotFound() {
        RegistrationEntry created = create(entry("/web")).getEntry();
        var response = entries.batchDeleteEntry(BatchDeleteEntryRequest.newBuilder().addIds(created.getId())
                .addIds("missing").build());
        assertEquals(0, response.getResults(0).getStatus().getCode());
        assertEquals(Status.Code.NOT_FOUND.value(), response.getResults(1).getStatus().getCode());
        assertEquals(0, entries.countEntries(CountEntriesRequest.getDefaultInstance()).getCount());
    }

    // Agents

    void attest(String id) throws Exception {
        fixture.dataStore().createNode(AttestedNode.attested(SpiffeId.parse(id), "join_token",
                new NodeCertificate("4097", Instant.parse("2030-01-01T00:00:00Z")), false, List.of()));
    }

    @Test
    void agents_countListGetBanEvict() throws Exception {
        attest(AGENT);
        attest(TD + "/spire/agent/join_token/def");
        assertEquals(2, agents.countAgents(CountAgentsRequest.getDefaultInstance()).getCount());
        assertEquals(2, agents.listAgents(ListAgentsRequest.getDefaultInstance()).getAgentsCount());
        var page = agents.listAgents(ListAgentsRequest.newBuilder().setPageSize(1).build());
        assertEquals(1, page.getAgentsCount());
        assertFalse(page.getNextPageToken().isEmpty());

        AttestedAgent agent = agents.getAgent(GetAgentRequest.newBuilder().setId(AGENT).build());
        assertEquals("join_token", agent.getAttestationType());
        assertEquals("4097", agent.getX509SvidSerialNumber());
        assertFalse(agent.getBanned());

        agents.banAgent(BanAgentRequest.newBuilder().setId(AGENT).build());
        assertTrue(agents.getAgent(GetAgentRequest.newBuilder().setId(AGENT).build()).getBanned());
        assertEquals(1, agents.listAgents(ListAgentsRequest.newBuilder().setFilter(ListAgentsRequest.Filter
                .newBuilder().setByBanned(1)).build()).getAgentsCount());

        agents.deleteAgent(DeleteAgentRequest.newBuilder().setId(AGENT).build());
        StatusRuntimeException gone = assertThrows(StatusRuntimeException.class,
                () -> agents.getAgent(GetAgentRequest.newBuilder().setId(AGENT).build()));
        assertEquals(Status.Code.NOT_FOUND, code(gone));
        assertEquals(Status.Code.NOT_FOUND, code(assertThrows(StatusRuntimeException.class,
                () -> agents.deleteAgent(DeleteAgentRequest.newBuilder().setId(AGENT).build()))));
    }

    @Test
    void agentApiOnlyRpcs_unimplementedOnTheAdminSocket() {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> agents.newRenewalChallenge(
                dev.bourne.api.v1.NewRenewalChallengeRequest.getDefaultInstance()));
        assertEquals(Status.Code.UNIMPLEMENTED, code(e));
        assertEquals("NewRenewalChallenge is " + AgentAdminService.AGENT_API_ONLY, e.getStatus().getDescription());
        e = assertThrows(StatusRuntimeException.class, () -> agents.renewAgent(
                dev.bourne.api.v1.RenewAgentRequest.getDefaultInstance()));
        assertEquals(Status.Code.UNIMPLEMENTED, code(e));
        assertEquals("RenewAgent is " + AgentAdminService.AGENT_API_ONLY, e.getStatus().getDescription());
    }

    @Test
    void agents_notAnAgentId_invalidArgument() {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> agents.getAgent(GetAgentRequest.newBuilder().setId(TD + "/web").build()));
        assertEquals(Status.Code.INVALID_ARGUMENT, code(e));
        assertEquals("id: " + AgentAdminService.NOT_AN_AGENT, e.getStatus().getDescription());
    }

    @Test
    void createJoinToken_storesSingleUseToken() throws Exception {
        JoinToken token = agents.createJoinToken(CreateJoinTokenRequest.newBuilder().setTtl(600).build());
        assertEquals(32, token.getValue().length());
        assertTrue(token.getExpiresAt() > Instant.now().getEpochSecond());
        assertTrue(fixture.dataStore().takeJoinToken(token.getValue()).isPresent());
        assertTrue(fixture.dataStore().takeJoinToken(token.getValue()).isEmpty());
        JoinToken other = agents.createJoinToken(CreateJoinTokenRequest.newBuilder().setTtl(600).build());
        assertNotEquals(token.getValue(), other.getValue());
    }

    @Test
    void createJoinToken_withAgentId_registersAlias() {
        JoinToken token = agents.createJoinToken(CreateJoinTokenRequest.newBuilder().setTtl(60)
                .setAgentId(TD + "/host/a").build());
        ListEntriesResponse list = entries.listEntries(ListEntriesRequest.getDefaultInstance());
        assertEquals(1, list.getEntriesCount());
        RegistrationEntry alias = list.getEntries(0);
        assertEquals(TD + "/host/a", alias.getSpiffeId());
        assertEquals(TD + "/spire/agent/join_token/" + token.getValue(), alias.getParentId());
    }

    @Test
    void createJoinToken_badTtl_invalidArgument() {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> agents.createJoinToken(CreateJoinTokenRequest.newBuilder().setTtl(0).build()));
        assertEquals("ttl: " + AgentAdminService.TTL_NOT_POSITIVE, e.getStatus().getDescription());
    }

    // Bundles

    @Test
    void getBundle_isTheCasBundle() throws Exception {
        TrustBundle bundle = bundles.getBundle(GetBundleRequest.getDefaultInstance());
        assertEquals("example.org", bundle.getTrustDomain());
        assertEquals(fixture.ca().bundle().x509Authorities().size(), bundle.getX509AuthoritiesCount());
        assertArrayEquals(fixture.ca().bundle().x509Authorities().get(0).getEncoded(),
                bundle.getX509Authorities(0).toByteArray());
        assertEquals(fixture.ca().bundle().jwtAuthorities().keySet().iterator().next(),
                bundle.getJwtAuthorities(0).getKeyId());
    }

    @Test
    void federatedBundles_setListGetDelete() {
        TrustBundle own = bundles.getBundle(GetBundleRequest.getDefaultInstance());
        TrustBundle other = own.toBuilder().setTrustDomain("other.org").setSequenceNumber(0).setRefreshHint(0)
                .build();
        TrustBundle third = other.toBuilder().setTrustDomain("third.org").build();
        BatchSetFederatedBundleResponse set = bundles.batchSetFederatedBundle(BatchSetFederatedBundleRequest
                .newBuilder().addBundle(other).addBundle(third).addBundle(own).build());
        assertEquals(0, set.getResults(0).getStatus().getCode(), set.getResults(0).getStatus().getMessage());
        assertEquals(0, set.getResults(1).getStatus().getCode());
        assertEquals("bundle[2].trust_domain: " + BundleAdminService.OWN_TRUST_DOMAIN,
                set.getResults(2).getStatus().getMessage());

        var first = bundles.listFederatedBundles(ListFederatedBundlesRequest.newBuilder().setPageSize(1).build());
        assertEquals("other.org", first.getBundles(0).getTrustDomain());
        var second = bundles.listFederatedBundles(ListFederatedBundlesRequest.newBuilder().setPageSize(1)
                .setPageToken(first.getNextPageToken()).build());
        assertEquals("third.org", second.getBundles(0).getTrustDomain());
        assertTrue(second.getNextPageToken().isEmpty());

        assertEquals(other.getX509AuthoritiesList(), bundles.getFederatedBundle(GetFederatedBundleRequest
                .newBuilder().setTrustDomain("other.org").build()).getX509AuthoritiesList());
        var deleted = bundles.batchDeleteFederatedBundle(BatchDeleteFederatedBundleRequest.newBuilder()
                .addTrustDomains("other.org").build());
        assertEquals(0, deleted.getResults(0).getStatus().getCode());
        assertEquals(Status.Code.NOT_FOUND, code(assertThrows(StatusRuntimeException.class,
                () -> bundles.getFederatedBundle(GetFederatedBundleRequest.newBuilder().setTrustDomain("other.org")
                        .build()))));
    }

    @Test
    void federatedBundle_garbageCertificate_namesIt() {
        var set = bundles.batchSetFederatedBundle(BatchSetFederatedBundleRequest.newBuilder()
                .addBundle(TrustBundle.newBuilder().setTrustDomain("other.org")
                        .addX509Authorities(ByteString.copyFromUtf8("not DER"))).build());
        assertEquals("bundle[0].x509_authorities[0]: " + AdminProtos.INVALID_CERTIFICATE,
                set.getResults(0).getStatus().getMessage());
    }

    // SVIDs

    static byte[] csr(KeyPair key, String uri, String... dns) throws Exception {
        List<GeneralName> names = new ArrayList<>();
        if (uri != null) {
            names.add(new GeneralName(GeneralName.uniformResourceIdentifier, uri));
        }
        for (String d : dns) {
            names.add(new GeneralName(GeneralName.dNSName, d));
        }
        var builder = new JcaPKCS10CertificationRequestBuilder(new X500Principal("O=test"), key.getPublic());
        if (!names.isEmpty()) {
            ExtensionsGenerator extensions = new ExtensionsGenerator();
            extensions.addExtension(Extension.subjectAlternativeName, false,
                    new GeneralNames(names.toArray(new GeneralName[0])));
            builder.addAttribute(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, extensions.generate());
        }
        return builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(key.getPrivate())).getEncoded();
    }

    static KeyPair key() throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"));
        return generator.generateKeyPair();
    }

    @Test
    void mintX509Svid_issuesForTheCsrsUri() throws Exception {
        KeyPair key = key();
        MintX509SVIDResponse response = svids.mintX509SVID(MintX509SVIDRequest.newBuilder()
                .setCsr(ByteString.copyFrom(csr(key, TD + "/minted", "minted.example.org"))).setTtl(300).build());
        assertEquals(TD + "/minted", response.getSvid().getId());
        X509Certificate leaf = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(
                new ByteArrayInputStream(response.getSvid().getCertChain(0).toByteArray()));
        assertEquals(key.getPublic(), leaf.getPublicKey());
        leaf.verify(fixture.ca().activeX509Authority().certificate().getPublicKey());
        assertTrue(leaf.getSubjectAlternativeNames().stream().anyMatch(n -> n.get(1).equals(TD + "/minted")));
        assertTrue(leaf.getSubjectAlternativeNames().stream().anyMatch(n -> n.get(1).equals("minted.example.org")));
        long lifetime = leaf.getNotAfter().toInstant().getEpochSecond() - Instant.now().getEpochSecond();
        assertTrue(lifetime <= 300 && lifetime > 200, "lifetime " + lifetime);
    }

    @Test
    void mintX509Svid_badCsrs_invalidArgument() throws Exception {
        KeyPair key = key();
        assertEquals("csr: " + SvidAdminService.CSR_NO_URI, assertThrows(StatusRuntimeException.class,
                () -> svids.mintX509SVID(MintX509SVIDRequest.newBuilder()
                        .setCsr(ByteString.copyFrom(csr(key, null))).build())).getStatus().getDescription());
        assertEquals("csr: must be in trust domain example.org", assertThrows(StatusRuntimeException.class,
                () -> svids.mintX509SVID(MintX509SVIDRequest.newBuilder()
                        .setCsr(ByteString.copyFrom(csr(key, "spiffe://other.org/x"))).build()))
                .getStatus().getDescription());
        assertEquals("csr: " + SvidAdminService.CSR_UNREADABLE, assertThrows(StatusRuntimeException.class,
                () -> svids.mintX509SVID(MintX509SVIDRequest.newBuilder()
                        .setCsr(ByteString.copyFromUtf8("garbage")).build())).getStatus().getDescription());
        assertEquals("ttl: must be less than ca_ttl (86400 seconds)", assertThrows(StatusRuntimeException.class,
                () -> svids.mintX509SVID(MintX509SVIDRequest.newBuilder()
                        .setCsr(ByteString.copyFrom(csr(key, TD + "/x"))).setTtl(86400).build()))
                .getStatus().getDescription());
    }

    @Test
    void mintJwtSvid_signedForTheAudience() throws Exception {
        MintJWTSVIDResponse response = svids.mintJWTSVID(MintJWTSVIDRequest.newBuilder().setId(TD + "/jwt")
                .addAudience("aud1").setTtl(120).build());
        SignedJWT jwt = SignedJWT.parse(response.getSvid().getToken());
        assertEquals(TD + "/jwt", jwt.getJWTClaimsSet().getSubject());
        assertEquals(List.of("aud1"), jwt.getJWTClaimsSet().getAudience());
        assertEquals(fixture.ca().activeJwtAuthority().keyId(), jwt.getHeader().getKeyID());
        assertEquals(120, response.getSvid().getExpiresAt() - response.getSvid().getIssuedAt());
        assertEquals("audience: is required", assertThrows(StatusRuntimeException.class,
                () -> svids.mintJWTSVID(MintJWTSVIDRequest.newBuilder().setId(TD + "/jwt").build()))
                .getStatus().getDescription());
    }

    // Local authorities

    @Test
    void x509Authority_prepareActivateTaintRevoke() {
        List<AuthorityState> initial = authorities.getX509AuthorityState(
                GetX509AuthorityStateRequest.getDefaultInstance()).getStatesList();
        assertEquals(List.of("active"), initial.stream().map(AuthorityState::getState).toList());
        String first = initial.get(0).getAuthorityId();

        StatusRuntimeException taintActive = assertThrows(StatusRuntimeException.class,
                () -> authorities.taintX509Authority(AuthorityIdRequest.newBuilder().setAuthorityId(first).build()));
        assertEquals(Status.Code.FAILED_PRECONDITION, code(taintActive));
        assertEquals(String.format(LocalAuthorityException.TAINT_ACTIVE, "X.509", "\"" + first + "\""),
                taintActive.getStatus().getDescription());

        AuthorityState prepared = authorities.prepareX509Authority(PrepareX509AuthorityRequest.getDefaultInstance())
                .getAuthority();
        assertEquals("prepared", prepared.getState());
        AuthorityState active = authorities.activateX509Authority(AuthorityIdRequest.newBuilder()
                .setAuthorityId(prepared.getAuthorityId()).build()).getAuthority();
        assertEquals("active", active.getState());
        AuthorityState tainted = authorities.taintX509Authority(AuthorityIdRequest.newBuilder()
                .setAuthorityId(first).build()).getAuthority();
        assertTrue(tainted.getTainted());
        authorities.revokeX509Authority(AuthorityIdRequest.newBuilder().setAuthorityId(first).build());
        assertEquals(List.of(prepared.getAuthorityId()), authorities.getX509AuthorityState(
                GetX509AuthorityStateRequest.getDefaultInstance()).getStatesList().stream()
                .map(AuthorityState::getAuthorityId).toList());
        assertEquals(1, bundles.getBundle(GetBundleRequest.getDefaultInstance()).getX509AuthoritiesCount());
    }

    @Test
    void jwtAuthority_transitionsAndErrors() {
        String first = authorities.getJWTAuthorityState(GetJWTAuthorityStateRequest.getDefaultInstance())
                .getStates(0).getAuthorityId();
        StatusRuntimeException unknown = assertThrows(StatusRuntimeException.class,
                () -> authorities.activateJWTAuthority(AuthorityIdRequest.newBuilder().setAuthorityId("nope")
                        .build()));
        assertEquals(Status.Code.NOT_FOUND, code(unknown));
        assertEquals(String.format(LocalAuthorityException.NOT_FOUND, "JWT", "\"nope\""),
                unknown.getStatus().getDescription());
        assertEquals("authority_id: is required", assertThrows(StatusRuntimeException.class,
                () -> authorities.revokeJWTAuthority(AuthorityIdRequest.getDefaultInstance())).getStatus()
                .getDescription());
        String next = authorities.prepareJWTAuthority(PrepareJWTAuthorityRequest.getDefaultInstance())
                .getAuthority().getAuthorityId();
        authorities.activateJWTAuthority(AuthorityIdRequest.newBuilder().setAuthorityId(next).build());
        assertEquals("old", authorities.taintJWTAuthority(AuthorityIdRequest.newBuilder().setAuthorityId(first)
                .build()).getAuthority().getState());
        authorities.revokeJWTAuthority(AuthorityIdRequest.newBuilder().setAuthorityId(first).build());
        assertEquals(List.of(next), bundles.getBundle(GetBundleRequest.getDefaultInstance())
                .getJwtAuthoritiesList().stream().map(k -> k.getKeyId()).toList());
    }
}
