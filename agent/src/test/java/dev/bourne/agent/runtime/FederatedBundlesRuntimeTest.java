package dev.bourne.agent.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.bourne.agent.workloadapi.WorkloadIdentity;
import dev.bourne.appliance.admin.AdminServices;
import dev.bourne.appliance.datastore.EntryField;
import dev.bourne.appliance.datastore.RegistrationEntry;
import dev.bourne.appliance.server.BourneServer;
import dev.bourne.core.bundle.SpiffeBundle;
import dev.bourne.core.bundle.SpiffeBundleJson;
import dev.bourne.core.selector.Selector;
import dev.bourne.core.spiffeid.SpiffeId;
import dev.bourne.core.spiffeid.TrustDomain;
import dev.bourne.testing.pki.TestCa;
import dev.bourne.testing.pki.TestKeys;
import io.spiffe.bundle.jwtbundle.JwtBundleSet;
import io.spiffe.bundle.x509bundle.X509BundleSet;
import io.spiffe.exception.JwtSvidException;
import io.spiffe.svid.jwtsvid.JwtSvid;
import io.spiffe.svid.x509svid.X509SvidValidator;
import io.spiffe.workloadapi.DefaultWorkloadApiClient;
import io.spiffe.workloadapi.Watcher;
import io.spiffe.workloadapi.WorkloadApiClient;
import io.spiffe.workloadapi.X509Context;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.SecureRandom;
import java.security.interfaces.ECPrivateKey;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Federated bundles from the server's datastore to workloads, end to end: the real Bourne server (SQLite, disk key
 * manager) and the real agent runtime in one JVM, java-spiffe as the workload on the agent's Unix socket. Bundles are
 * put in the datastore as the federation client stores them, or set with {@code bourne-server bundle set}; JWT-SVIDs
 * of the peer domains are minted here with keys put in their bundles.
 */
class FederatedBundlesRuntimeTest {
    private static final Duration SYNC = Duration.ofMillis(250);
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final String WORKLOAD = "spiffe://example.org/federated-workload";
    private static final String AGENT_PREFIX = "spiffe://example.org/spire/agent/join_token/";
    private static final TrustDomain PARTNER = TrustDomain.parse("partner.org");
    private static final TrustDomain JWT_ONLY = TrustDomain.parse("jwt-only.org");
    private static final TrustDomain UNRELATED = TrustDomain.parse("unrelated.org");

    @TempDir
    static Path serverDir;
    private static BourneServer server;
    private static int port;

    @TempDir
    Path dir;
    private AgentRuntime agent;
    private Selector uid;
    private RegistrationEntry entry;
    private final TestCa partnerCa = TestCa.root("partner.org");
    private final KeyPair partnerJwt = TestKeys.freshEcP256();
    private final KeyPair jwtOnlyKey = TestKeys.freshEcP256();
    private final KeyPair unrelatedJwt = TestKeys.freshEcP256();

    @BeforeAll
    static void startServer() throws Exception {
        server = BourneServer.start(RuntimeTestSupport.serverSettings(serverDir, Duration.ofMinutes(10), false,
                "NodeAttestor \"join_token\" { plugin_data {} }", 0), Clock.systemUTC(), new SecureRandom(),
                AdminServices::create);
        port = server.agentApiPort().orElseThrow();
    }

    @AfterAll
    static void stopServer() {
        if (server != null) {
            server.close();
        }
    }

