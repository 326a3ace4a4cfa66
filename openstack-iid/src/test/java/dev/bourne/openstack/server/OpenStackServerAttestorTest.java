package dev.bourne.openstack.server;

import static dev.bourne.openstack.server.IidTestSupport.AUDIENCE;
import static dev.bourne.openstack.server.IidTestSupport.EC256;
import static dev.bourne.openstack.server.IidTestSupport.EC384;
import static dev.bourne.openstack.server.IidTestSupport.FORGER;
import static dev.bourne.openstack.server.IidTestSupport.HOSTNAME;
import static dev.bourne.openstack.server.IidTestSupport.IMAGE;
import static dev.bourne.openstack.server.IidTestSupport.INSTANCE;
import static dev.bourne.openstack.server.IidTestSupport.ISSUER;
import static dev.bourne.openstack.server.IidTestSupport.KID_EC256;
import static dev.bourne.openstack.server.IidTestSupport.KID_EC384;
import static dev.bourne.openstack.server.IidTestSupport.KID_RSA;
import static dev.bourne.openstack.server.IidTestSupport.OTHER_PROJECT;
import static dev.bourne.openstack.server.IidTestSupport.PROJECT;
import static dev.bourne.openstack.server.IidTestSupport.RSA;
import static dev.bourne.openstack.server.IidTestSupport.bytes;
import static dev.bourne.openstack.server.IidTestSupport.claims;
import static dev.bourne.openstack.server.IidTestSupport.encode;
import static dev.bourne.openstack.server.IidTestSupport.header;
import static dev.bourne.openstack.server.IidTestSupport.sign;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.util.JSONObjectUtils;
import dev.bourne.openstack.common.IidClaims;
import dev.bourne.openstack.common.OpenStackIid;
import dev.bourne.openstack.server.IidAttestationException.Kind;
import dev.bourne.openstack.server.IidTestSupport.FakeNova;
import dev.bourne.openstack.server.IidTestSupport.MemoryJtiLedger;
import dev.bourne.openstack.server.NovaServers.NovaServer;
import dev.bourne.openstack.server.OpenStackServerAttestor.Attested;
import dev.bourne.testing.time.MutableClock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The server engine on documents signed in test code with EC P-256, P-384 and RSA keys, its keys from a JWK set file:
 * what an accepted document yields, and one test per attack of issue 6, each refused with its exact message and kind.
 */
class OpenStackServerAttestorTest {

    private final MutableClock clock = MutableClock.at("2026-06-01T10:00:00Z");
    private final MemoryJtiLedger ledger = new MemoryJtiLedger();
    private final FakeNova nova = new FakeNova();
    @TempDir
    Path dir;
    private OpenStackServerSettings settings;
    private OpenStackServerAttestor attestor;

    @BeforeEach
    void setUp() throws Exception {
        settings = IidTestSupport.settings(IidTestSupport.writeJwks(dir, IidTestSupport.standardJwks()), false);
        attestor = new OpenStackServerAttestor(settings, IidTestSupport.fileSource(settings, clock), ledger,
                Optional.empty(), clock);
    }

    private OpenStackServerAttestor withNova() throws Exception {
        OpenStackServerSettings novaSettings = IidTestSupport.settings(
                IidTestSupport.writeJwks(dir, IidTestSupport.standardJwks()), true);
        return new OpenStackServerAttestor(novaSettings, IidTestSupport.fileSource(novaSettings, clock), ledger,
                Optional.of(nova), clock);
    }

    private Map<String, Object> claimsNow() {
        return claims(clock.instant());
    }

    private String document() {
        return sign(EC256, "ES256", KID_EC256, claimsNow());
    }

    private static void assertRefused(Kind kind, String message, Executable call) {
        IidAttestationException e = assertThrows(IidAttestationException.class, call::run);
        assertEquals(message, e.getMessage());
        assertEquals(kind, e.kind());
    }

    @FunctionalInterface
    interface Executable {
        void run() throws Exception;
    }

