package dev.bourne.appliance.ca;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jose.util.JSONObjectUtils;
import com.nimbusds.jwt.SignedJWT;
import dev.bourne.appliance.ca.SvidIssuanceException.Reason;
import dev.bourne.core.bundle.BundleSource;
import dev.bourne.core.bundle.SpiffeBundle;
import dev.bourne.core.keymanager.HsmUnavailableException;
import dev.bourne.core.keymanager.KeyType;
import dev.bourne.core.keymanager.ManagedKey;
import dev.bourne.core.keymanager.SignatureAlgorithm;
import dev.bourne.core.spiffeid.SpiffeId;
import dev.bourne.core.svid.jwt.JwtSvid;
import dev.bourne.core.svid.jwt.JwtSvidValidator;
import java.net.URI;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

class JwtSvidIssuerTest {
    private static final Instant NOW = Instant.parse("2026-12-04T06:00:00Z");
    private static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);
    private static final SpiffeId SUBJECT = SpiffeId.parse("spiffe://example.org/ns/prod/sa/web");
    private static final Instant AUTHORITY_END = NOW.plus(Duration.ofDays(1));
    private static final Map<KeyType, ManagedKey> KEYS = new EnumMap<>(KeyType.class);

    private final JwtSvidIssuer issuer = new JwtSvidIssuer(TestAuthorities.TRUST_DOMAIN, CLOCK);

    @BeforeAll
    static void keys() throws Exception {
        for (KeyType type : List.of(KeyType.EC_P256, KeyType.EC_P384, KeyType.RSA_2048)) {
            KEYS.put(type, TestAuthorities.memoryKey("JWT-Signer-A", type));
        }
    }

    static JwtAuthority authority(SignatureAlgorithm algorithm, KeyType type, Instant notAfter) {
        return new JwtAuthority("JWT-Signer-A", KEYS.get(type), "kid-" + algorithm.jwsName(), notAfter, algorithm);
    }

    static Stream<Arguments> algorithms() {
        return Stream.of(
                Arguments.of(SignatureAlgorithm.ECDSA_SHA256, KeyType.EC_P256),
                Arguments.of(SignatureAlgorithm.ECDSA_SHA384, KeyType.EC_P384),
                Arguments.of(SignatureAlgorithm.RSA_PKCS1_SHA256, KeyType.RSA_2048),
                Arguments.of(SignatureAlgorithm.RSA_PKCS1_SHA384, KeyType.RSA_2048),
                Arguments.of(SignatureAlgorithm.RSA_PKCS1_SHA512, KeyType.RSA_2048),
                Arguments.of(SignatureAlgorithm.RSA_PSS_SHA256, KeyType.RSA_2048),
                Arguments.of(SignatureAlgorithm.RSA_PSS_SHA384, KeyType.RSA_2048),
                Arguments.of(SignatureAlgorithm.RSA_PSS_SHA512, KeyType.RSA_2048));
    }

    @ParameterizedTest
    @MethodSource("algorithms")
    void issue_eachAlgorithm_validatesWithCoreValidatorAndNimbus(SignatureAlgorithm algorithm, KeyType type)
            throws Exception {
        JwtAuthority authority = authority(algorithm, type, AUTHORITY_END);
        IssuedJwtSvid svid = issuer.issue(authority, SUBJECT, List.of("spiffe://example.org/db"),
                Duration.ofMinutes(5), Optional.empty());

        JwtSvid validated = validator(authority).validate(svid.token(), "spiffe://example.org/db");
        assertEquals(SUBJECT, validated.spiffeId());
        assertEquals(algorithm.jwsName(), validated.algorithm());
        assertEquals(authority.keyId(), validated.keyId());
        assertEquals(NOW.plus(Duration.ofMinutes(5)), validated.expiry());

        SignedJWT jwt = SignedJWT.parse(svid.token());
        JWSVerifier verifier = type.isEc() ? new ECDSAVerifier((ECPublicKey) authority.key().publicKey())
                : new RSASSAVerifier((RSAPublicKey) authority.key().publicKey());
        assertTrue(jwt.verify(verifier), "nimbus verifies the signature with the public key");

        Map<String, Object> header = jwt.getHeader().toJSONObject();
        assertEquals(Map.of("alg", algorithm.jwsName(), "kid", authority.keyId(), "typ", "JWT"), header);
        Map<String, Object> claims = JSONObjectUtils.parse(jwt.getPayload().toString());
        assertEquals(Map.of("sub", SUBJECT.toString(), "aud", "spiffe://example.org/db",
                "exp", NOW.plus(Duration.ofMinutes(5)).getEpochSecond(), "iat", NOW.getEpochSecond()), claims);
        assertEquals(NOW, svid.issuedAt());
        assertEquals(NOW.plus(Duration.ofMinutes(5)), svid.expiresAt());
        assertFalse(svid.toString().contains(svid.token()), "toString leaves the bearer token out");
    }

    @Test
    void issue_severalAudiencesAndIssuer_audIsArrayAndIssPresent() throws Exception {
        JwtAuthority authority = authority(SignatureAlgorithm.ECDSA_SHA256, KeyType.EC_P256, AUTHORITY_END);
        List<String> audience = List.of("db", "cache \"primary\" \\ \u00e9\ud83d\ude00");
        IssuedJwtSvid svid = issuer.issue(authority, SUBJECT, audience, Duration.ofMinutes(5),
                Optional.of(URI.create("https://oidc.example.org")));

        SignedJWT jwt = SignedJWT.parse(svid.token());
        Map<String, Object> claims = JSONObjectUtils.parse(jwt.getPayload().toString());
        assertEquals(audience, claims.get("aud"), "aud is an array that round-trips escaped characters");
        assertEquals("https://oidc.example.org", claims.get("iss"));
        assertEquals(audience, validator(authority).validate(svid.token(), audience.get(1)).audience());
        assertEquals(audience, svid.audience());
    }

    @Test
    void issue_ttlBeyondAuthorityEnd_expCappedAtNotAfter() throws Exception {
        Instant end = NOW.plus(Duration.ofMinutes(2));
        JwtAuthority authority = authority(SignatureAlgorithm.ECDSA_SHA256, KeyType.EC_P256, end);
        IssuedJwtSvid svid = issuer.issue(authority, SUBJECT, List.of("db"), Duration.ofMinutes(5), Optional.empty());
        assertEquals(end, svid.expiresAt());
        assertEquals(end, validator(authority).validate(svid.token(), "db").expiry());
    }

    @Test
    void issue_expiredAuthority_refusedAsAuthorityProblem() {
        JwtAuthority authority = authority(SignatureAlgorithm.ECDSA_SHA256, KeyType.EC_P256, NOW);
        JwtSvidIssuanceException e = assertThrows(JwtSvidIssuanceException.class,
                () -> issuer.issue(authority, SUBJECT, List.of("db"), Duration.ofMinutes(5), Optional.empty()));
        assertEquals(Reason.AUTHORITY_UNUSABLE, e.reason());
        assertTrue(e.getMessage().startsWith(JwtSvidIssuer.AUTHORITY_EXPIRED), e.getMessage());
    }

    static Stream<Arguments> badAudiences() {
        List<String> tooMany = new ArrayList<>();
        for (int i = 0; i <= JwtSvidIssuer.MAX_AUDIENCES; i++) {
            tooMany.add("aud" + i);
        }
        return Stream.of(
                Arguments.of("null", null, JwtSvidIssuer.NO_AUDIENCE),
                Arguments.of("none", List.of(), JwtSvidIssuer.NO_AUDIENCE),
                Arguments.of("too many", tooMany, JwtSvidIssuer.TOO_MANY_AUDIENCES),
                Arguments.of("empty", List.of("db", ""), JwtSvidIssuer.EMPTY_AUDIENCE),
                Arguments.of("null element", Arrays.asList("db", null), JwtSvidIssuer.EMPTY_AUDIENCE),
                Arguments.of("too long", List.of("a".repeat(JwtSvidIssuer.MAX_AUDIENCE_CHARS + 1)),
                        JwtSvidIssuer.AUDIENCE_TOO_LONG),
                Arguments.of("control character", List.of("db\n"), JwtSvidIssuer.AUDIENCE_BAD_CHARACTER),
                Arguments.of("unpaired surrogate", List.of("db\ud83d"), JwtSvidIssuer.AUDIENCE_BAD_CHARACTER),
                Arguments.of("lone low surrogate", List.of("\ude00db"), JwtSvidIssuer.AUDIENCE_BAD_CHARACTER));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badAudiences")
    void issue_badAudience_refused(String name, List<String> audience, String message) {
        JwtAuthority authority = authority(SignatureAlgorithm.ECDSA_SHA256, KeyType.EC_P256, AUTHORITY_END);
        JwtSvidIssuanceException e = assertThrows(JwtSvidIssuanceException.class,
                () -> issuer.issue(authority, SUBJECT, audience, Duration.ofMinutes(5), Optional.empty()));
        assertEquals(Reason.INVALID_AUDIENCE, e.reason());
        assertEquals(message, e.getMessage());
    }

    @Test
    void issue_maximalAudience_accepted() throws Exception {
        JwtAuthority authority = authority(SignatureAlgorithm.ECDSA_SHA256, KeyType.EC_P256, AUTHORITY_END);
        List<String> audience = Collections.nCopies(JwtSvidIssuer.MAX_AUDIENCES,
                "a".repeat(JwtSvidIssuer.MAX_AUDIENCE_CHARS));
        IssuedJwtSvid svid = issuer.issue(authority, SUBJECT, audience, Duration.ofMinutes(5), Optional.empty());
        assertEquals(SUBJECT, validator(authority).validate(svid.token(), audience.get(0)).spiffeId());
    }

    static Stream<Duration> badTtls() {
        return Stream.of(Duration.ZERO, Duration.ofMinutes(-1), Duration.ofMillis(500));
    }

    @ParameterizedTest
    @MethodSource("badTtls")
    void issue_ttlUnderOneSecond_refused(Duration ttl) {
        JwtAuthority authority = authority(SignatureAlgorithm.ECDSA_SHA256, KeyType.EC_P256, AUTHORITY_END);
        JwtSvidIssuanceException e = assertThrows(JwtSvidIssuanceException.class,
                () -> issuer.issue(authority, SUBJECT, List.of("db"), ttl, Optional.empty()));
        assertEquals(Reason.INVALID_TTL, e.reason());
        assertEquals(JwtSvidIssuer.TTL_NOT_POSITIVE, e.getMessage());
    }

    @Test
    void issue_subjectOutsideTrustDomain_refused() {
        JwtAuthority authority = authority(SignatureAlgorithm.ECDSA_SHA256, KeyType.EC_P256, AUTHORITY_END);
        JwtSvidIssuanceException e = assertThrows(JwtSvidIssuanceException.class, () -> issuer.issue(authority,
                SpiffeId.parse("spiffe://other.org/web"), List.of("db"), Duration.ofMinutes(5), Optional.empty()));
        assertEquals(Reason.INVALID_SPIFFE_ID, e.reason());
        assertEquals(JwtSvidIssuer.ID_NOT_IN_TRUST_DOMAIN + " example.org: spiffe://other.org/web", e.getMessage());
    }

    @Test
    void issue_trustDomainId_refused() {
        JwtAuthority authority = authority(SignatureAlgorithm.ECDSA_SHA256, KeyType.EC_P256, AUTHORITY_END);
        JwtSvidIssuanceException e = assertThrows(JwtSvidIssuanceException.class, () -> issuer.issue(authority,
                TestAuthorities.TRUST_DOMAIN.id(), List.of("db"), Duration.ofMinutes(5), Optional.empty()));
        assertEquals(JwtSvidIssuer.ID_HAS_NO_PATH, e.getMessage());
    }

    @Test
    void issue_relativeIssuer_refused() {
        JwtAuthority authority = authority(SignatureAlgorithm.ECDSA_SHA256, KeyType.EC_P256, AUTHORITY_END);
        JwtSvidIssuanceException e = assertThrows(JwtSvidIssuanceException.class, () -> issuer.issue(authority,
                SUBJECT, List.of("db"), Duration.ofMinutes(5), Optional.of(URI.create("oidc.example.org"))));
        assertEquals(JwtSvidIssuer.ISSUER_NOT_ABSOLUTE, e.getMessage());
    }

    static Stream<Arguments> misfits() {
        return Stream.of(
                Arguments.of(SignatureAlgorithm.ECDSA_SHA512, KeyType.EC_P256,
                        "ES512 needs a P-521 key, which Bourne's key managers do not make"),
                Arguments.of(SignatureAlgorithm.ECDSA_SHA256, KeyType.EC_P384, "ES256 needs an ec-p256 key, not ec-p384"),
                Arguments.of(SignatureAlgorithm.ECDSA_SHA384, KeyType.EC_P256, "ES384 needs an ec-p384 key, not ec-p256"));
    }

    @ParameterizedTest
    @MethodSource("misfits")
    void issue_algorithmNotFittingTheCurve_refused(SignatureAlgorithm algorithm, KeyType type, String message) {
        JwtAuthority authority = authority(algorithm, type, AUTHORITY_END);
        JwtSvidIssuanceException e = assertThrows(JwtSvidIssuanceException.class,
                () -> issuer.issue(authority, SUBJECT, List.of("db"), Duration.ofMinutes(5), Optional.empty()));
        assertEquals(Reason.AUTHORITY_UNUSABLE, e.reason());
        assertEquals(message, e.getMessage());
        assertEquals(message, assertThrows(IllegalArgumentException.class,
                () -> JwtSvidIssuer.algorithm(algorithm.jwsName(), type)).getMessage());
    }

    @ParameterizedTest
    @EnumSource(KeyType.class)
    void defaultAlgorithm_fitsEveryKeyType(KeyType type) {
        SignatureAlgorithm algorithm = JwtSvidIssuer.defaultAlgorithm(type);
        assertNull(JwtSvidIssuer.fitProblem(algorithm, type));
        assertEquals(algorithm, JwtSvidIssuer.algorithm(algorithm.jwsName(), type));
        assertEquals(type == KeyType.EC_P256 ? "ES256" : type == KeyType.EC_P384 ? "ES384" : "RS256",
                algorithm.jwsName());
    }

    @Test
    void algorithm_unknownOrSymmetricName_refused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> JwtSvidIssuer.algorithm("HS256", KeyType.EC_P256));
        assertTrue(e.getMessage().startsWith("unknown JWS algorithm HS256"), e.getMessage());
        assertEquals("RS256 cannot sign with a ec-p256 key", assertThrows(IllegalArgumentException.class,
                () -> JwtSvidIssuer.algorithm("RS256", KeyType.EC_P256)).getMessage());
    }

    @Test
    void issue_keyManagerFailure_propagatesAsKeyManagerException() {
        ManagedKey down = new X509SvidIssuerTest.UnavailableKey(KEYS.get(KeyType.EC_P256));
        JwtAuthority authority = new JwtAuthority("JWT-Signer-A", down, "kid", AUTHORITY_END,
                SignatureAlgorithm.ECDSA_SHA256);
        HsmUnavailableException e = assertThrows(HsmUnavailableException.class,
                () -> issuer.issue(authority, SUBJECT, List.of("db"), Duration.ofMinutes(5), Optional.empty()));
        assertEquals(X509SvidIssuerTest.UnavailableKey.MESSAGE, e.getMessage());
    }

    @Test
    void issue_twoAuthorities_eachTokenNamesItsOwnKid() throws Exception {
        JwtAuthority a = authority(SignatureAlgorithm.ECDSA_SHA256, KeyType.EC_P256, AUTHORITY_END);
        JwtAuthority b = new JwtAuthority("JWT-Signer-B", KEYS.get(KeyType.RSA_2048), "kid-b", AUTHORITY_END,
                SignatureAlgorithm.RSA_PSS_SHA256);
        for (int i = 0; i < 3; i++) {
            String tokenA = issuer.issue(a, SUBJECT, List.of("db"), Duration.ofMinutes(5), Optional.empty()).token();
            String tokenB = issuer.issue(b, SUBJECT, List.of("db"), Duration.ofMinutes(5), Optional.empty()).token();
            assertEquals("kid-ES256", SignedJWT.parse(tokenA).getHeader().getKeyID());
            assertEquals("kid-b", SignedJWT.parse(tokenB).getHeader().getKeyID());
            validator(b).validate(tokenB, "db");
        }
        String header = new Base64URL(issuer.issue(a, SUBJECT, List.of("db"), Duration.ofMinutes(5),
                Optional.empty()).token().split("\\.")[0]).decodeToString();
        assertEquals("{\"alg\":\"ES256\",\"kid\":\"kid-ES256\",\"typ\":\"JWT\"}", header);
    }

    private static JwtSvidValidator validator(JwtAuthority authority) {
        BundleSource bundles = BundleSource.of(SpiffeBundle.of(TestAuthorities.TRUST_DOMAIN, List.of(),
                Map.of(authority.keyId(), authority.key().publicKey())));
        return new JwtSvidValidator(bundles, CLOCK, Duration.ZERO, null);
    }
}
