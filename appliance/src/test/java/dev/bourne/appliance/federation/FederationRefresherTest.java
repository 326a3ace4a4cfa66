package dev.bourne.appliance.federation;

import static dev.bourne.appliance.federation.FederationTestPki.ENDPOINT_ID;
import static dev.bourne.appliance.federation.FederationTestPki.ENDPOINT_KEY;
import static dev.bourne.appliance.federation.FederationTestPki.PEER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bourne.appliance.datastore.BundleEndpointProfile;
import dev.bourne.appliance.datastore.BundleFetchState;
import dev.bourne.appliance.datastore.DataStore;
import dev.bourne.appliance.datastore.FederationRelationship;
import dev.bourne.appliance.datastore.SqlDataStore;
import dev.bourne.appliance.health.ServerMetrics;
import dev.bourne.core.bundle.SpiffeBundle;
import dev.bourne.core.bundle.SpiffeBundleJson;
import dev.bourne.core.spiffeid.TrustDomain;
import dev.bourne.testing.pki.TestCa;
import dev.bourne.testing.time.MutableClock;
import java.net.URI;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link FederationRefresher} over a real SQLite datastore and real HTTPS peers on loopback, driven by a test clock:
 * what is stored, what is kept, and when the next fetch comes.
 */
class FederationRefresherTest {
    static final Duration TIMEOUT = Duration.ofMillis(800);
    static final Duration HINT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    final MutableClock clock = new MutableClock(Instant.now().truncatedTo(ChronoUnit.SECONDS));
    final TestCa peerCa = FederationTestPki.ca("peer.org", 11);
    final SpiffeBundle served = FederationTestPki.bundle(peerCa, 1, HINT);
    final SpiffeBundle bootstrap = SpiffeBundle.of(PEER, List.of(peerCa.certificate()), Map.of());
    final ServerMetrics metrics = new ServerMetrics();
    FederationPeer peer;
    DataStore store;
    BundleFetcher fetcher;
    FederationRefresher refresher;

    @BeforeEach
    void start() throws Exception {
        peer = FederationPeer.start(ENDPOINT_KEY, FederationTestPki.svid(peerCa, ENDPOINT_ID.toString()));
        store = open();
        // Endpoint SVIDs are checked at the real time; schedules run on the test clock.
        fetcher = new BundleFetcher(TIMEOUT, List.of(), Clock.systemUTC());
        refresher = refresher(store);
    }

    DataStore open() throws Exception {
        return SqlDataStore.openSqlite(dir.resolve(SqlDataStore.SQLITE_FILE_NAME), clock, new SecureRandom());
    }

    FederationRefresher refresher(DataStore dataStore) {
        return new FederationRefresher(dataStore, fetcher, new TrustDomain("example.org"),
                () -> {
                    throw new AssertionError("the own bundle is not needed here");
                }, FederationClientSettings.DEFAULTS, clock, new Random(42), Runnable::run, metrics);
    }

    @AfterEach
    void stop() {
        refresher.close();
        fetcher.close();
        store.close();
        peer.close();
        metrics.close();
    }

    void createRelationship(Optional<SpiffeBundle> bootstrapBundle) throws Exception {
        store.createFederationRelationship(FederationRelationship.of(PEER, peer.url(),
                new BundleEndpointProfile.HttpsSpiffe(ENDPOINT_ID)), bootstrapBundle);
    }

    BundleFetchState state() throws Exception {
        return store.getFederationRelationship(PEER).orElseThrow().fetchState();
    }

    Optional<SpiffeBundle> stored() throws Exception {
        return store.getBundle(PEER);
    }

    /** Moves the clock to the next planned fetch and runs the due fetches. */
    void runNext() {
        clock.set(refresher.nextAttempt(PEER).orElseThrow());
        refresher.runDue();
    }

    @Test
    void validFetch_persistsTheBundleAndRecordsSuccess() throws Exception {
        createRelationship(Optional.of(bootstrap));
        peer.serve(served);
        Instant start = clock.instant();
        refresher.runDue();

        assertEquals(Optional.of(served), stored());
        assertEquals(new BundleFetchState(Optional.of(start), Optional.empty(), Optional.empty(),
                Optional.of(start.plus(HINT)), 0), state());
        assertTrue(metrics.scrape().contains(
                "bourne_federation_bundle_fetches_total{result=\"stored\",trust_domain=\"peer.org\"} 1.0"),
                metrics.scrape());

        // Not due again before the hint has passed.
        clock.advance(HINT.minusSeconds(1));
        refresher.runDue();
        assertEquals(1, peer.requests());
        clock.advance(Duration.ofSeconds(1));
        refresher.runDue();
        assertEquals(2, peer.requests());
        assertEquals(Optional.of(clock.instant()), state().lastSuccessAt());
        assertTrue(metrics.scrape().contains(
                "bourne_federation_bundle_fetches_total{result=\"unchanged\",trust_domain=\"peer.org\"} 1.0"));
    }

