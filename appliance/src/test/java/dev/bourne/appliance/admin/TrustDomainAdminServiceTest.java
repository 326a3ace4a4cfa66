package dev.bourne.appliance.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.bourne.api.v1.BatchCreateFederationRelationshipRequest;
import dev.bourne.api.v1.BatchCreateFederationRelationshipResponse;
import dev.bourne.api.v1.BatchDeleteFederationRelationshipRequest;
import dev.bourne.api.v1.BatchUpdateFederationRelationshipRequest;
import dev.bourne.api.v1.FederationRelationship;
import dev.bourne.api.v1.FederationRelationshipMask;
import dev.bourne.api.v1.GetFederationRelationshipRequest;
import dev.bourne.api.v1.HTTPSSPIFFEProfile;
import dev.bourne.api.v1.HTTPSWebProfile;
import dev.bourne.api.v1.ListFederationRelationshipsRequest;
import dev.bourne.api.v1.ListFederationRelationshipsResponse;
import dev.bourne.api.v1.RefreshBundleRequest;
import dev.bourne.api.v1.TrustDomainGrpc;
import dev.bourne.appliance.datastore.DataStoreErrors;
import dev.bourne.appliance.federation.BundleFetcher;
import dev.bourne.appliance.federation.FederationClientSettings;
import dev.bourne.appliance.federation.FederationRefresher;
import dev.bourne.appliance.health.ServerMetrics;
import dev.bourne.core.bundle.SpiffeBundle;
import dev.bourne.core.spiffeid.TrustDomain;
import dev.bourne.testing.pki.TestCa;
import dev.bourne.testing.pki.TestKeys;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The TrustDomain service in-process over a real datastore: shapes, masks, pages and refusals. */
class TrustDomainAdminServiceTest {
    @TempDir
    Path dir;

    AdminFixture fixture;
    BundleFetcher fetcher;
    FederationRefresher refresher;
    ServerMetrics metrics = new ServerMetrics();
    Server server;
    ManagedChannel channel;
    TrustDomainGrpc.TrustDomainBlockingStub stub;

    @BeforeEach
    void start() throws Exception {
        fixture = new AdminFixture(dir);
        fetcher = new BundleFetcher(Duration.ofSeconds(1), List.of(), Clock.systemUTC());
        refresher = new FederationRefresher(fixture.dataStore(), fetcher, new TrustDomain(AdminFixture.TRUST_DOMAIN),
                fixture.ca()::bundle, FederationClientSettings.DEFAULTS, Clock.systemUTC(), new Random(1),
                Runnable::run, metrics);
        String name = "trustdomain-" + UUID.randomUUID();
        server = InProcessServerBuilder.forName(name).directExecutor().addService(AdminServices.trustDomain(
                fixture.dataStore(), new TrustDomain(AdminFixture.TRUST_DOMAIN), refresher)).build().start();
        channel = InProcessChannelBuilder.forName(name).directExecutor().build();
        stub = TrustDomainGrpc.newBlockingStub(channel);
    }

    @AfterEach
    void stop() throws Exception {
        channel.shutdownNow();
        server.shutdownNow();
        refresher.close();
        fetcher.close();
        fixture.close();
        metrics.close();
    }

    static FederationRelationship web(String domain) {
        return FederationRelationship.newBuilder().setTrustDomain(domain)
                .setBundleEndpointUrl("https://bundles." + domain + "/b.json")
                .setHttpsWeb(HTTPSWebProfile.getDefaultInstance()).build();
    }

    BatchCreateFederationRelationshipResponse create(FederationRelationship... relationships) {
        return stub.batchCreateFederationRelationship(BatchCreateFederationRelationshipRequest.newBuilder()
                .addAllFederationRelationships(List.of(relationships)).build());
    }

    @Test
    void create_perItemStatus_andPagedList() {
        BatchCreateFederationRelationshipResponse response = create(web("a.org"), web("b.org"),
                FederationRelationship.newBuilder().setTrustDomain("c.org")
                        .setBundleEndpointUrl("https://c.org/").build(),
                web("a.org"), web("d.org"));
        assertEquals(List.of(0, 0, Status.Code.INVALID_ARGUMENT.value(), Status.Code.ALREADY_EXISTS.value(), 0),
                response.getResultsList().stream().map(r -> r.getStatus().getCode()).toList());
        assertEquals("federation_relationships[2].bundle_endpoint_profile: " + FederationProtos.PROFILE_REQUIRED,
                response.getResults(2).getStatus().getMessage());
        assertEquals(DataStoreErrors.RELATIONSHIP_EXISTS + ": \"a.org\"", response.getResults(3).getStatus()
                .getMessage());
        FederationRelationship created = response.getResults(0).getFederationRelationship();
        assertEquals("https://bundles.a.org/b.json", created.getBundleEndpointUrl());
        assertEquals(true, created.hasHttpsWeb());

        ListFederationRelationshipsResponse first = stub.listFederationRelationships(
                ListFederationRelationshipsRequest.newBuilder().setPageSize(2).build());
        assertEquals(List.of("a.org", "b.org"), first.getFederationRelationshipsList().stream()
                .map(FederationRelationship::getTrustDomain).toList());
        ListFederationRelationshipsResponse second = stub.listFederationRelationships(
                ListFederationRelationshipsRequest.newBuilder().setPageSize(2)
                        .setPageToken(first.getNextPageToken()).build());
        assertEquals(List.of("d.org"), second.getFederationRelationshipsList().stream()
                .map(FederationRelationship::getTrustDomain).toList());
        assertEquals("", second.getNextPageToken());

        StatusRuntimeException badToken = assertThrows(StatusRuntimeException.class,
                () -> stub.listFederationRelationships(ListFederationRelationshipsRequest.newBuilder()
                        .setPageToken("%%%").build()));
        assertEquals("page_token: " + TrustDomainAdminService.PAGE_TOKEN_INVALID,
                badToken.getStatus().getDescription());
    }

