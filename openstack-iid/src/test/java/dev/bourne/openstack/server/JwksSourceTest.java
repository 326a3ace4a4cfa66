package dev.bourne.openstack.server;

import static dev.bourne.openstack.server.IidTestSupport.EC256;
import static dev.bourne.openstack.server.IidTestSupport.EC384;
import static dev.bourne.openstack.server.IidTestSupport.FORGER;
import static dev.bourne.openstack.server.IidTestSupport.KID_EC256;
import static dev.bourne.openstack.server.IidTestSupport.KID_EC384;
import static dev.bourne.openstack.server.IidTestSupport.KID_RSA;
import static dev.bourne.openstack.server.IidTestSupport.PROJECT;
import static dev.bourne.openstack.server.IidTestSupport.RSA;
import static dev.bourne.openstack.server.IidTestSupport.bytes;
import static dev.bourne.openstack.server.IidTestSupport.claims;
import static dev.bourne.openstack.server.IidTestSupport.jwks;
import static dev.bourne.openstack.server.IidTestSupport.publicJwk;
import static dev.bourne.openstack.server.IidTestSupport.sign;
import static dev.bourne.openstack.server.IidTestSupport.standardJwks;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.KeyOperation;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.OctetSequenceKey;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.util.JSONObjectUtils;
import dev.bourne.core.config.ConfigError;
import dev.bourne.core.config.ConfigResult;
import dev.bourne.core.config.PluginConfig;
import dev.bourne.openstack.server.IidAttestationException.Kind;
import dev.bourne.openstack.server.IidTestSupport.MemoryJtiLedger;
import dev.bourne.openstack.server.JwksHttpsServer.Answer;
import dev.bourne.openstack.server.JwksSource.JwksException;
import dev.bourne.openstack.server.JwksSource.KeysUnavailableException;
import dev.bourne.testing.time.MutableClock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.RSAPrivateKey;
import java.security.interfaces.RSAPublicKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The JWK set source: what a set may hold (table of refused and skipped keys), and its cache over a file and over real
 * HTTPS (a JDK HttpsServer with a TestCa certificate): rotation, the rate limit on unknown kids, and keeping the last
 * good keys when a refresh fails. Time moves only through a MutableClock.
 */
class JwksSourceTest {

    private static final Set<IidSignatureAlgorithm> DEFAULTS = IidSignatureAlgorithm.DEFAULTS;

    @TempDir
    Path dir;
    private final MutableClock clock = new MutableClock();

    // ---- parsing ----

    @Test
    void parse_standardSet_everyKeyInOrder() throws Exception {
        Map<String, JwksSource.TrustedKey> keys = JwksSource.parse(standardJwks().getBytes(StandardCharsets.UTF_8),
                DEFAULTS);

        assertEquals(List.of(KID_EC256, KID_EC384, KID_RSA), List.copyOf(keys.keySet()));
        assertFalse(keys.get(KID_RSA).key().isPrivate());
    }

    private static String setOf(Object... keys) {
        Map<String, Object> set = new LinkedHashMap<>();
        set.put("keys", List.of(keys));
        return JSONObjectUtils.toJSONString(set);
    }