    @ParameterizedTest(name = "hint {0} s -> next fetch after {1} s")
    @CsvSource({"1, 30", "29, 30", "30, 30", "600, 600", "3600, 3600", "7200, 3600", "0, 300"})
    void refreshHint_clampedToTheConfiguredBounds(long hintSeconds, long expectedSeconds) throws Exception {
        createRelationship(Optional.of(bootstrap));
        SpiffeBundle withHint = SpiffeBundle.of(PEER, served.x509Authorities(), served.jwtAuthorities())
                .withSequence(1);
        peer.serve(hintSeconds == 0 ? withHint : withHint.withRefreshHint(Duration.ofSeconds(hintSeconds)));
        Instant start = clock.instant();
        refresher.runDue();
        assertEquals(Optional.of(start.plusSeconds(expectedSeconds)), refresher.nextAttempt(PEER));
        assertEquals(Optional.of(start.plusSeconds(expectedSeconds)), state().nextAttemptAt());
    }

    @Test
    void errors_backOffExponentiallyWithJitter_boundedByTheMaximum_thenResetOnSuccess() throws Exception {
        createRelationship(Optional.of(bootstrap));
        peer.respond((exchange, p) -> FederationPeer.status(exchange, 500));
        for (int failure = 1; failure <= 10; failure++) {
            Instant before = clock.instant();
            refresher.runDue();
            Duration wait = Duration.between(before, refresher.nextAttempt(PEER).orElseThrow());
            long ceiling = Math.min(3600, 30L << (failure - 1));
            assertTrue(wait.toMillis() >= ceiling * 500 && wait.toMillis() <= ceiling * 1000,
                    "failure " + failure + ": waited " + wait + ", expected " + ceiling / 2 + "-" + ceiling + " s");
            assertEquals(failure, state().consecutiveFailures());
            assertEquals(Optional.of(String.format(BundleFetcher.HTTP_STATUS, 500)), state().lastError());
            clock.set(refresher.nextAttempt(PEER).orElseThrow());
        }
        assertEquals(Optional.of(bootstrap), stored(), "the bootstrap bundle stays through every failure");

        peer.serve(served);
        clock.set(clock.instant().truncatedTo(ChronoUnit.SECONDS).plusSeconds(1)); // the datastore keeps seconds
        Instant now = clock.instant();
        refresher.runDue();
        assertEquals(new BundleFetchState(Optional.of(now), state().lastErrorAt(), Optional.empty(),
                Optional.of(now.plus(HINT)), 0), state());
        assertEquals(Optional.of(served), stored());
    }

    @Test
    void jitter_spreadsTheWaits() {
        java.util.Set<Duration> waits = new java.util.HashSet<>();
        for (int i = 0; i < 20; i++) {
            waits.add(refresher.backoff(3));
        }
        assertTrue(waits.size() > 10, waits.toString());
        waits.forEach(w -> assertTrue(w.toMillis() >= 60_000 && w.toMillis() <= 120_000, w.toString()));
    }

    @Test
    void lowerSequence_refusedAndTheStoredBundleKept() throws Exception {
        SpiffeBundle five = FederationTestPki.bundle(peerCa, 5, HINT);
        createRelationship(Optional.of(five));
        peer.serve(FederationTestPki.bundle(peerCa, 4, HINT).withRefreshHint(Duration.ofSeconds(90)));
        refresher.runDue();
        assertEquals(Optional.of(five), stored());
        assertEquals(Optional.of(String.format(FederationRefresher.LOWER_SEQUENCE, 4, 5)), state().lastError());
        assertEquals(1, state().consecutiveFailures());

        SpiffeBundle six = FederationTestPki.bundle(peerCa, 6, HINT);
        peer.serve(six);
        runNext();
        assertEquals(Optional.of(six), stored());
        assertEquals(0, state().consecutiveFailures());
    }

    @Test
    void sameSequenceOtherContent_refusedAndTheStoredBundleKept() throws Exception {
        SpiffeBundle five = FederationTestPki.bundle(peerCa, 5, HINT);
        createRelationship(Optional.of(five));
        TestCa other = FederationTestPki.ca("peer.org", 22);
        peer.serve(SpiffeBundle.of(PEER, List.of(peerCa.certificate(), other.certificate()), Map.of())
                .withSequence(5));
        refresher.runDue();
        assertEquals(Optional.of(five), stored());
        assertEquals(Optional.of(String.format(FederationRefresher.SAME_SEQUENCE, 5)), state().lastError());
    }