    @ParameterizedTest
    @CsvSource({"ES256", "ES384", "RS256", "PS256"})
    void attest_signedWithEachAlgorithm_attested(String alg) throws Exception {
        KeyPair keys = alg.equals("ES256") ? EC256 : alg.equals("ES384") ? EC384 : RSA;
        String kid = alg.equals("ES256") ? KID_EC256 : alg.equals("ES384") ? KID_EC384 : KID_RSA;
        Map<String, Object> claims = claimsNow();

        Attested attested = attestor.attest(bytes(sign(keys, alg, kid, claims)));

        assertEquals(PROJECT, attested.projectId());
        assertEquals(INSTANCE, attested.instanceId());
        assertEquals(List.of("project_id:" + PROJECT, "instance_id:" + INSTANCE, "image_id:" + IMAGE,
                "hostname:" + HOSTNAME, "meta:role:web"), attested.selectorValues());
        assertEquals("jti=" + claims.get("jti") + " kid=" + kid + " project=" + PROJECT + " instance=" + INSTANCE,
                attested.evidence());
        assertEquals(claims.get("jti"), attested.claims().jti());
    }

    @Test
    void attest_volumeBackedInstance_noImageSelector() throws Exception {
        Map<String, Object> claims = claimsNow();
        claims.put(IidClaims.IMAGE_ID, "");

        Attested attested = attestor.attest(bytes(sign(EC256, "ES256", KID_EC256, claims)));

        assertEquals(List.of("project_id:" + PROJECT, "instance_id:" + INSTANCE, "hostname:" + HOSTNAME,
                "meta:role:web"), attested.selectorValues());
    }

    @Test
    void attest_audienceArrayHoldingOurs_attested() throws Exception {
        Map<String, Object> claims = claimsNow();
        claims.put(IidClaims.AUD, List.of("spiffe://other.org/spire/server", AUDIENCE));

        assertEquals(PROJECT, attestor.attest(bytes(sign(EC256, "ES256", KID_EC256, claims))).projectId());
    }

    @Test
    void attest_forgedSignature_rejected() {
        String forged = sign(FORGER, "ES256", KID_EC256, claimsNow());

        assertRefused(Kind.REJECTED, IidVerifier.SIGNATURE_INVALID, () -> attestor.attest(bytes(forged)));
        assertTrue(ledger.used.isEmpty(), "a refused document consumes no jti");
    }

    @Test
    void attest_claimsChangedAfterSigning_rejected() {
        String[] parts = document().split("\\.");
        Map<String, Object> changed = claimsNow();
        changed.put(IidClaims.PROJECT_ID, OTHER_PROJECT);
        String tampered = parts[0] + "." + encode(JSONObjectUtils.toJSONString(changed)) + "." + parts[2];

        assertRefused(Kind.REJECTED, IidVerifier.SIGNATURE_INVALID, () -> attestor.attest(bytes(tampered)));
    }

    @Test
    void attest_emptySignature_rejected() {
        String[] parts = document().split("\\.");

        assertRefused(Kind.REJECTED, IidVerifier.SIGNATURE_INVALID,
                () -> attestor.attest(bytes(parts[0] + "." + parts[1] + ".")));
    }

    @Test
    void attest_unknownKid_rejected() {
        String document = sign(FORGER, "ES256", "kid-of-nobody", claimsNow());

        assertRefused(Kind.REJECTED, IidVerifier.KID_UNKNOWN, () -> attestor.attest(bytes(document)));
    }

    @Test
    void attest_keyEmbeddedInHeader_ignored() {
        // The forger puts its own public key in the header (jwk) and points at its own set (jku): never used.
        Map<String, Object> header = header("ES256", "forger");
        header.put("jwk", IidTestSupport.publicJwk(FORGER, "forger").toJSONObject());
        header.put("jku", "https://attacker.example/jwks.json");
        String document = sign(FORGER, JWSAlgorithm.ES256, header, JSONObjectUtils.toJSONString(claimsNow()));

        assertRefused(Kind.REJECTED, IidVerifier.KID_UNKNOWN, () -> attestor.attest(bytes(document)));
    }

    @Test
    void attest_algNone_rejected() {
        Map<String, Object> header = header("none", KID_EC256);
        String document = encode(JSONObjectUtils.toJSONString(header)) + "."
                + encode(JSONObjectUtils.toJSONString(claimsNow())) + ".";

        assertRefused(Kind.REJECTED, IidVerifier.ALG_NOT_ALLOWED, () -> attestor.attest(bytes(document)));
    }

    @Test
    void attest_hs256KeyedWithThePublicKey_rejected() {
        for (String kid : List.of(KID_EC256, KID_RSA)) {
            KeyPair keys = kid.equals(KID_RSA) ? RSA : EC256;
            String document = IidTestSupport.hs256WithPublicKey(keys, kid, claimsNow());

            assertRefused(Kind.REJECTED, IidVerifier.ALG_NOT_ALLOWED, () -> attestor.attest(bytes(document)));
        }
    }

