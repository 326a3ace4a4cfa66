package dev.bourne.appliance.cli;

import static dev.bourne.appliance.federation.FederationTestPki.ENDPOINT_ID;
import static dev.bourne.appliance.federation.FederationTestPki.ENDPOINT_KEY;
import static dev.bourne.appliance.federation.FederationTestPki.PEER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.util.JsonFormat;
import dev.bourne.api.v1.FederationRelationship;
import dev.bourne.appliance.admin.AdminFixture;
import dev.bourne.appliance.admin.AdminServices;
import dev.bourne.appliance.federation.BundleFetcher;
import dev.bourne.appliance.federation.FederationClientSettings;
import dev.bourne.appliance.federation.FederationPeer;
import dev.bourne.appliance.federation.FederationRefresher;
import dev.bourne.appliance.federation.FederationTestPki;
import dev.bourne.appliance.health.ServerMetrics;
import dev.bourne.appliance.server.AdminSocketServer;
import dev.bourne.core.bundle.SpiffeBundle;
import dev.bourne.core.bundle.SpiffeBundleJson;
import dev.bourne.core.spiffeid.TrustDomain;
import dev.bourne.testing.pki.TestCa;
import io.grpc.BindableService;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code bourne-server federation ...} over the real admin socket, with the real federation client fetching from a
 * real HTTPS peer on loopback.
 */
class FederationCliTest {
    @TempDir
    Path dir;

    final TestCa peerCa = FederationTestPki.ca("peer.org", 11);
    final SpiffeBundle served = FederationTestPki.bundle(peerCa, 7, Duration.ofSeconds(60));
    AdminFixture fixture;
    FederationPeer peer;
    BundleFetcher fetcher;
    FederationRefresher refresher;
    AdminSocketServer socketServer;
    ServerMetrics metrics = new ServerMetrics();
    Path socket;
    Path bootstrapPem;

    record Result(int code, String out, String err) {
    }

    @BeforeEach
    void setUp() throws Exception {
        fixture = new AdminFixture(dir);
        peer = FederationPeer.start(ENDPOINT_KEY, FederationTestPki.svid(peerCa, ENDPOINT_ID.toString()));
        peer.serve(served);
        fetcher = new BundleFetcher(Duration.ofSeconds(5), List.of(), Clock.systemUTC());
        refresher = new FederationRefresher(fixture.dataStore(), fetcher, new TrustDomain(AdminFixture.TRUST_DOMAIN),
                fixture.ca()::bundle, FederationClientSettings.DEFAULTS, Clock.systemUTC(), new Random(1),
                Runnable::run, metrics);
        List<BindableService> services = new ArrayList<>(fixture.services());
        services.add(AdminServices.trustDomain(fixture.dataStore(), new TrustDomain(AdminFixture.TRUST_DOMAIN),
                refresher));
        socket = dir.resolve("private").resolve("api.sock");
        Files.createDirectories(socket.getParent());
        socketServer = AdminSocketServer.start(socket, services);
        bootstrapPem = dir.resolve("peer.pem");
        Files.writeString(bootstrapPem, "-----BEGIN CERTIFICATE-----\n"
                + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(peerCa.certificate().getEncoded())
                + "\n-----END CERTIFICATE-----\n");
    }

    @AfterEach
    void tearDown() throws Exception {
        socketServer.close();
        refresher.close();
        fetcher.close();
        peer.close();
        fixture.close();
        metrics.close();
    }

    Result admin(String... args) {
        String[] full = Stream.concat(Stream.of(args), Stream.of("-socketPath", socket.toString()))
                .toArray(String[]::new);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = ServerCli.execute(new ServerCli(Map.of(), p -> false, Clock.systemUTC()), new PrintWriter(out),
                new PrintWriter(err), full);
        return new Result(code, out.toString(), err.toString());
    }

    Result create() {
        return admin("federation", "create", "-trustDomain", "peer.org", "-bundleEndpointURL", peer.url().toString(),
                "-bundleEndpointProfile", "https_spiffe", "-endpointSpiffeID", ENDPOINT_ID.toString(),
                "-trustDomainBundlePath", bootstrapPem.toString());
    }