    @Test
    void bundleWithoutSequence_replacesTheStoredOne() throws Exception {
        createRelationship(Optional.of(FederationTestPki.bundle(peerCa, 5, HINT)));
        SpiffeBundle unsequenced = SpiffeBundle.of(PEER, List.of(peerCa.certificate()), Map.of());
        peer.serve(unsequenced);
        refresher.runDue();
        assertEquals(Optional.of(unsequenced), stored());
    }

    /** Peers that misbehave after a first good answer. */
    enum BadPeer {
        GARBAGE(String.format(BundleFetcher.NOT_A_BUNDLE, "bundle is not a JSON object")),
        HTTP_ERROR(String.format(BundleFetcher.HTTP_STATUS, 500)),
        OVERSIZED(BundleFetcher.TOO_LARGE),
        SLOW(String.format(BundleFetcher.TIMED_OUT, "800 ms")),
        WRONG_ENDPOINT_ID(String.format(BundleFetcher.TLS_FAILED, String.format(EndpointSvidTrust.WRONG_ENDPOINT_ID,
                "spiffe://peer.org/impostor", ENDPOINT_ID))),
        NOT_CHAINING(String.format(BundleFetcher.TLS_FAILED, String.format(EndpointSvidTrust.NOT_AN_SVID, PEER,
                "certificate chain does not verify against the bundle of peer.org")));

        final String error;

        BadPeer(String error) {
            this.error = error;
        }
    }

    @ParameterizedTest
    @EnumSource(BadPeer.class)
    void misbehavingPeer_keepsTheLastGoodBundleAndRecordsTheError(BadPeer bad) throws Exception {
        createRelationship(Optional.of(bootstrap));
        peer.serve(served);
        Instant good = clock.instant();
        refresher.runDue();
        assertEquals(Optional.of(served), stored());

        switch (bad) {
            case GARBAGE -> peer.serve("{\"keys\": [tru");
            case HTTP_ERROR -> peer.respond((exchange, p) -> FederationPeer.status(exchange, 500));
            case OVERSIZED -> peer.respond((exchange, p) -> FederationPeer.body(exchange, 200,
                    new byte[SpiffeBundleJson.MAX_DOCUMENT_BYTES + 10]));
            case SLOW -> peer.respond((exchange, p) -> p.hang());
            case WRONG_ENDPOINT_ID -> peer.identity(ENDPOINT_KEY,
                    FederationTestPki.svid(peerCa, "spiffe://peer.org/impostor"));
            case NOT_CHAINING -> peer.identity(ENDPOINT_KEY,
                    FederationTestPki.svid(FederationTestPki.ca("peer.org", 23), ENDPOINT_ID.toString()));
        }
        runNext();
        Instant failed = clock.instant();
        assertEquals(Optional.of(served), stored());
        BundleFetchState state = state();
        assertTrue(state.lastError().orElseThrow().startsWith(bad.error), state.lastError().orElseThrow());
        assertEquals(Optional.of(good), state.lastSuccessAt());
        assertEquals(Optional.of(failed), state.lastErrorAt());
        assertEquals(1, state.consecutiveFailures());
        assertTrue(metrics.scrape().contains(
                "bourne_federation_bundle_fetches_total{result=\"failed\",trust_domain=\"peer.org\"} 1.0"));
    }

    @Test
    void httpsWeb_wrongHostName_keepsTheLastGoodBundleAndRecordsTheError() throws Exception {
        TestCa web = FederationTestPki.ca("web.example", 31);
        peer.identity(ENDPOINT_KEY, FederationTestPki.webCertificate(web, "localhost"));
        peer.serve(served);
        store.createFederationRelationship(FederationRelationship.of(PEER, peer.url("localhost", "/bundle.json"),
                new BundleEndpointProfile.HttpsWeb()), Optional.empty());
        try (BundleFetcher webFetcher = new BundleFetcher(TIMEOUT, List.of(web.certificate()), Clock.systemUTC())) {
            FederationRefresher webRefresher = new FederationRefresher(store, webFetcher,
                    new TrustDomain("example.org"), () -> null, FederationClientSettings.DEFAULTS, clock,
                    new Random(7), Runnable::run, metrics);
            webRefresher.runDue();
            assertEquals(Optional.of(served), stored());

            peer.identity(ENDPOINT_KEY, FederationTestPki.webCertificate(web, "bundles.peer.example"));
            clock.set(webRefresher.nextAttempt(PEER).orElseThrow());
            webRefresher.runDue();
            assertEquals(Optional.of(served), stored());
            assertEquals(Optional.of(String.format(BundleFetcher.TLS_FAILED,
                    "No subject alternative DNS name matching localhost found.")), state().lastError());
        }
    }