    @Test
    void attest_algorithmOutsideTheAllowlist_rejected() {
        // ES512 is a valid algorithm, but these settings do not allow it.
        Map<String, Object> header = header("ES512", KID_EC256);
        String document = sign(EC256, JWSAlgorithm.ES256, header, JSONObjectUtils.toJSONString(claimsNow()));

        assertRefused(Kind.REJECTED, IidVerifier.ALG_NOT_ALLOWED, () -> attestor.attest(bytes(document)));
    }

    @Test
    void attest_algMissing_invalid() {
        Map<String, Object> header = header("ES256", KID_EC256);
        header.remove("alg");
        String document = sign(EC256, JWSAlgorithm.ES256, header, JSONObjectUtils.toJSONString(claimsNow()));

        assertRefused(Kind.INVALID_REQUEST, IidVerifier.ALG_MISSING, () -> attestor.attest(bytes(document)));
    }

    @ParameterizedTest
    @CsvSource({"ES384, kid-ec256", "RS256, kid-ec256", "ES256, kid-rsa", "PS256, kid-ec384"})
    void attest_algorithmNotOfTheKeysKind_rejected(String alg, String kid) {
        Map<String, Object> header = header(alg, kid);
        String document = sign(EC256, JWSAlgorithm.ES256, header, JSONObjectUtils.toJSONString(claimsNow()));

        assertRefused(Kind.REJECTED, IidVerifier.KEY_ALG_MISMATCH, () -> attestor.attest(bytes(document)));
    }

    @Test
    void attest_typMissing_rejected() {
        Map<String, Object> header = header("ES256", KID_EC256);
        header.remove("typ");
        String document = sign(EC256, JWSAlgorithm.ES256, header, JSONObjectUtils.toJSONString(claimsNow()));

        assertRefused(Kind.REJECTED, IidVerifier.TYP_WRONG, () -> attestor.attest(bytes(document)));
    }

    @Test
    void attest_anotherJwtType_rejected() {
        // A JWT-SVID or any other JWT signed by the same keys must not pass as an instance identity document.
        Map<String, Object> header = header("ES256", KID_EC256);
        header.put("typ", "JWT");
        String document = sign(EC256, JWSAlgorithm.ES256, header, JSONObjectUtils.toJSONString(claimsNow()));

        assertRefused(Kind.REJECTED, IidVerifier.TYP_WRONG, () -> attestor.attest(bytes(document)));
    }

    @Test
    void attest_critPresent_rejected() {
        Map<String, Object> header = header("ES256", KID_EC256);
        header.put("crit", List.of("exp"));
        header.put("exp", 1);
        String document = sign(EC256, JWSAlgorithm.ES256, header, JSONObjectUtils.toJSONString(claimsNow()));

        assertRefused(Kind.REJECTED, IidVerifier.CRIT_REFUSED, () -> attestor.attest(bytes(document)));
    }

    @Test
    void attest_kidMissing_rejected() {
        Map<String, Object> header = header("ES256", KID_EC256);
        header.remove("kid");
        String document = sign(EC256, JWSAlgorithm.ES256, header, JSONObjectUtils.toJSONString(claimsNow()));

        assertRefused(Kind.REJECTED, IidVerifier.KID_MISSING, () -> attestor.attest(bytes(document)));
    }

    @Test
    void attest_expiredBeyondSkew_rejected() throws Exception {
        String late = document();
        String inSkew = document();
        clock.advance(Duration.ofMinutes(5).plusSeconds(29));
        assertEquals(PROJECT, attestor.attest(bytes(inSkew)).projectId(), "exp + 29s is within the 30s skew");

        clock.advance(Duration.ofSeconds(1));
        assertRefused(Kind.REJECTED, IidVerifier.EXPIRED, () -> attestor.attest(bytes(late)));
    }

    @Test
    void attest_issuedInTheFutureBeyondSkew_rejected() throws Exception {
        String early = sign(EC256, "ES256", KID_EC256, claims(clock.instant().plusSeconds(31)));
        String inSkew = sign(EC256, "ES256", KID_EC256, claims(clock.instant().plusSeconds(30)));

        assertEquals(PROJECT, attestor.attest(bytes(inSkew)).projectId(), "iat = now + 30s is within the skew");
        assertRefused(Kind.REJECTED, IidVerifier.ISSUED_IN_FUTURE, () -> attestor.attest(bytes(early)));
    }