    @BeforeEach
    void start() throws Exception {
        uid = new Selector("unix", "uid:" + Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
        server.dataStore().setBundle(SpiffeBundle.of(PARTNER, List.of(partnerCa.certificate()),
                Map.of("partner-1", partnerJwt.getPublic())).withSequence(1));
        server.dataStore().setBundle(SpiffeBundle.of(JWT_ONLY, List.of(), Map.of("jwt-only-1",
                jwtOnlyKey.getPublic())));
        // Stored on the server, but no entry of the agent federates with it: the agent must never see it.
        server.dataStore().setBundle(SpiffeBundle.of(UNRELATED, List.of(TestCa.root("unrelated.org").certificate()),
                Map.of("unrelated-1", unrelatedJwt.getPublic())));

        String token = "token-" + System.nanoTime();
        server.dataStore().createJoinToken(token, Instant.now().plus(Duration.ofMinutes(10)));
        entry = server.dataStore().createEntry(RegistrationEntry.builder().spiffeId(SpiffeId.parse(WORKLOAD))
                .parentId(SpiffeId.parse(AGENT_PREFIX + token)).selectors(List.of(uid))
                .federatesWith(List.of(PARTNER, JWT_ONLY)).build());
        agent = AgentRuntime.start(RuntimeTestSupport.agentSettings(server, port, dir, dir.resolve("data"), """
                NodeAttestor "join_token" { plugin_data {} }
                KeyManager "memory" { plugin_data {} }
                WorkloadAttestor "unix" { plugin_data {} }
                """), Optional.of(token), Clock.systemUTC(), new SecureRandom(), SYNC);
        awaitIdentity(identity -> identity.federatedBundles().keySet().equals(Set.of(PARTNER, JWT_ONLY)));
    }

    @AfterEach
    void stop() throws Exception {
        if (agent != null) {
            agent.close();
        }
        for (TrustDomain td : List.of(PARTNER, JWT_ONLY, UNRELATED)) {
            if (server.dataStore().getBundle(td).isPresent()) {
                server.dataStore().deleteBundle(td);
            }
        }
    }

    private WorkloadIdentity awaitIdentity(Predicate<WorkloadIdentity> condition) throws Exception {
        java.util.concurrent.CompletableFuture<WorkloadIdentity> reached = new java.util.concurrent.CompletableFuture<>();
        var watch = agent.cache().watch(List.of(uid), identity -> identity.filter(condition)
                .ifPresent(reached::complete));
        try {
            return reached.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        } finally {
            watch.close();
        }
    }

    private WorkloadApiClient javaSpiffe() throws Exception {
        return DefaultWorkloadApiClient.newClient(DefaultWorkloadApiClient.ClientOptions.builder()
                .spiffeSocketPath("unix:" + agent.socketPath()).build());
    }

    private static io.spiffe.spiffeid.TrustDomain spiffe(TrustDomain td) {
        return io.spiffe.spiffeid.TrustDomain.parse(td.name());
    }

    private static Set<String> names(Set<io.spiffe.spiffeid.TrustDomain> domains) {
        return domains.stream().map(io.spiffe.spiffeid.TrustDomain::getName).collect(Collectors.toSet());
    }

    /** A JWT-SVID for {@code subject}, ES256 with {@code key} under {@code kid}, valid for five minutes. */
    private static String jwt(KeyPair key, String kid, String subject, String audience) throws JOSEException {
        Instant now = Instant.now();
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID(kid).type(JOSEObjectType.JWT)
                .build(), new JWTClaimsSet.Builder().subject(subject).audience(audience).issueTime(Date.from(now))
                .expirationTime(Date.from(now.plus(Duration.ofMinutes(5)))).jwtID(UUID.randomUUID().toString())
                .build());
        jwt.sign(new ECDSASigner((ECPrivateKey) key.getPrivate(), Curve.P_256));
        return jwt.serialize();
    }

    @Test
    void federatedBundles_reachJavaSpiffe_inX509ContextX509BundlesAndJwtBundles_andNoOthers() throws Exception {
        assertEquals(Set.of(PARTNER, JWT_ONLY), agent.cache().contents().orElseThrow().federatedBundles().keySet());
        try (WorkloadApiClient client = javaSpiffe()) {
            X509Context context = client.fetchX509Context();
            assertEquals(WORKLOAD, context.getDefaultSvid().getSpiffeId().toString());
            // jwt-only.org has no X.509 authorities: left out of X.509 answers (java-spiffe refuses empty bundles).
            assertEquals(Set.of("example.org", "partner.org"), names(context.getX509BundleSet().getBundles()
                    .keySet()));
            assertEquals(Set.of(partnerCa.certificate()), context.getX509BundleSet()
                    .getBundleForTrustDomain(spiffe(PARTNER)).getX509Authorities());
            // A partner workload's X.509-SVID chains to what the workload received.
            X509Certificate partnerLeaf = partnerCa.leaf("spiffe://partner.org/billing",
                    TestKeys.freshEcP256().getPublic());
            X509SvidValidator.verifyChain(List.of(partnerLeaf), context.getX509BundleSet());

            X509BundleSet x509Bundles = client.fetchX509Bundles();
            assertEquals(Set.of("example.org", "partner.org"), names(x509Bundles.getBundles().keySet()));

            JwtBundleSet jwtBundles = client.fetchJwtBundles();
            assertEquals(Set.of("example.org", "partner.org", "jwt-only.org"), names(jwtBundles.getBundles()
                    .keySet()));
            assertArrayEquals(partnerJwt.getPublic().getEncoded(), jwtBundles.getBundleForTrustDomain(
                    spiffe(PARTNER)).findJwtAuthority("partner-1").getEncoded());
            assertArrayEquals(jwtOnlyKey.getPublic().getEncoded(), jwtBundles.getBundleForTrustDomain(
                    spiffe(JWT_ONLY)).findJwtAuthority("jwt-only-1").getEncoded());
        }
    }