    @Test
    void createListShowRefreshUpdateDelete() throws Exception {
        Result created = create();
        assertEquals(0, created.code(), created.err());
        assertEquals("Trust domain             : peer.org\n"
                + "Bundle endpoint URL      : " + peer.url() + "\n"
                + "Bundle endpoint profile  : https_spiffe\n"
                + "Endpoint SPIFFE ID       : spiffe://peer.org/spire/server\n\n", created.out());
        // The bootstrap bundle is the domain's federated bundle until the first fetch.
        assertEquals(List.of(peerCa.certificate()),
                fixture.dataStore().getBundle(PEER).orElseThrow().x509Authorities());

        Result list = admin("federation", "list");
        assertEquals(0, list.code(), list.err());
        assertTrue(list.out().startsWith("Found 1 federation relationship\n\nTrust domain             : peer.org\n"),
                list.out());

        Result before = admin("federation", "show", "-trustDomain", "peer.org");
        assertTrue(before.out().contains("Last successful fetch    : never\n"), before.out());
        assertTrue(before.out().contains("Bundle                   : 1 X.509 authorities, 0 JWT authorities,"
                + " sequence none\n"), before.out());

        Result refreshed = admin("federation", "refresh", "-id", "peer.org");
        assertEquals(0, refreshed.code(), refreshed.err());
        assertEquals("Bundle refreshed: stored (sequence 7)\n", refreshed.out());
        assertEquals(served, fixture.dataStore().getBundle(PEER).orElseThrow());
        Result again = admin("federation", "refresh", "-id", "peer.org");
        assertEquals("Bundle refreshed: unchanged (sequence 7)\n", again.out());

        Result after = admin("federation", "show", "-trustDomain", "peer.org");
        assertTrue(after.out().contains("Bundle                   : 1 X.509 authorities, 1 JWT authorities,"
                + " sequence 7\n"), after.out());
        assertTrue(after.out().contains("Consecutive failures     : 0\n"), after.out());
        assertTrue(!after.out().contains("Last successful fetch    : never"), after.out());

        Result json = admin("federation", "show", "-trustDomain", "peer.org", "-output", "json");
        FederationRelationship.Builder parsed = FederationRelationship.newBuilder();
        JsonFormat.parser().merge(json.out(), parsed);
        assertEquals(7, parsed.getTrustDomainBundle().getSequenceNumber());
        assertEquals(ENDPOINT_ID.toString(), parsed.getHttpsSpiffe().getEndpointSpiffeId());

        // The federated bundle shows with the bundle commands too.
        Result bundles = admin("bundle", "list", "-format", "spiffe");
        assertTrue(bundles.out().contains("* peer.org\n"), bundles.out());

        Result updated = admin("federation", "update", "-trustDomain", "peer.org", "-bundleEndpointURL",
                peer.url("127.0.0.1", "/v2/bundle").toString());
        assertEquals(0, updated.code(), updated.err());
        assertTrue(updated.out().contains("Bundle endpoint URL      : " + peer.url("127.0.0.1", "/v2/bundle")),
                updated.out());
        assertTrue(updated.out().contains("Endpoint SPIFFE ID       : spiffe://peer.org/spire/server"),
                updated.out());

        Result deleted = admin("federation", "delete", "-id", "peer.org");
        assertEquals(0, deleted.code(), deleted.err());
        assertEquals("federation relationship deleted.\n", deleted.out());
        Result gone = admin("federation", "show", "-trustDomain", "peer.org");
        assertEquals(1, gone.code());
        assertEquals("Error: not found: no federation relationship with trust domain peer.org\n", gone.err());
        assertTrue(fixture.dataStore().getBundle(PEER).isPresent(), "deleting the relationship keeps the bundle");
    }

    @Test
    void refresh_badPeer_failsWithTheReason_andKeepsTheBundle() throws Exception {
        assertEquals(0, create().code());
        peer.serve("not a bundle");
        Result refreshed = admin("federation", "refresh", "-id", "peer.org");
        assertEquals(1, refreshed.code());
        assertEquals("Error: refused: refreshing the bundle of peer.org failed: "
                + String.format(BundleFetcher.NOT_A_BUNDLE, "bundle is not a JSON object") + "\n", refreshed.err());
        assertEquals(List.of(peerCa.certificate()),
                fixture.dataStore().getBundle(PEER).orElseThrow().x509Authorities());
        Result show = admin("federation", "show", "-trustDomain", "peer.org");
        assertTrue(show.out().contains("Consecutive failures     : 1\n"), show.out());
        assertTrue(show.out().contains(": " + String.format(BundleFetcher.NOT_A_BUNDLE,
                "bundle is not a JSON object") + "\n"), show.out());
    }

    @Test
    void updateWithBundle_replacesTheStoredBundle() throws Exception {
        assertEquals(0, create().code());
        Path spiffe = dir.resolve("peer.json");
        Files.writeString(spiffe, SpiffeBundleJson.encode(served));
        Result updated = admin("federation", "update", "-trustDomain", "peer.org", "-trustDomainBundlePath",
                spiffe.toString(), "-trustDomainBundleFormat", "spiffe");
        assertEquals(0, updated.code(), updated.err());
        assertEquals(served, fixture.dataStore().getBundle(PEER).orElseThrow());
    }

    static Stream<Arguments> refusedByTheServer() {
        return Stream.of(
                Arguments.of(List.of("-trustDomain", "example.org", "-bundleEndpointURL", "https://x.example/",
                        "-bundleEndpointProfile", "https_web"),
                        "invalid request: federation_relationships[0].trust_domain: is the server's own trust domain:"
                                + " it cannot federate with itself"),
                Arguments.of(List.of("-trustDomain", "peer.org", "-bundleEndpointURL", "http://x.example/",
                        "-bundleEndpointProfile", "https_web"),
                        "invalid request: federation_relationships[0].bundle_endpoint_url: "
                                + dev.bourne.appliance.datastore.FederationRelationship.URL_NOT_HTTPS),
                Arguments.of(List.of("-trustDomain", "peer.org", "-bundleEndpointURL", "https://u:p@x.example/",
                        "-bundleEndpointProfile", "https_web"),
                        "invalid request: federation_relationships[0].bundle_endpoint_url: "
                                + dev.bourne.appliance.datastore.FederationRelationship.URL_USERINFO),
                Arguments.of(List.of("-trustDomain", "peer.org", "-bundleEndpointURL", "https://x.example/",
                        "-bundleEndpointProfile", "https_spiffe", "-endpointSpiffeID", "spiffe://peer.org/s"),
                        "invalid request: federation_relationships[0].https_spiffe.endpoint_spiffe_id: no bundle of"
                                + " trust domain peer.org to authenticate the endpoint: give a bootstrap bundle"
                                + " (trust_domain_bundle) or set it first with 'bundle set'"));
    }