    @Test
    void attest_wrongAudience_rejected() {
        Map<String, Object> claims = claimsNow();
        claims.put(IidClaims.AUD, "spiffe://other.org/spire/server");
        String document = sign(EC256, "ES256", KID_EC256, claims);

        assertRefused(Kind.REJECTED, IidVerifier.AUDIENCE_WRONG, () -> attestor.attest(bytes(document)));
    }

    @Test
    void attest_wrongIssuer_rejected() {
        Map<String, Object> claims = claimsNow();
        claims.put(IidClaims.ISS, "https://vendordata.example.org.attacker.example");
        String document = sign(EC256, "ES256", KID_EC256, claims);

        assertRefused(Kind.REJECTED, IidVerifier.ISSUER_WRONG, () -> attestor.attest(bytes(document)));
    }

    @Test
    void attest_reusedJti_rejected() throws Exception {
        String document = document();
        attestor.attest(bytes(document));

        assertRefused(Kind.REJECTED, OpenStackServerAttestor.JTI_REUSED, () -> attestor.attest(bytes(document)));
    }

    @Test
    void attest_reusedJtiAtAnotherServerSharingTheLedger_rejected() throws Exception {
        String document = document();
        OpenStackServerAttestor second = new OpenStackServerAttestor(settings,
                IidTestSupport.fileSource(settings, clock), ledger, Optional.empty(), clock);
        attestor.attest(bytes(document));

        assertRefused(Kind.REJECTED, OpenStackServerAttestor.JTI_REUSED, () -> second.attest(bytes(document)));
    }

    @Test
    void attest_jtiKeptUntilExpiryPlusSkew() throws Exception {
        Map<String, Object> claims = claimsNow();
        attestor.attest(bytes(sign(EC256, "ES256", KID_EC256, claims)));

        Instant exp = Instant.ofEpochSecond(((Number) claims.get(IidClaims.EXP)).longValue());
        assertEquals(exp.plus(settings.maxClockSkew()), ledger.used.get(ISSUER + "\n" + claims.get(IidClaims.JTI)));
    }

    @Test
    void attest_projectNotAllowed_rejectedWithoutConsumingTheJti() {
        Map<String, Object> claims = claimsNow();
        claims.put(IidClaims.PROJECT_ID, "a0000000000000000000000000000000");
        String document = sign(EC256, "ES256", KID_EC256, claims);

        assertRefused(Kind.REJECTED, OpenStackServerAttestor.PROJECT_NOT_ALLOWED,
                () -> attestor.attest(bytes(document)));
        assertTrue(ledger.used.isEmpty());
    }

    @Test
    void attest_ledgerDown_unavailable() {
        ledger.down.set(true);

        assertRefused(Kind.UNAVAILABLE, OpenStackServerAttestor.LEDGER_UNAVAILABLE,
                () -> attestor.attest(bytes(document())));
    }

    @Test
    void attest_novaActiveSameProject_attested() throws Exception {
        nova.servers.put(INSTANCE, new NovaServer(INSTANCE, "ACTIVE", PROJECT));

        assertEquals(INSTANCE, withNova().attest(bytes(document())).instanceId());
        assertEquals(1, nova.calls.get());
    }

    @Test
    void attest_novaHasNoSuchInstance_rejected() throws Exception {
        OpenStackServerAttestor checked = withNova();

        assertRefused(Kind.REJECTED, OpenStackServerAttestor.NOVA_UNKNOWN_INSTANCE,
                () -> checked.attest(bytes(document())));
    }

    @ParameterizedTest
    @CsvSource({"SHUTOFF", "BUILD", "ERROR", "SUSPENDED", "active"})
    void attest_novaSaysNotActive_rejected(String status) throws Exception {
        nova.servers.put(INSTANCE, new NovaServer(INSTANCE, status, PROJECT));
        OpenStackServerAttestor checked = withNova();

        assertRefused(Kind.REJECTED, OpenStackServerAttestor.NOVA_NOT_ACTIVE, () -> checked.attest(bytes(document())));
    }

    @Test
    void attest_novaSaysAnotherProject_rejected() throws Exception {
        nova.servers.put(INSTANCE, new NovaServer(INSTANCE, "ACTIVE", OTHER_PROJECT));
        OpenStackServerAttestor checked = withNova();

        assertRefused(Kind.REJECTED, OpenStackServerAttestor.NOVA_OTHER_PROJECT,
                () -> checked.attest(bytes(document())));
    }