    @Test
    void endpointCertificate_checkedAgainstTheCurrentStoredBundle_notTheBootstrapOne() throws Exception {
        createRelationship(Optional.of(bootstrap));
        TestCa next = FederationTestPki.ca("peer.org", 24);
        // The peer publishes its next CA beside the current one, then moves its SVID to it and drops the old CA.
        peer.serve(SpiffeBundle.of(PEER, List.of(peerCa.certificate(), next.certificate()), Map.of())
                .withSequence(2).withRefreshHint(HINT));
        refresher.runDue();
        SpiffeBundle rotated = SpiffeBundle.of(PEER, List.of(next.certificate()), Map.of()).withSequence(3)
                .withRefreshHint(HINT);
        peer.identity(ENDPOINT_KEY, FederationTestPki.svid(next, ENDPOINT_ID.toString()));
        peer.serve(rotated);
        runNext();
        assertEquals(Optional.of(rotated), stored());

        // An endpoint still presenting an SVID of the dropped CA is no longer trusted.
        peer.identity(ENDPOINT_KEY, FederationTestPki.svid(peerCa, ENDPOINT_ID.toString()));
        runNext();
        assertEquals(Optional.of(rotated), stored());
        assertTrue(state().lastError().orElseThrow().startsWith(String.format(BundleFetcher.TLS_FAILED,
                String.format(EndpointSvidTrust.NOT_AN_SVID, PEER, ""))), state().lastError().orElseThrow());
    }

    @Test
    void nonSelfServingEndpoint_authenticatedWithTheBundleOfItsOwnTrustDomain() throws Exception {
        TrustDomain prod = new TrustDomain("prod.peer.org");
        store.setBundle(bootstrap); // peer.org's bundle, as another relationship or an operator would have stored
        store.createFederationRelationship(FederationRelationship.of(prod, peer.url(),
                new BundleEndpointProfile.HttpsSpiffe(ENDPOINT_ID)), Optional.empty());
        TestCa prodCa = FederationTestPki.ca("prod.peer.org", 25);
        SpiffeBundle prodBundle = SpiffeBundle.of(prod, List.of(prodCa.certificate()), Map.of()).withSequence(1);
        peer.serve(prodBundle);
        refresher.runDue();
        assertEquals(Optional.of(prodBundle), store.getBundle(prod));
        assertEquals(Optional.of(bootstrap), stored(), "the endpoint's own domain bundle is untouched");
    }

    @Test
    void refresh_fetchesNowWhateverTheSchedule() throws Exception {
        createRelationship(Optional.of(bootstrap));
        peer.serve(served);
        refresher.runDue();
        SpiffeBundle two = FederationTestPki.bundle(peerCa, 2, HINT);
        peer.serve(two);
        RefreshOutcome outcome = refresher.refresh(PEER).orElseThrow();
        assertEquals(new RefreshOutcome.Stored(two, clock.instant().plus(HINT)), outcome);
        assertEquals(Optional.of(two), stored());
        assertEquals(Optional.empty(), refresher.refresh(new TrustDomain("nobody.org")));
    }

    @Test
    void relationshipChanges_pickedUpOnReload() throws Exception {
        createRelationship(Optional.of(bootstrap));
        peer.serve(served);
        refresher.runDue();
        assertEquals(1, peer.requests());

        // A new URL is fetched at once, not at the end of the old schedule.
        store.updateFederationRelationship(FederationRelationship.of(PEER, peer.url("127.0.0.1", "/moved"),
                new BundleEndpointProfile.HttpsSpiffe(ENDPOINT_ID)));
        refresher.reload();
        refresher.runDue();
        assertEquals(2, peer.requests());

        store.deleteFederationRelationship(PEER);
        refresher.reload();
        assertEquals(Optional.empty(), refresher.nextAttempt(PEER));
        clock.advance(Duration.ofHours(2));
        refresher.runDue();
        assertEquals(2, peer.requests());
    }

    @Test
    void twoServersSharingTheDatabase_bothFetch_theBundleIsStoredOnce() throws Exception {
        createRelationship(Optional.of(bootstrap));
        peer.serve(served);
        try (DataStore second = open(); FederationRefresher other = refresher(second)) {
            RefreshOutcome first = refresher.refresh(PEER).orElseThrow();
            RefreshOutcome then = other.refresh(PEER).orElseThrow();
            assertInstanceOf(RefreshOutcome.Stored.class, first);
            assertInstanceOf(RefreshOutcome.Unchanged.class, then);
            assertEquals(Optional.of(served), stored());
        }
    }

    @Test
    void relationshipWithoutAnyBundleForItsEndpoint_failsWithAClearError() throws Exception {
        store.createFederationRelationship(FederationRelationship.of(PEER, URI.create("https://127.0.0.1:1/"),
                new BundleEndpointProfile.HttpsSpiffe(ENDPOINT_ID)), Optional.empty());
        refresher.runDue();
        assertEquals(Optional.of(String.format(BundleFetcher.NO_ENDPOINT_BUNDLE, PEER, ENDPOINT_ID)),
                state().lastError());
    }
}