    @Test
    void validateJwtSvid_acceptsFederatedTokens_refusesDomainsTheCallerHasNoBundleFor() throws Exception {
        try (WorkloadApiClient client = javaSpiffe()) {
            JwtSvid partner = client.validateJwtSvid(jwt(partnerJwt, "partner-1", "spiffe://partner.org/billing",
                    "payments"), "payments");
            assertEquals("spiffe://partner.org/billing", partner.getSpiffeId().toString());
            assertEquals(Set.of("payments"), partner.getAudience());
            JwtSvid jwtOnly = client.validateJwtSvid(jwt(jwtOnlyKey, "jwt-only-1", "spiffe://jwt-only.org/batch",
                    "payments"), "payments");
            assertEquals("spiffe://jwt-only.org/batch", jwtOnly.getSpiffeId().toString());

            // The server holds unrelated.org's bundle, but no entry of this agent federates with it.
            assertThrows(JwtSvidException.class, () -> client.validateJwtSvid(jwt(unrelatedJwt, "unrelated-1",
                    "spiffe://unrelated.org/x", "payments"), "payments"));
            // No bundle anywhere.
            assertThrows(JwtSvidException.class, () -> client.validateJwtSvid(jwt(TestKeys.freshEcP256(), "k",
                    "spiffe://unknown.org/x", "payments"), "payments"));
            // partner.org's name with a key that is not in its bundle, under its key ID.
            assertThrows(JwtSvidException.class, () -> client.validateJwtSvid(jwt(unrelatedJwt, "partner-1",
                    "spiffe://partner.org/billing", "payments"), "payments"));
            // A partner token for someone else's audience.
            assertThrows(JwtSvidException.class, () -> client.validateJwtSvid(jwt(partnerJwt, "partner-1",
                    "spiffe://partner.org/billing", "someone-else"), "payments"));
        }
    }

    @Test
    void peerCaRotation_reachesAWatcher_andABundleNoLongerNeededDisappears() throws Exception {
        LinkedBlockingQueue<X509Context> contexts = new LinkedBlockingQueue<>();
        LinkedBlockingQueue<JwtBundleSet> jwtSets = new LinkedBlockingQueue<>();
        LinkedBlockingQueue<Throwable> errors = new LinkedBlockingQueue<>();
        try (WorkloadApiClient client = javaSpiffe()) {
            client.watchX509Context(new Watcher<>() {
                @Override
                public void onUpdate(X509Context update) {
                    contexts.add(update);
                }

                @Override
                public void onError(Throwable error) {
                    errors.add(error);
                }
            });
            client.watchJwtBundles(new Watcher<>() {
                @Override
                public void onUpdate(JwtBundleSet update) {
                    jwtSets.add(update);
                }

                @Override
                public void onError(Throwable error) {
                    errors.add(error);
                }
            });
            X509Context first = contexts.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertEquals(Set.of(partnerCa.certificate()), first.getX509BundleSet()
                    .getBundleForTrustDomain(spiffe(PARTNER)).getX509Authorities());
            assertTrue(jwtSets.poll(WAIT.toSeconds(), TimeUnit.SECONDS).getBundles().containsKey(spiffe(PARTNER)));

            // The peer rotates: a new CA beside the old one, a new JWT key in place of the old; the operator sets
            // the new bundle with `bourne-server bundle set` over the admin socket.
            TestCa nextCa = TestCa.root("partner.org");
            KeyPair nextJwt = TestKeys.freshEcP256();
            Path file = dir.resolve("partner.json");
            Files.writeString(file, SpiffeBundleJson.encode(SpiffeBundle.of(PARTNER, List.of(partnerCa.certificate(),
                    nextCa.certificate()), Map.of("partner-2", nextJwt.getPublic())).withSequence(2)));
            assertEquals(0, RuntimeTestSupport.serverCli(serverDir, "bundle", "set", "-id", "partner.org", "-path",
                    file.toString(), "-format", "spiffe"));
            X509Context rotated = contexts.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertEquals(Set.of(partnerCa.certificate(), nextCa.certificate()), rotated.getX509BundleSet()
                    .getBundleForTrustDomain(spiffe(PARTNER)).getX509Authorities());
            JwtBundleSet rotatedJwt = jwtSets.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertEquals(Set.of("partner-2"), rotatedJwt.getBundleForTrustDomain(spiffe(PARTNER))
                    .getJwtAuthorities().keySet());
            assertEquals(WORKLOAD, rotated.getDefaultSvid().getSpiffeId().toString());
            assertEquals("spiffe://partner.org/billing", client.validateJwtSvid(jwt(nextJwt, "partner-2",
                    "spiffe://partner.org/billing", "payments"), "payments").getSpiffeId().toString());
            assertThrows(JwtSvidException.class, () -> client.validateJwtSvid(jwt(partnerJwt, "partner-1",
                    "spiffe://partner.org/billing", "payments"), "payments"));

            // The entry stops federating with partner.org: the bundle leaves the agent and the workload's sets.
            server.dataStore().updateEntry(entry.toBuilder().federatesWith(List.of(JWT_ONLY)).build(),
                    Set.of(EntryField.FEDERATES_WITH));
            X509Context without = contexts.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertEquals(Set.of("example.org"), names(without.getX509BundleSet().getBundles().keySet()));
            JwtBundleSet withoutJwt = jwtSets.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertEquals(Set.of("example.org", "jwt-only.org"), names(withoutJwt.getBundles().keySet()));
            assertFalse(agent.cache().contents().orElseThrow().federatedBundles().containsKey(PARTNER));
            assertThrows(JwtSvidException.class, () -> client.validateJwtSvid(jwt(nextJwt, "partner-2",
                    "spiffe://partner.org/billing", "payments"), "payments"));
            assertEquals(List.of(), List.copyOf(errors));
        }
    }
}