    @Test
    void attest_novaUnavailable_failsClosed() throws Exception {
        nova.servers.put(INSTANCE, new NovaServer(INSTANCE, "ACTIVE", PROJECT));
        nova.down.set(true);
        OpenStackServerAttestor checked = withNova();

        assertRefused(Kind.UNAVAILABLE, OpenStackServerAttestor.NOVA_UNAVAILABLE,
                () -> checked.attest(bytes(document())));
    }

    @Test
    void attest_novaThrowsUnexpectedly_failsClosed() throws Exception {
        OpenStackServerAttestor checked = new OpenStackServerAttestor(IidTestSupport.settings(
                IidTestSupport.writeJwks(dir, IidTestSupport.standardJwks()), true),
                IidTestSupport.fileSource(settings, clock), ledger, Optional.of(id -> {
                    throw new IllegalStateException("bug");
                }), clock);

        assertRefused(Kind.UNAVAILABLE, OpenStackServerAttestor.NOVA_UNAVAILABLE,
                () -> checked.attest(bytes(document())));
    }

    @Test
    void attest_replayedDocument_neverReachesNova() throws Exception {
        nova.servers.put(INSTANCE, new NovaServer(INSTANCE, "ACTIVE", PROJECT));
        OpenStackServerAttestor checked = withNova();
        String document = document();
        checked.attest(bytes(document));

        for (int i = 0; i < 5; i++) {
            assertRefused(Kind.REJECTED, OpenStackServerAttestor.JTI_REUSED, () -> checked.attest(bytes(document)));
        }
        assertEquals(1, nova.calls.get());
    }

    @Test
    void attest_oversized_invalid() {
        byte[] huge = new byte[OpenStackIid.MAX_JWS_BYTES + 1];
        java.util.Arrays.fill(huge, (byte) 'A');
        huge[10] = '.';
        huge[20] = '.';

        assertRefused(Kind.INVALID_REQUEST, IidVerifier.TOO_LARGE, () -> attestor.attest(huge));
    }

    @Test
    void attest_largestMetadataNovaAllows_attested() throws Exception {
        // 128 items of 255-character keys and values: the largest document Nova can make still fits the limit.
        Map<String, Object> claims = claimsNow();
        Map<String, String> metadata = new java.util.TreeMap<>();
        for (int i = 0; i < IidClaims.MAX_METADATA_ITEMS; i++) {
            metadata.put(String.format("%03d", i) + "k".repeat(252), "v".repeat(255));
        }
        claims.put(IidClaims.METADATA, metadata);
        String document = sign(RSA, "RS256", KID_RSA, claims);

        assertTrue(document.length() <= OpenStackIid.MAX_JWS_BYTES, "length " + document.length());
        assertEquals(PROJECT, attestor.attest(bytes(document)).projectId());
    }

    @Test
    void attest_concurrentDocuments_eachAttestedOnce() throws Exception {
        List<String> documents = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            documents.add(i % 2 == 0 ? document() : sign(EC384, "ES384", KID_EC384, claimsNow()));
        }
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Callable<Boolean>> calls = new ArrayList<>();
            for (String document : documents) {
                // Each document twice: exactly one of the two may pass.
                for (int copy = 0; copy < 2; copy++) {
                    calls.add(() -> {
                        try {
                            attestor.attest(bytes(document));
                            return true;
                        } catch (IidAttestationException e) {
                            assertEquals(OpenStackServerAttestor.JTI_REUSED, e.getMessage());
                            return false;
                        }
                    });
                }
            }
            int passed = 0;
            for (Future<Boolean> result : pool.invokeAll(calls)) {
                passed += result.get() ? 1 : 0;
            }
            assertEquals(documents.size(), passed);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void attest_messagesNeverEchoTheDocument() {
        Map<String, Object> claims = claimsNow();
        claims.put(IidClaims.ISS, "<script>attacker</script>");
        String document = sign(EC256, "ES256", KID_EC256, claims);

        IidAttestationException e = assertThrows(IidAttestationException.class,
                () -> attestor.attest(bytes(document)));
        assertFalse(e.getMessage().contains("attacker"));
        assertFalse(new String(bytes(document), StandardCharsets.US_ASCII).contains(e.getMessage()));
    }

    @Test
    void constructor_novaClientWithoutNovaCheck_refused() {
        assertThrows(IllegalArgumentException.class, () -> new OpenStackServerAttestor(settings,
                IidTestSupport.fileSource(settings, clock), ledger, Optional.of(nova), clock));
    }
}
