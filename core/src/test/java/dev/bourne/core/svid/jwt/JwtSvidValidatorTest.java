package dev.bourne.core.svid.jwt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import dev.bourne.core.bundle.BundleSource;
import dev.bourne.core.bundle.SpiffeBundle;
import dev.bourne.core.spiffeid.TrustDomain;
import dev.bourne.testing.pki.TestKeys;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class JwtSvidValidatorTest {
    private static final BouncyCastleProvider BC = new BouncyCastleProvider();
    private static final Instant NOW = Instant.parse("2026-12-03T12:00:00Z");
    private static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);
    private static final TrustDomain TD = TrustDomain.parse("example.org");
    private static final KeyPair EC = TestKeys.ecP256(10);
    private static final KeyPair P384 = TestKeys.ecP384(10);
    private static final KeyPair RSA = TestKeys.rsa2048(0);
    private static final KeyPair RSA_1024 = rsa1024();
    private static final BundleSource BUNDLES;

    static {
        Map<String, PublicKey> keys = new LinkedHashMap<>();
        keys.put("ec", EC.getPublic());
        keys.put("p384", P384.getPublic());
        keys.put("rsa", RSA.getPublic());
        keys.put("rsa1024", RSA_1024.getPublic());
        BUNDLES = BundleSource.of(List.of(
                SpiffeBundle.of(TD, List.of(), keys),
                SpiffeBundle.of(TrustDomain.parse("other.org"), List.of(),
                        Map.of("other", TestKeys.ecP256(11).getPublic()))));
    }

    private final JwtSvidValidator validator = new JwtSvidValidator(BUNDLES, CLOCK, Duration.ofSeconds(30), BC);

    private static JWTClaimsSet.Builder claims() {
        return new JWTClaimsSet.Builder()
                .subject("spiffe://example.org/web")
                .audience("vault")
                .issueTime(Date.from(NOW.minusSeconds(60)))
                .expirationTime(Date.from(NOW.plusSeconds(240)));
    }

    private static String sign(JWSAlgorithm alg, String kid, KeyPair key, JWTClaimsSet claims,
            UnaryOperator<JWSHeader.Builder> header) throws Exception {
        JWSHeader.Builder builder = new JWSHeader.Builder(alg).type(JOSEObjectType.JWT);
        if (kid != null) {
            builder.keyID(kid);
        }
        SignedJWT jwt = new SignedJWT(header.apply(builder).build(), claims);
        JWSSigner signer = key.getPrivate().getAlgorithm().equals("EC")
                ? new ECDSASigner((java.security.interfaces.ECPrivateKey) key.getPrivate())
                : new RSASSASigner(key.getPrivate(), true); // allow weak keys: one test needs an RSA-1024 token
        jwt.sign(signer);
        return jwt.serialize();
    }

    private static String es256(JWTClaimsSet claims) throws Exception {
        return sign(JWSAlgorithm.ES256, "ec", EC, claims, h -> h);
    }

    static Stream<Arguments> acceptedAlgorithms() {
        return Stream.of(
                Arguments.of(JWSAlgorithm.ES256, "ec", EC),
                Arguments.of(JWSAlgorithm.ES384, "p384", P384),
                Arguments.of(JWSAlgorithm.RS256, "rsa", RSA),
                Arguments.of(JWSAlgorithm.RS512, "rsa", RSA),
                Arguments.of(JWSAlgorithm.PS256, "rsa", RSA),
                Arguments.of(JWSAlgorithm.PS384, "rsa", RSA));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("acceptedAlgorithms")
    void validate_allowedAlgorithm_accepted(JWSAlgorithm alg, String kid, KeyPair key) throws Exception {
        String token = sign(alg, kid, key, claims().build(), h -> h);
        JwtSvid svid = validator.validate(token, "vault");
        assertEquals("spiffe://example.org/web", svid.spiffeId().toString());
        assertEquals(List.of("vault"), svid.audience());
        assertEquals(kid, svid.keyId());
        assertEquals(alg.getName(), svid.algorithm());
        assertEquals(NOW.plusSeconds(240), svid.expiry());
        assertEquals(token, svid.token());
    }

    @Test
    void validate_typJoseOrAbsent_accepted() throws Exception {
        validator.validate(sign(JWSAlgorithm.ES256, "ec", EC, claims().build(),
                h -> h.type(JOSEObjectType.JOSE)), "vault");
        validator.validate(sign(JWSAlgorithm.ES256, "ec", EC, claims().build(), h -> h.type(null)), "vault");
    }

    @Test
    void validate_audienceAmongSeveral_accepted() throws Exception {
        JwtSvid svid = validator.validate(es256(claims().audience(List.of("db", "vault")).build()), "vault");
        assertEquals(List.of("db", "vault"), svid.audience());
    }

    @Test
    void validate_expiredWithinSkew_accepted() throws Exception {
        validator.validate(es256(claims().expirationTime(Date.from(NOW.minusSeconds(20))).build()), "vault");
    }

    static Stream<Arguments> rejected() throws Exception {
        String valid = es256(claims().build());
        String[] parts = valid.split("\\.");
        String otherPayload = es256(claims().subject("spiffe://example.org/admin").build()).split("\\.")[1];
        return Stream.of(
                Arguments.of("empty", "", JwtSvidValidator.EMPTY),
                Arguments.of("oversized", "a".repeat(JwtSvidValidator.MAX_TOKEN_CHARS + 1),
                        JwtSvidValidator.TOO_LONG),
                Arguments.of("two parts", parts[0] + "." + parts[1], JwtSvidValidator.NOT_COMPACT_JWS),
                Arguments.of("four parts", valid + ".x", JwtSvidValidator.NOT_COMPACT_JWS),
                Arguments.of("garbage", "a.b.c", "token is malformed: "),
                Arguments.of("alg none", new PlainJWT(claims().build()).serialize(), JwtSvidValidator.ALG_NONE),
                Arguments.of("alg none with signature", noneHeader() + "." + parts[1] + "." + parts[2],
                        JwtSvidValidator.ALG_NONE),
                Arguments.of("HS256 keyed with the public key", hs256WithPublicKey(),
                        "algorithm \"HS256\" is not allowed: JWT-SVIDs use RS, ES or PS with SHA-256, SHA-384 "
                                + "or SHA-512"),
                Arguments.of("typ at+jwt", sign(JWSAlgorithm.ES256, "ec", EC, claims().build(),
                        h -> h.type(new JOSEObjectType("at+jwt"))),
                        "header \"typ\" must be \"JWT\" or \"JOSE\", got \"at+jwt\""),
                Arguments.of("crit", sign(JWSAlgorithm.ES256, "ec", EC, claims().build(),
                        h -> h.criticalParams(Set.of("exp")).customParam("exp", 1)),
                        "header \"crit\" lists extensions this validator does not understand"),
                Arguments.of("no kid", sign(JWSAlgorithm.ES256, null, EC, claims().build(), h -> h),
                        JwtSvidValidator.MISSING_KID),
                Arguments.of("unknown kid", sign(JWSAlgorithm.ES256, "nope", EC, claims().build(), h -> h),
                        "no JWT authority with key ID \"nope\" in the bundle of example.org"),
                Arguments.of("kid of another domain", sign(JWSAlgorithm.ES256, "other", TestKeys.ecP256(11),
                        claims().build(), h -> h), "no JWT authority with key ID \"other\" in the bundle of "
                        + "example.org"),
                Arguments.of("untrusted domain", es256(claims().subject("spiffe://evil.org/web").build()),
                        "no bundle for trust domain evil.org"),
                Arguments.of("no sub", es256(claims().subject(null).build()), JwtSvidValidator.MISSING_SUB),
                Arguments.of("sub not SPIFFE", es256(claims().subject("web").build()),
                        "claim \"sub\" is not a SPIFFE ID: invalid SPIFFE ID \"web\": scheme is missing or "
                                + "invalid: a SPIFFE ID starts with \"spiffe://\""),
                Arguments.of("sub trust domain", es256(claims().subject("spiffe://example.org").build()),
                        "claim \"sub\" must name a workload, not a trust domain"),
                Arguments.of("sub number", es256(claims().subject(null).claim("sub", 5).build()),
                        "claim \"sub\" is not a SPIFFE ID: invalid SPIFFE ID \"5\""),
                Arguments.of("aud number", es256(claims().audience((String) null).claim("aud", 7).build()),
                        JwtSvidValidator.MISSING_AUD),
                Arguments.of("no aud", es256(claims().audience((String) null).build()),
                        JwtSvidValidator.MISSING_AUD),
                Arguments.of("wrong aud", es256(claims().audience("db").build()),
                        "audience \"vault\" is not in the token's \"aud\""),
                Arguments.of("no exp", es256(claims().expirationTime(null).build()), JwtSvidValidator.MISSING_EXP),
                Arguments.of("expired", es256(claims().expirationTime(Date.from(NOW.minusSeconds(31))).build()),
                        "token expired at 2026-12-03T11:59:29Z"),
                Arguments.of("not yet valid", es256(claims().notBeforeTime(Date.from(NOW.plusSeconds(60))).build()),
                        "token is not valid before 2026-12-03T12:01:00Z"),
                Arguments.of("forged signature", sign(JWSAlgorithm.ES256, "ec", TestKeys.ecP256(12),
                        claims().build(), h -> h), JwtSvidValidator.BAD_SIGNATURE),
                Arguments.of("swapped payload", parts[0] + "." + otherPayload + "." + parts[2],
                        JwtSvidValidator.BAD_SIGNATURE),
                Arguments.of("empty signature", parts[0] + "." + parts[1] + ".", "token is malformed: "),
                Arguments.of("ES256 with a P-384 key", withHeader("{\"alg\":\"ES256\",\"kid\":\"p384\"}",
                        sign(JWSAlgorithm.ES384, "p384", P384, claims().build(), h -> h)), "algorithm ES256 does not match the curve of key \"p384\""),
                Arguments.of("RS256 with an EC key", sign(JWSAlgorithm.ES256, "rsa", EC, claims().build(), h -> h),
                        "algorithm ES256 needs an EC key, but key \"rsa\" is RSA"),
                Arguments.of("RSA-1024", sign(JWSAlgorithm.RS256, "rsa1024", RSA_1024, claims().build(), h -> h),
                        "RSA key \"rsa1024\" is shorter than 2048 bits"));
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @MethodSource("rejected")
    void validate_invalid_rejectedWithReason(String name, String token, String expectedStart) {
        JwtSvidException e = assertThrows(JwtSvidException.class, () -> validator.validate(token, "vault"));
        assertTrue(e.getMessage().startsWith(expectedStart), "got: " + e.getMessage());
    }

    @Test
    void constructor_excessiveSkew_refused() {
        assertThrows(IllegalArgumentException.class,
                () -> new JwtSvidValidator(BUNDLES, CLOCK, Duration.ofMinutes(6), BC));
    }

    @Test
    void toString_neverContainsToken() throws Exception {
        String token = es256(claims().build());
        JwtSvid svid = validator.validate(token, "vault");
        assertFalse(svid.toString().contains(token.split("\\.")[2]));
        assertFalse(svid.toString().contains(token.split("\\.")[1]));
    }

    /** The token with its header replaced: the signature no longer matches, which checks before it must catch. */
    private static String withHeader(String headerJson, String token) {
        String[] parts = token.split("\\.");
        return Base64.getUrlEncoder().withoutPadding().encodeToString(headerJson.getBytes()) + "." + parts[1] + "."
                + parts[2];
    }

    private static String noneHeader() {
        return Base64.getUrlEncoder().withoutPadding().encodeToString("{\"alg\":\"none\",\"kid\":\"ec\"}".getBytes());
    }

    private static String hs256WithPublicKey() throws Exception {
        // The classic confusion attack: HMAC keyed with the verifier's public key bytes.
        byte[] secret = RSA.getPublic().getEncoded();
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.HS256).keyID("rsa").build(),
                claims().build());
        jwt.sign(new MACSigner(secret));
        return jwt.serialize();
    }

    private static KeyPair rsa1024() {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
            generator.initialize(1024);
            return generator.generateKeyPair();
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