    @ParameterizedTest
    @MethodSource("refusedByTheServer")
    void create_refusedByTheServer_withTheReason(List<String> flags, String message) {
        List<String> args = new ArrayList<>(List.of("federation", "create"));
        args.addAll(flags);
        Result result = admin(args.toArray(String[]::new));
        assertEquals(1, result.code(), result.out());
        assertEquals("Error: failed to create the federation relationship (code "
                + message.substring(0, message.indexOf(':')).replace("invalid request", "INVALID_ARGUMENT") + "): "
                + message.substring(message.indexOf(':') + 2) + "\n", result.err());
    }

    @Test
    void create_twice_alreadyExists() {
        assertEquals(0, create().code());
        Result again = create();
        assertEquals(1, again.code());
        assertEquals("Error: failed to create the federation relationship (code ALREADY_EXISTS): a federation"
                + " relationship with this trust domain already exists: \"peer.org\"\n", again.err());
    }

    static Stream<Arguments> badFlags() {
        return Stream.of(
                Arguments.of(List.of("create", "-bundleEndpointURL", "https://x/", "-bundleEndpointProfile",
                        "https_web"), FederationCommands.TRUST_DOMAIN_REQUIRED),
                Arguments.of(List.of("create", "-trustDomain", "peer.org", "-bundleEndpointProfile", "https_web"),
                        FederationCommands.URL_REQUIRED),
                Arguments.of(List.of("create", "-trustDomain", "peer.org", "-bundleEndpointURL", "https://x/"),
                        FederationCommands.PROFILE_REQUIRED),
                Arguments.of(List.of("create", "-trustDomain", "peer.org", "-bundleEndpointURL", "https://x/",
                        "-bundleEndpointProfile", "https"), FederationCommands.PROFILE_INVALID),
                Arguments.of(List.of("create", "-trustDomain", "peer.org", "-bundleEndpointURL", "https://x/",
                        "-bundleEndpointProfile", "https_spiffe"), FederationCommands.ENDPOINT_ID_REQUIRED),
                Arguments.of(List.of("create", "-trustDomain", "peer.org", "-bundleEndpointURL", "https://x/",
                        "-bundleEndpointProfile", "https_web", "-endpointSpiffeID", "spiffe://peer.org/s"),
                        FederationCommands.ENDPOINT_ID_UNEXPECTED),
                Arguments.of(List.of("create", "-trustDomain", "peer.org", "-bundleEndpointURL", "https://x/",
                        "-bundleEndpointProfile", "https_web", "-trustDomainBundleFormat", "der"),
                        FederationCommands.FORMAT_INVALID),
                Arguments.of(List.of("create", "-trustDomain", "not a domain"),
                        "Invalid value for option '-trustDomain'"),
                Arguments.of(List.of("update", "-trustDomain", "peer.org"), FederationCommands.NOTHING_TO_UPDATE),
                Arguments.of(List.of("show"), FederationCommands.TRUST_DOMAIN_REQUIRED),
                Arguments.of(List.of("delete"), FederationCommands.ID_REQUIRED),
                Arguments.of(List.of("refresh"), FederationCommands.ID_REQUIRED));
    }

    @ParameterizedTest
    @MethodSource("badFlags")
    void badFlags_usageErrorBeforeAnyCall(List<String> args, String message) {
        List<String> full = new ArrayList<>(List.of("federation"));
        full.addAll(args);
        full.addAll(List.of("-socketPath", dir.resolve("none.sock").toString()));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = ServerCli.execute(new ServerCli(Map.of(), p -> false, Clock.systemUTC()), new PrintWriter(out),
                new PrintWriter(err), full.toArray(String[]::new));
        assertEquals(2, code, err.toString());
        assertTrue(err.toString().startsWith(message), err.toString());
    }

    @Test
    void bootstrapFile_notPem_reportedAsItself() throws Exception {
        Path garbage = dir.resolve("garbage.pem");
        Files.writeString(garbage, "hello");
        Result result = admin("federation", "create", "-trustDomain", "peer.org", "-bundleEndpointURL",
                "https://x.example/", "-bundleEndpointProfile", "https_web", "-trustDomainBundlePath",
                garbage.toString());
        assertEquals(1, result.code());
        assertEquals("Error: -trustDomainBundlePath: " + BundleFormats.NOT_PEM + "\n", result.err());
    }
}