    @Test
    void bootstrapBundleOfAnotherDomain_refused() throws Exception {
        TestCa other = TestCa.root("other.org", TestKeys.ecP256(40), Instant.now().minusSeconds(60),
                Instant.now().plus(Duration.ofDays(1)));
        FederationRelationship proto = FederationRelationship.newBuilder(web("peer.org"))
                .setHttpsSpiffe(HTTPSSPIFFEProfile.newBuilder().setEndpointSpiffeId("spiffe://peer.org/s"))
                .setTrustDomainBundle(AdminProtos.toProto(SpiffeBundle.of(new TrustDomain("other.org"),
                        List.of(other.certificate()), Map.of())))
                .build();
        BatchCreateFederationRelationshipResponse response = create(proto);
        assertEquals("federation_relationships[0].trust_domain_bundle.trust_domain: "
                + String.format(FederationProtos.BUNDLE_OTHER_DOMAIN, "other.org"),
                response.getResults(0).getStatus().getMessage());
    }

    @Test
    void endpointInTheServersOwnTrustDomain_needsNoBootstrap() {
        FederationRelationship proto = FederationRelationship.newBuilder(web("peer.org"))
                .setHttpsSpiffe(HTTPSSPIFFEProfile.newBuilder()
                        .setEndpointSpiffeId("spiffe://example.org/bundle-server"))
                .build();
        assertEquals(0, create(proto).getResults(0).getStatus().getCode());
    }

    @Test
    void update_onlyTheMaskedFieldsChange() {
        create(web("peer.org"));
        FederationRelationship change = FederationRelationship.newBuilder().setTrustDomain("peer.org")
                .setBundleEndpointUrl("https://moved.peer.org/b.json").build(); // no profile: not in the mask
        FederationRelationship updated = stub.batchUpdateFederationRelationship(
                BatchUpdateFederationRelationshipRequest.newBuilder().addFederationRelationships(change)
                        .setInputMask(FederationRelationshipMask.newBuilder().setBundleEndpointUrl(true)).build())
                .getResults(0).getFederationRelationship();
        assertEquals("https://moved.peer.org/b.json", updated.getBundleEndpointUrl());
        assertEquals(true, updated.hasHttpsWeb());

        // Without a mask every field is set, so a missing profile is an error.
        var all = stub.batchUpdateFederationRelationship(BatchUpdateFederationRelationshipRequest.newBuilder()
                .addFederationRelationships(change).build());
        assertEquals("federation_relationships[0].bundle_endpoint_profile: " + FederationProtos.PROFILE_REQUIRED,
                all.getResults(0).getStatus().getMessage());

        var missing = stub.batchUpdateFederationRelationship(BatchUpdateFederationRelationshipRequest.newBuilder()
                .addFederationRelationships(web("nobody.org")).build());
        assertEquals(Status.Code.NOT_FOUND.value(), missing.getResults(0).getStatus().getCode());
    }

    @Test
    void getDeleteRefresh_unknownRelationship_notFound() {
        StatusRuntimeException get = assertThrows(StatusRuntimeException.class, () -> stub.getFederationRelationship(
                GetFederationRelationshipRequest.newBuilder().setTrustDomain("nobody.org").build()));
        assertEquals(Status.Code.NOT_FOUND, get.getStatus().getCode());
        assertEquals(String.format(TrustDomainAdminService.NOT_FOUND, "nobody.org"), get.getStatus().getDescription());
        StatusRuntimeException refresh = assertThrows(StatusRuntimeException.class, () -> stub.refreshBundle(
                RefreshBundleRequest.newBuilder().setTrustDomain("nobody.org").build()));
        assertEquals(Status.Code.NOT_FOUND, refresh.getStatus().getCode());
        assertEquals(Status.Code.NOT_FOUND.value(), stub.batchDeleteFederationRelationship(
                BatchDeleteFederationRelationshipRequest.newBuilder().addTrustDomains("nobody.org").build())
                .getResults(0).getStatus().getCode());
        StatusRuntimeException empty = assertThrows(StatusRuntimeException.class,
                () -> stub.batchDeleteFederationRelationship(BatchDeleteFederationRelationshipRequest.newBuilder()
                        .build()));
        assertEquals("trust_domains: " + AdminLimits.BATCH_EMPTY, empty.getStatus().getDescription());
    }
}
