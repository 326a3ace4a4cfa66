package dev.bourne.core.svid.jwt;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.bourne.core.bundle.BundleSource;
import dev.bourne.core.bundle.SpiffeBundle;
import dev.bourne.core.internal.Texts;
import dev.bourne.core.spiffeid.InvalidSpiffeIdException;
import dev.bourne.core.spiffeid.SpiffeId;
import java.nio.charset.StandardCharsets;
import java.security.Provider;
import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Validates JWT-SVIDs: signature with the issuing trust domain's JWT authority, and every header and claim rule of
 * the JWT-SVID specification.
 *
 * <p>Only the asymmetric algorithms the specification lists are accepted ({@code RS}, {@code ES}, {@code PS} with 256,
 * 384 or 512): {@code none} and HMAC are refused before any key is looked at, so a public key can never be used as an
 * HMAC secret. The key's type and curve must match the algorithm. Expiry is checked against the injected clock with a
 * bounded skew. Signatures are checked with the JCA provider given to the constructor (BouncyCastle's is about five
 * times faster than the JDK's for ECDSA here), never a globally registered one.
 *
 * @see <a href="https://github.com/spiffe/spiffe/blob/main/standards/JWT-SVID.md">JWT-SVID.md</a>
 */
public final class JwtSvidValidator {
    /** Tokens longer than this are refused unparsed; real JWT-SVIDs are well under 2 KiB. */
    public static final int MAX_TOKEN_CHARS = 16 * 1024;
    /** The most clock skew a validator may be configured to tolerate. */
    public static final Duration MAX_SKEW = Duration.ofMinutes(5);
    /** The minimum RSA modulus accepted for a JWT authority. */
    public static final int MIN_RSA_BITS = 2048;

    public static final Set<JWSAlgorithm> ALLOWED_ALGORITHMS = Set.of(
            JWSAlgorithm.RS256, JWSAlgorithm.RS384, JWSAlgorithm.RS512,
            JWSAlgorithm.ES256, JWSAlgorithm.ES384, JWSAlgorithm.ES512,
            JWSAlgorithm.PS256, JWSAlgorithm.PS384, JWSAlgorithm.PS512);

    public static final String EMPTY = "token is empty";
    public static final String TOO_LONG = "token is longer than " + MAX_TOKEN_CHARS + " characters";
    public static final String NOT_COMPACT_JWS = "token is not a compact JWS (three base64url parts)";
    public static final String ALG_NONE = "algorithm \"none\" is not allowed";
    public static final String MISSING_KID = "header has no \"kid\"";
    public static final String MISSING_SUB = "claim \"sub\" is required";
    public static final String MISSING_AUD = "claim \"aud\" is required";
    public static final String MISSING_EXP = "claim \"exp\" is required";
    public static final String BAD_SIGNATURE = "signature does not verify";

    private final BundleSource bundles;
    private final Clock clock;
    private final Duration skew;
    private final Provider provider;

    /**
     * @param bundles where JWT authorities are found, by the trust domain of the token's subject
     * @param clock the time expiry is checked against
     * @param skew how far past {@code exp} a token is still accepted, at most {@link #MAX_SKEW}
     * @param provider the JCA provider that verifies signatures, or {@code null} for the JDK default
     */
    public JwtSvidValidator(BundleSource bundles, Clock clock, Duration skew, Provider provider) {
        this.bundles = Objects.requireNonNull(bundles, "bundles");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.skew = Objects.requireNonNull(skew, "skew");
        if (skew.isNegative() || skew.compareTo(MAX_SKEW) > 0) {
            throw new IllegalArgumentException("clock skew must be between 0 and " + MAX_SKEW);
        }
        this.provider = provider;
    }

    /**
     * Validates {@code token} for a relying party known as {@code audience}.
     *
     * @throws JwtSvidException naming the first rule the token breaks
     */
    public JwtSvid validate(String token, String audience) throws JwtSvidException {
        Objects.requireNonNull(audience, "audience");
        if (audience.isEmpty()) {
            throw new IllegalArgumentException("the expected audience must not be empty");
        }
        SignedJWT jwt = parseCompact(token);
        JWSHeader header = jwt.getHeader();
        JWSAlgorithm algorithm = header.getAlgorithm();
        if (!ALLOWED_ALGORITHMS.contains(algorithm)) {
            throw new JwtSvidException("algorithm " + Texts.quote(algorithm.getName())
                    + " is not allowed: JWT-SVIDs use RS, ES or PS with SHA-256, SHA-384 or SHA-512");
        }
        JOSEObjectType type = header.getType();
        if (type != null && !type.getType().equals("JWT") && !type.getType().equals("JOSE")) {
            throw new JwtSvidException("header \"typ\" must be \"JWT\" or \"JOSE\", got "
                    + Texts.quote(type.getType()));
        }
        if (header.getCriticalParams() != null && !header.getCriticalParams().isEmpty()) {
            throw new JwtSvidException("header \"crit\" lists extensions this validator does not understand: "
                    + header.getCriticalParams());
        }
        String keyId = header.getKeyID();
        if (keyId == null || keyId.isEmpty()) {
            throw new JwtSvidException(MISSING_KID);
        }
        JWTClaimsSet claims;
        try {
            claims = jwt.getJWTClaimsSet();
        } catch (ParseException e) {
            throw new JwtSvidException("claims are not a valid JWT claims set: " + e.getMessage(), e);
        }
        SpiffeId subject = subject(claims);

        SpiffeBundle bundle = bundles.bundleFor(subject.trustDomain())
                .orElseThrow(() -> new JwtSvidException("no bundle for trust domain " + subject.trustDomain()));
        PublicKey key = bundle.jwtAuthorities().get(keyId);
        if (key == null) {
            throw new JwtSvidException("no JWT authority with key ID " + Texts.quote(keyId)
                    + " in the bundle of " + subject.trustDomain());
        }
        verifySignature(jwt, algorithm, key);

        List<String> tokenAudience = claims.getAudience();
        if (tokenAudience == null || tokenAudience.isEmpty()) {
            throw new JwtSvidException(MISSING_AUD);
        }
        if (!tokenAudience.contains(audience)) {
            throw new JwtSvidException("audience " + Texts.quote(audience) + " is not in the token's \"aud\"");
        }
        Date expiry = claims.getExpirationTime();
        if (expiry == null) {
            throw new JwtSvidException(MISSING_EXP);
        }
        Instant now = clock.instant();
        if (now.isAfter(expiry.toInstant().plus(skew))) {
            throw new JwtSvidException("token expired at " + expiry.toInstant());
        }
        Date notBefore = claims.getNotBeforeTime();
        if (notBefore != null && now.plus(skew).isBefore(notBefore.toInstant())) {
            throw new JwtSvidException("token is not valid before " + notBefore.toInstant());
        }
        return new JwtSvid(token, subject, tokenAudience, expiry.toInstant(), keyId, algorithm.getName(),
                claims.toJSONObject());
    }

    private static SignedJWT parseCompact(String token) throws JwtSvidException {
        if (token == null || token.isEmpty()) {
            throw new JwtSvidException(EMPTY);
        }
        if (token.length() > MAX_TOKEN_CHARS) {
            throw new JwtSvidException(TOO_LONG);
        }
        int first = token.indexOf('.');
        int second = first < 0 ? -1 : token.indexOf('.', first + 1);
        if (first <= 0 || second < 0 || token.indexOf('.', second + 1) >= 0) {
            throw new JwtSvidException(NOT_COMPACT_JWS);
        }
        if (isAlgNone(token.substring(0, first))) {
            throw new JwtSvidException(ALG_NONE);
        }
        try {
            return SignedJWT.parse(token);
        } catch (ParseException e) {
            throw new JwtSvidException("token is malformed: " + e.getMessage(), e);
        }
    }

    /** Whether the header declares {@code alg: none}, which the JWS parser reports only as "not a JWS header". */
    private static boolean isAlgNone(String encodedHeader) {
        try {
            String json = new String(Base64.getUrlDecoder().decode(encodedHeader), StandardCharsets.UTF_8);
            Map<String, Object> header = com.nimbusds.jose.util.JSONObjectUtils.parse(json, MAX_TOKEN_CHARS);
            Object alg = header.get("alg");
            return alg instanceof String name && name.equalsIgnoreCase("none");
        } catch (IllegalArgumentException | ParseException e) {
            return false; // SignedJWT.parse reports the malformed header with its own message
        }
    }

    private static SpiffeId subject(JWTClaimsSet claims) throws JwtSvidException {
        Object sub = claims.getClaim("sub");
        if (sub == null) {
            throw new JwtSvidException(MISSING_SUB);
        }
        if (!(sub instanceof String text)) {
            throw new JwtSvidException("claim \"sub\" must be a string");
        }
        try {
            SpiffeId id = SpiffeId.parse(text);
            if (id.isTrustDomainId()) {
                throw new JwtSvidException("claim \"sub\" must name a workload, not a trust domain");
            }
            return id;
        } catch (InvalidSpiffeIdException e) {
            throw new JwtSvidException("claim \"sub\" is not a SPIFFE ID: " + e.getMessage(), e);
        }
    }

    private void verifySignature(SignedJWT jwt, JWSAlgorithm algorithm, PublicKey key) throws JwtSvidException {
        JWSVerifier verifier;
        try {
            if (JWSAlgorithm.Family.EC.contains(algorithm)) {
                if (!(key instanceof ECPublicKey ec)) {
                    throw new JwtSvidException("algorithm " + algorithm + " needs an EC key, but key "
                            + Texts.quote(jwt.getHeader().getKeyID()) + " is " + key.getAlgorithm());
                }
                Curve curve = Curve.forECParameterSpec(ec.getParams());
                if (curve == null || !Curve.forJWSAlgorithm(algorithm).contains(curve)) {
                    throw new JwtSvidException("algorithm " + algorithm + " does not match the curve of key "
                            + Texts.quote(jwt.getHeader().getKeyID()));
                }
                verifier = new ECDSAVerifier(ec);
            } else {
                if (!(key instanceof RSAPublicKey rsa)) {
                    throw new JwtSvidException("algorithm " + algorithm + " needs an RSA key, but key "
                            + Texts.quote(jwt.getHeader().getKeyID()) + " is " + key.getAlgorithm());
                }
                if (rsa.getModulus().bitLength() < MIN_RSA_BITS) {
                    throw new JwtSvidException("RSA key " + Texts.quote(jwt.getHeader().getKeyID())
                            + " is shorter than " + MIN_RSA_BITS + " bits");
                }
                verifier = new RSASSAVerifier(rsa);
            }
            if (provider != null) {
                verifier.getJCAContext().setProvider(provider);
            }
            if (!jwt.verify(verifier)) {
                throw new JwtSvidException(BAD_SIGNATURE);
            }
        } catch (JOSEException e) {
            throw new JwtSvidException("signature cannot be verified: " + e.getMessage(), e);
        }
    }
}