    static Stream<Arguments> refusedSets() throws Exception {
        JWK ecPrivate = new ECKey.Builder(Curve.P_256, (java.security.interfaces.ECPublicKey) EC256.getPublic())
                .privateKey((ECPrivateKey) EC256.getPrivate()).keyID("p").build();
        JWK rsaPrivate = new RSAKey.Builder((RSAPublicKey) RSA.getPublic()).privateKey((RSAPrivateKey) RSA.getPrivate())
                .keyID("r").build();
        JWK secret = new OctetSequenceKey.Builder(new byte[32]).keyID("hmac").build();
        Map<String, Object> bareOct = new LinkedHashMap<>();
        bareOct.put("kty", "oct");
        bareOct.put("kid", "o");
        List<Object> many = new ArrayList<>();
        for (int i = 0; i <= JwksSource.MAX_KEYS; i++) {
            many.add(publicJwk(EC256, "k" + i).toJSONObject());
        }
        return Stream.of(
                Arguments.of("private EC key", setOf(publicJwk(EC384, "a").toJSONObject(), ecPrivate.toJSONObject()),
                        String.format(JwksSource.KEY_PRIVATE, 1)),
                Arguments.of("private RSA key", setOf(rsaPrivate.toJSONObject()),
                        String.format(JwksSource.KEY_PRIVATE, 0)),
                Arguments.of("symmetric key", setOf(secret.toJSONObject()), String.format(JwksSource.KEY_PRIVATE, 0)),
                Arguments.of("oct key without k", setOf(bareOct), String.format(JwksSource.KEY_PRIVATE, 0)),
                Arguments.of("too many keys", JSONObjectUtils.toJSONString(Map.of("keys", many)),
                        JwksSource.SET_TOO_MANY_KEYS),
                Arguments.of("not JSON", "keys: []", JwksSource.SET_NOT_JSON),
                Arguments.of("a JSON array", "[1]", JwksSource.SET_NOT_JSON),
                Arguments.of("no keys member", "{\"jwks\":[]}", JwksSource.SET_NO_KEYS),
                Arguments.of("keys not an array", "{\"keys\":{}}", JwksSource.SET_NO_KEYS),
                Arguments.of("a key not an object", "{\"keys\":[\"k\"]}", String.format(JwksSource.KEY_NOT_OBJECT, 0)),
                Arguments.of("duplicate kid", setOf(publicJwk(EC256, "same").toJSONObject(),
                        publicJwk(EC384, "same").toJSONObject()), String.format(JwksSource.KEY_DUPLICATE_KID, 1)),
                Arguments.of("larger than 64 KiB", "{\"keys\":[],\"pad\":\"" + "x".repeat(JwksSource.MAX_BYTES) + "\"}",
                        JwksSource.SET_TOO_LARGE));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("refusedSets")
    void parse_refusedSet_error(String name, String json, String message) {
        JwksException e = assertThrows(JwksException.class,
                () -> JwksSource.parse(json.getBytes(StandardCharsets.UTF_8), DEFAULTS));
        assertEquals(message, e.getMessage(), name);
    }

    static Stream<Arguments> skippedKeys() throws Exception {
        KeyPairGenerator rsa1024 = KeyPairGenerator.getInstance("RSA");
        rsa1024.initialize(1024);
        Map<String, Object> noX = new LinkedHashMap<>(publicJwk(EC256, "nox").toJSONObject());
        noX.remove("x");
        return Stream.of(
                Arguments.of("use enc", new ECKey.Builder((ECKey) publicJwk(EC256, "enc")).keyUse(KeyUse.ENCRYPTION)
                        .build().toJSONObject()),
                Arguments.of("key_ops without verify", new ECKey.Builder((ECKey) publicJwk(EC256, "ops"))
                        .keyUse(null).keyOperations(Set.of(KeyOperation.ENCRYPT)).build().toJSONObject()),
                Arguments.of("alg outside the allowlist", new ECKey.Builder((ECKey) publicJwk(EC256, "hs"))
                        .algorithm(JWSAlgorithm.HS256).build().toJSONObject()),
                Arguments.of("no kid", new ECKey.Builder((ECKey) publicJwk(EC256, "x")).keyID(null).build()
                        .toJSONObject()),
                Arguments.of("RSA 1024", new RSAKey.Builder((RSAPublicKey) rsa1024.generateKeyPair().getPublic())
                        .keyID("weak").build().toJSONObject()),
                Arguments.of("secp256k1", Map.of("kty", "EC", "crv", "secp256k1", "kid", "k1", "use", "sig",
                        // The curve's generator point (SEC 2): a valid public key the JDK cannot use.
                        "x", hexToBase64Url("79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798"),
                        "y", hexToBase64Url("483ADA7726A3C4655DA4FBFC0E1108A8FD17B448A68554199C47D08FFB10D4B8"))),
                Arguments.of("P-521 while ES512 is not allowed", new ECKeyGenerator(Curve.P_521).keyID("p521")
                        .generate().toPublicJWK().toJSONObject()),
                Arguments.of("Ed25519 (RFC 8037 appendix A.2)", Map.of("kty", "OKP", "crv", "Ed25519", "kid", "ed",
                        "x", "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")),
                Arguments.of("unknown kty", Map.of("kty", "PQC", "kid", "future")),
                Arguments.of("EC key without x", noX));
    }

    private static String hexToBase64Url(String hex) {
        return java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(java.util.HexFormat.of().parseHex(hex));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("skippedKeys")
    void parse_unusableKey_skippedOthersKept(String name, Map<String, Object> key) throws Exception {
        String json = setOf(key, publicJwk(EC256, "good").toJSONObject());

        assertEquals(Set.of("good"), JwksSource.parse(json.getBytes(StandardCharsets.UTF_8), DEFAULTS).keySet(), name);
    }

    @Test
    void parse_p521WhenEs512Allowed_kept() throws Exception {
        String json = setOf(new ECKeyGenerator(Curve.P_521).keyID("p521").generate().toPublicJWK().toJSONObject());

        assertEquals(Set.of("p521"), JwksSource.parse(json.getBytes(StandardCharsets.UTF_8),
                Set.of(IidSignatureAlgorithm.ES512)).keySet());
    }

    @Test
    void fits_jwkNamingAnAlgorithm_onlyThatAlgorithm() {
        JWK ps256Only = new RSAKey.Builder((RSAPublicKey) RSA.getPublic()).algorithm(JWSAlgorithm.PS256).build();

        assertTrue(IidSignatureAlgorithm.PS256.fits(ps256Only));
        assertFalse(IidSignatureAlgorithm.RS256.fits(ps256Only));
        assertFalse(IidSignatureAlgorithm.ES256.fits(publicJwk(EC384, "x")));
        assertTrue(IidSignatureAlgorithm.ES384.fits(publicJwk(EC384, "x")));
    }

    // ---- file source ----

    private JwksSource fileSource(Path file) {
        return JwksSource.file(file, DEFAULTS, Duration.ofMinutes(10), Duration.ofSeconds(30), clock);
    }

    @Test
    void file_missing_unavailableUntilItAppears() throws Exception {
        Path file = dir.resolve("jwks.json");
        JwksSource source = fileSource(file);

        KeysUnavailableException e = assertThrows(KeysUnavailableException.class, () -> source.find(KID_EC256));
        assertEquals("cannot be read: no such file", e.getMessage());

        Files.writeString(file, standardJwks());
        assertThrows(KeysUnavailableException.class, () -> source.find(KID_EC256), "rate-limited for 30s");
        clock.advance(Duration.ofSeconds(30));
        assertTrue(source.find(KID_EC256).isPresent());
    }

    @Test
    void file_rotation_newKidFoundAtOnceRetiredKidGoneAfterRefresh() throws Exception {
        Path file = IidTestSupport.writeJwks(dir, jwks(publicJwk(EC256, "old")));
        JwksSource source = fileSource(file);
        source.reload();
        clock.advance(Duration.ofMinutes(1));

        Files.writeString(file, jwks(publicJwk(EC384, "new")));
        assertTrue(source.find("new").isPresent(), "an unknown kid refetches");
        assertFalse(source.find("old").isPresent(), "the refetch replaced the set");

        Files.writeString(file, jwks(publicJwk(EC384, "new"), publicJwk(EC256, "later")));
        clock.advance(Duration.ofMinutes(9).plusSeconds(59));
        assertEquals(List.of("new"), source.kids());
        clock.advance(Duration.ofSeconds(1));
        assertTrue(source.find("new").isPresent());
        assertEquals(List.of("new", "later"), source.kids(), "read again after jwks_refresh");
    }

    @Test
    void file_replacedByPrivateKeys_lastGoodKeysKept() throws Exception {
        Path file = IidTestSupport.writeJwks(dir, standardJwks());
        JwksSource source = fileSource(file);
        source.reload();

        JWK leaked = new ECKey.Builder(Curve.P_256, (java.security.interfaces.ECPublicKey) EC256.getPublic())
                .privateKey((ECPrivateKey) EC256.getPrivate()).keyID(KID_EC256).build();
        Files.writeString(file, jwks(leaked));
        JwksException e = assertThrows(JwksException.class, source::reload);
        assertEquals(String.format(JwksSource.KEY_PRIVATE, 0), e.getMessage());
        assertEquals(List.of(KID_EC256, KID_EC384, KID_RSA), source.kids());
    }

    // ---- HTTPS source, through the attestor's configure ----

    private PluginConfig plugin(JwksHttpsServer server, boolean trustCa) throws Exception {
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("issuer", IidTestSupport.ISSUER);
        data.put("jwks_url", server.url().toString());
        if (trustCa) {
            data.put("jwks_ca_file", server.writeCaFile(dir).toString());
        }
        data.put("projects", List.of(PROJECT));
        return new PluginConfig("server.conf", "NodeAttestor", "openstack_iid", true, data);
    }

    private OpenStackServerAttestor configure(PluginConfig plugin) throws Exception {
        ConfigResult<OpenStackServerAttestor> result = OpenStackServerAttestor.configure(plugin, IidTestSupport.TD,
                new MemoryJtiLedger(), settings -> {
                    throw new AssertionError("no Nova check configured");
                }, clock);
        return result.orElseThrow();
    }

    private String document(KeyPair keys, String alg, String kid) {
        return sign(keys, alg, kid, claims(clock.instant()));
    }

    @Test
    void https_configure_fetchesOnceAndAttests() throws Exception {
        try (JwksHttpsServer server = new JwksHttpsServer(standardJwks())) {
            OpenStackServerAttestor attestor = configure(plugin(server, true));

            assertEquals(1, server.requests());
            assertEquals(PROJECT, attestor.attest(bytes(document(EC256, "ES256", KID_EC256))).projectId());
            assertEquals(PROJECT, attestor.attest(bytes(document(RSA, "RS256", KID_RSA))).projectId());
            assertEquals(1, server.requests(), "known kids come from the cache");
        }
    }

    @Test
    void https_kidFlood_oneRefetchPerMinRefresh() throws Exception {
        try (JwksHttpsServer server = new JwksHttpsServer(standardJwks())) {
            OpenStackServerAttestor attestor = configure(plugin(server, true));

            for (int i = 0; i < 50; i++) {
                String bogus = document(FORGER, "ES256", "bogus-" + i);
                IidAttestationException e = assertThrows(IidAttestationException.class,
                        () -> attestor.attest(bytes(bogus)));
                assertEquals(IidVerifier.KID_UNKNOWN, e.getMessage());
            }
            // The start-up read was the last try: the flood gets no refetch until jwks_min_refresh has passed.
            assertEquals(1, server.requests());

            clock.advance(Duration.ofSeconds(30));
            for (int i = 0; i < 50; i++) {
                String bogus = document(FORGER, "ES256", "flood-" + i);
                assertThrows(IidAttestationException.class, () -> attestor.attest(bytes(bogus)));
                clock.advance(Duration.ofMillis(100));
            }
            assertEquals(2, server.requests(), "one refetch for 50 unknown kids within 30 seconds");

            clock.advance(Duration.ofSeconds(30));
            assertThrows(IidAttestationException.class, () -> attestor.attest(bytes(document(FORGER, "ES256", "x"))));
            assertEquals(3, server.requests());
        }
    }

    @Test
    void https_refusedAlgorithmWithUnknownKid_noKeyLookup() throws Exception {
        try (JwksHttpsServer server = new JwksHttpsServer(standardJwks())) {
            OpenStackServerAttestor attestor = configure(plugin(server, true));
            clock.advance(Duration.ofMinutes(1));

            String hs256 = IidTestSupport.hs256WithPublicKey(EC256, "unknown-kid", claims(clock.instant()));
            IidAttestationException e = assertThrows(IidAttestationException.class, () -> attestor.attest(bytes(hs256)));

            assertEquals(IidVerifier.ALG_NOT_ALLOWED, e.getMessage());
            assertEquals(1, server.requests(), "the algorithm is refused before any key is looked up or fetched");
        }
    }

    @Test
    void https_rotation_newKidFetchedOnFirstUse() throws Exception {
        try (JwksHttpsServer server = new JwksHttpsServer(jwks(publicJwk(EC256, KID_EC256)))) {
            OpenStackServerAttestor attestor = configure(plugin(server, true));
            clock.advance(Duration.ofSeconds(30));

            server.serve(jwks(publicJwk(EC256, KID_EC256), publicJwk(EC384, KID_EC384)));
            assertEquals(PROJECT, attestor.attest(bytes(document(EC384, "ES384", KID_EC384))).projectId());
            assertEquals(2, server.requests());
        }
    }

    @Test
    void https_refreshFails_lastGoodKeysKept() throws Exception {
        try (JwksHttpsServer server = new JwksHttpsServer(standardJwks())) {
            OpenStackServerAttestor attestor = configure(plugin(server, true));

            server.answer(Answer.status(500));
            clock.advance(Duration.ofMinutes(10));
            assertEquals(PROJECT, attestor.attest(bytes(document(EC256, "ES256", KID_EC256))).projectId());
            assertEquals(2, server.requests(), "the periodic refresh was tried");

            server.serve("{\"keys\": not json");
            clock.advance(Duration.ofSeconds(30));
            assertEquals(PROJECT, attestor.attest(bytes(document(EC384, "ES384", KID_EC384))).projectId());
            assertEquals(3, server.requests(), "a failed refresh is retried after jwks_min_refresh");

            server.answer(new Answer(302, new byte[0], "https://attacker.example/jwks.json"));
            clock.advance(Duration.ofSeconds(30));
            assertEquals(PROJECT, attestor.attest(bytes(document(RSA, "RS256", KID_RSA))).projectId());
            assertEquals(4, server.requests(), "the redirect was not followed");
        }
    }

    @Test
    void https_neverLoaded_unavailableUntilTheServiceAnswers() throws Exception {
        try (JwksHttpsServer server = new JwksHttpsServer(standardJwks())) {
            server.answer(Answer.status(503));
            PluginConfig plugin = plugin(server, true);
            ConfigResult<OpenStackServerAttestor> result = OpenStackServerAttestor.configure(plugin,
                    IidTestSupport.TD, new MemoryJtiLedger(), s -> null, clock);

            assertInstanceOf(ConfigResult.Valid.class, result);
            ConfigResult.Valid<OpenStackServerAttestor> valid = (ConfigResult.Valid<OpenStackServerAttestor>) result;
            assertEquals(List.of(new ConfigError("server.conf", plugin.keyPath() + ".jwks_url",
                    String.format(JwksSource.URL_UNREACHABLE_WARNING, "the JWK set URL answered HTTP 503"))),
                    valid.warnings());
            OpenStackServerAttestor attestor = valid.settings();
            IidAttestationException e = assertThrows(IidAttestationException.class,
                    () -> attestor.attest(bytes(document(EC256, "ES256", KID_EC256))));
            assertEquals(IidVerifier.KEYS_UNAVAILABLE, e.getMessage());
            assertEquals(Kind.UNAVAILABLE, e.kind());

            server.serve(standardJwks());
            clock.advance(Duration.ofSeconds(30));
            assertEquals(PROJECT, attestor.attest(bytes(document(EC256, "ES256", KID_EC256))).projectId());
        }
    }

    @Test
    void https_untrustedServerCertificate_neverLoaded() throws Exception {
        try (JwksHttpsServer server = new JwksHttpsServer(standardJwks())) {
            // Without jwks_ca_file the system's CAs are trusted, and they did not issue the test server's certificate.
            OpenStackServerAttestor attestor = configure(plugin(server, false));

            IidAttestationException e = assertThrows(IidAttestationException.class,
                    () -> attestor.attest(bytes(document(EC256, "ES256", KID_EC256))));
            assertEquals(IidVerifier.KEYS_UNAVAILABLE, e.getMessage());
            assertEquals(0, server.requests(), "no request got past the TLS handshake");
        }
    }

    @Test
    void https_oversizedSet_refusedWithoutReadingItAll() throws Exception {
        try (JwksHttpsServer server = new JwksHttpsServer(
                "{\"keys\":[],\"pad\":\"" + "x".repeat(4 * JwksSource.MAX_BYTES) + "\"}")) {
            JwksSource source = JwksSource.url(server.url(), Optional.of(JwksSource.trusting(server.writeCaFile(dir))),
                    DEFAULTS, Duration.ofMinutes(10), Duration.ofSeconds(30), clock);

            JwksException e = assertThrows(JwksException.class, source::reload);
            assertEquals(JwksSource.SET_TOO_LARGE, e.getMessage());
            assertFalse(source.loaded());
        }
    }

    @Test
    void https_concurrentUnknownKids_oneFetch() throws Exception {
        try (JwksHttpsServer server = new JwksHttpsServer(standardJwks())) {
            JwksSource source = JwksSource.url(server.url(), Optional.of(JwksSource.trusting(server.writeCaFile(dir))),
                    DEFAULTS, Duration.ofMinutes(10), Duration.ofSeconds(30), clock);
            int threads = 8;
            CountDownLatch start = new CountDownLatch(1);
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            try {
                List<Callable<Boolean>> calls = new ArrayList<>();
                for (int i = 0; i < threads; i++) {
                    String kid = i % 2 == 0 ? KID_EC256 : "unknown-" + i;
                    calls.add(() -> {
                        start.await();
                        return source.find(kid).isPresent();
                    });
                }
                List<Future<Boolean>> results = new ArrayList<>();
                for (Callable<Boolean> call : calls) {
                    results.add(pool.submit(call));
                }
                start.countDown();
                for (int i = 0; i < threads; i++) {
                    assertEquals(i % 2 == 0, results.get(i).get());
                }
            } finally {
                pool.shutdownNow();
            }
            assertEquals(1, server.requests(), "the first read serves every thread; unknown kids are rate-limited");
        }
    }

    @Test
    void https_periodicRefreshUnderWay_cachedKidsDoNotWait() throws Exception {
        try (JwksHttpsServer server = new JwksHttpsServer(standardJwks())) {
            JwksSource source = JwksSource.url(server.url(), Optional.of(JwksSource.trusting(server.writeCaFile(dir))),
                    DEFAULTS, Duration.ofMinutes(10), Duration.ofSeconds(30), clock);
            source.reload();
            clock.advance(Duration.ofMinutes(10));
            CountDownLatch release = new CountDownLatch(1);
            server.holdRequestsUntil(release);
            ExecutorService refresher = Executors.newSingleThreadExecutor();
            try {
                Future<Optional<JwksSource.TrustedKey>> refreshing = refresher.submit(() -> source.find(KID_EC256));
                while (server.requests() < 2) {
                    Thread.onSpinWait();
                }

                // A guard, not a measurement: a lookup that waited for the held refresh would return only when the
                // fetch times out (JwksSource.FETCH_TIMEOUT, 10s); one that does not wait is a map lookup.
                assertTimeoutPreemptively(Duration.ofSeconds(5),
                        () -> assertTrue(source.find(KID_EC384).isPresent()));
                release.countDown();
                assertTrue(refreshing.get().isPresent());
                assertEquals(2, server.requests());
            } finally {
                release.countDown();
                refresher.shutdownNow();
            }
        }
    }

    @Test
    void configure_jwksCaFileWithoutCertificates_error() throws Exception {
        try (JwksHttpsServer server = new JwksHttpsServer(standardJwks())) {
            PluginConfig plugin = plugin(server, true);
            Files.writeString(dir.resolve("jwks-ca.pem"), "not a certificate\n");

            ConfigResult<OpenStackServerAttestor> result = OpenStackServerAttestor.configure(plugin,
                    IidTestSupport.TD, new MemoryJtiLedger(), s -> null, clock);

            assertEquals(List.of(new ConfigError("server.conf", plugin.keyPath() + ".jwks_ca_file",
                    JwksSource.CA_FILE_NO_CERTIFICATE)), result.errors());
            assertEquals(0, server.requests());
        }
    }
}
