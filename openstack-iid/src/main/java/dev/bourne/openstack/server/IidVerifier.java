package dev.bourne.openstack.server;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jose.util.JSONObjectUtils;
import dev.bourne.openstack.common.IidClaims;
import dev.bourne.openstack.common.OpenStackIid;
import dev.bourne.openstack.server.IidAttestationException.Kind;
import dev.bourne.openstack.server.JwksSource.KeysUnavailableException;
import dev.bourne.openstack.server.JwksSource.TrustedKey;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.Provider;
import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.bouncycastle.jce.provider.BouncyCastleProvider;

/**
 * Verifies an instance identity document: a compact JWS (RFC 7515 section 7.1) signed by the vendordata service,
 * whose claims are an {@link IidClaims}. It answers whether the document is authentic and current; what the server
 * then admits (project allowlist, single use, Nova) is {@link OpenStackServerAttestor}'s.
 *
 * <p>The checks run in a fixed order, each refusing with a constant message: size and compact shape; the header,
 * bounded, as JSON; {@code alg} in the allowlist before any key is looked up, so {@code none} and the HMAC key
 * confusion attack (HS256 keyed with the public key's bytes) never reach a key; {@code typ} =
 * {@value OpenStackIid#JWS_TYPE}, so another JWT signed by the same keys cannot pass as an IID; no {@code crit}
 * (no extension is understood, RFC 7515 section 4.1.11); a {@code kid} known to the configured {@link JwksSource};
 * a key of the kind the algorithm needs; the signature, over the bytes as sent; then the claims, {@code iss} exactly,
 * {@code aud} containing ours, {@code exp} and {@code iat} within the clock skew.
 *
 * <p>Header members that point at keys ({@code jwk}, {@code jku}, {@code x5u}, {@code x5c}) are ignored: keys come from
 * the configuration, never from the document.
 *
 * <p>Thread-safe: holds no per-document state; the key cache is shared.
 */
public final class IidVerifier {

    /** Largest decoded JWS header: ours is about 100 bytes ({@code alg}, {@code kid}, {@code typ}). */
    public static final int MAX_HEADER_BYTES = 1024;

    public static final String TOO_LARGE = "the instance identity document is larger than "
            + OpenStackIid.MAX_JWS_BYTES + " bytes";
    public static final String NOT_COMPACT_JWS = "the instance identity document is not a compact JWS "
            + "(three base64url parts separated by dots)";
    public static final String HEADER_TOO_LARGE = "the JWS header is larger than " + MAX_HEADER_BYTES + " bytes";
    public static final String HEADER_MALFORMED = "the JWS header is not a JSON object of the expected members";
    public static final String ALG_MISSING = "the JWS header has no alg";
    public static final String ALG_NOT_ALLOWED = "the JWS algorithm is not allowed";
    public static final String TYP_WRONG = "the JWS typ is not " + OpenStackIid.JWS_TYPE;
    public static final String CRIT_REFUSED = "the JWS has critical header parameters; none are supported";
    public static final String KID_MISSING = "the JWS header has no kid";
    public static final String KID_UNKNOWN = "the JWS kid names no key of the configured JWK set";
    public static final String KEYS_UNAVAILABLE = "the signing service's keys cannot be loaded; try again later";
    public static final String KEY_ALG_MISMATCH = "the JWS algorithm does not match the kind of its key";
    public static final String SIGNATURE_INVALID = "the JWS signature does not verify";
    public static final String CLAIMS_MALFORMED = "the IID claims are not a UTF-8 JSON object";
    public static final String ISSUER_WRONG = "the IID issuer is not the configured issuer";
    public static final String AUDIENCE_WRONG = "the IID audience does not include this server";
    public static final String EXPIRED = "the IID has expired";
    public static final String ISSUED_IN_FUTURE = "the IID is issued in the future";

    private static final Base64.Decoder BASE64URL = Base64.getUrlDecoder();

    private final String issuer;
    private final String audience;
    private final Set<IidSignatureAlgorithm> algorithms;
    private final Duration maxClockSkew;
    private final JwksSource keys;
    private final Clock clock;
    private final Verifiers verifiers = new Verifiers();

    /**
     * @param issuer the exact {@code iss} accepted
     * @param audience a value {@code aud} must contain
     * @param algorithms the allowlist
     * @param maxClockSkew tolerance for {@code iat} in the future and for {@code exp}
     * @param keys the signing service's public keys
     * @param clock the time documents are checked against
     */
    public IidVerifier(String issuer, String audience, Set<IidSignatureAlgorithm> algorithms, Duration maxClockSkew,
            JwksSource keys, Clock clock) {
        this.issuer = Objects.requireNonNull(issuer, "issuer");
        this.audience = Objects.requireNonNull(audience, "audience");
        this.algorithms = Collections.unmodifiableSet(EnumSet.copyOf(algorithms));
        this.maxClockSkew = Objects.requireNonNull(maxClockSkew, "maxClockSkew");
        this.keys = Objects.requireNonNull(keys, "keys");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /** A verifier for the settings' issuer, audience, algorithms and skew. */
    public static IidVerifier of(OpenStackServerSettings settings, JwksSource keys, Clock clock) {
        return new IidVerifier(settings.issuer(), settings.audience(), settings.algorithms(), settings.maxClockSkew(),
                keys, clock);
    }

    /**
     * An authentic, current document: the key that signed it and its claims.
     *
     * @param kid the {@code kid} of the verifying key
     * @param algorithm the JWS algorithm it was signed with
     * @param claims its claims, checked for issuer, audience and time
     */
    public record Verified(String kid, IidSignatureAlgorithm algorithm, IidClaims claims) {
        public Verified {
            Objects.requireNonNull(kid, "kid");
            Objects.requireNonNull(algorithm, "algorithm");
            Objects.requireNonNull(claims, "claims");
        }
    }

    /**
     * Verifies {@code payload}, the agent's attestation data: the compact JWS as UTF-8 bytes, nothing else.
     *
     * @throws IidAttestationException INVALID_REQUEST for a malformed or oversized document; REJECTED for one that
     *     is not authentic or not current; UNAVAILABLE when no signing key was ever loaded
     */
    public Verified verify(byte[] payload) throws IidAttestationException {
        if (payload == null) {
            throw invalid(NOT_COMPACT_JWS);
        }
        if (payload.length > OpenStackIid.MAX_JWS_BYTES) {
            throw invalid(TOO_LARGE);
        }
        int firstDot = -1;
        int secondDot = -1;
        for (int i = 0; i < payload.length; i++) {
            byte b = payload[i];
            if (b == '.') {
                if (firstDot < 0) {
                    firstDot = i;
                } else if (secondDot < 0) {
                    secondDot = i;
                } else {
                    throw invalid(NOT_COMPACT_JWS);
                }
            } else if (!isBase64Url(b)) {
                throw invalid(NOT_COMPACT_JWS);
            }
        }
        // The signature part may be empty (as with alg none) so that the algorithm check, not this one, refuses it.
        if (firstDot <= 0 || secondDot <= firstDot + 1) {
            throw invalid(NOT_COMPACT_JWS);
        }
        if (firstDot > (MAX_HEADER_BYTES * 4 + 2) / 3) {
            throw invalid(HEADER_TOO_LARGE);
        }
        byte[] headerBytes = decode(payload, 0, firstDot);
        byte[] claimsBytes = decode(payload, firstDot + 1, secondDot);
        byte[] signature = decode(payload, secondDot + 1, payload.length);

        Map<String, Object> header = json(headerBytes, HEADER_MALFORMED);
        IidSignatureAlgorithm algorithm = algorithm(header);
        Object typ = header.get("typ");
        if (!OpenStackIid.JWS_TYPE.equals(typ)) {
            throw rejected(TYP_WRONG);
        }
        if (header.containsKey("crit")) {
            throw rejected(CRIT_REFUSED);
        }
        Object kidValue = header.get("kid");
        if (kidValue == null) {
            throw rejected(KID_MISSING);
        }
        if (!(kidValue instanceof String kid) || kid.isEmpty()) {
            throw invalid(HEADER_MALFORMED);
        }

        TrustedKey key;
        try {
            key = keys.find(kid).orElseThrow(() -> rejected(KID_UNKNOWN));
        } catch (KeysUnavailableException e) {
            throw new IidAttestationException(Kind.UNAVAILABLE, KEYS_UNAVAILABLE, e);
        }
        if (!algorithm.fits(key.key())) {
            throw rejected(KEY_ALG_MISMATCH);
        }
        boolean valid;
        try {
            valid = verifiers.forKey(key.key()).verify(new JWSHeader(algorithm.nimbus()),
                    Arrays.copyOfRange(payload, 0, secondDot), Base64URL.encode(signature));
        } catch (JOSEException e) {
            throw new IidAttestationException(Kind.REJECTED, SIGNATURE_INVALID, e);
        }
        if (!valid) {
            throw rejected(SIGNATURE_INVALID);
        }

        IidClaims claims;
        try {
            claims = IidClaims.fromJson(json(claimsBytes, CLAIMS_MALFORMED));
        } catch (IllegalArgumentException e) {
            // IidClaims' messages are its constants formatted with its own claim names: never the document's values.
            throw new IidAttestationException(Kind.INVALID_REQUEST, e.getMessage(), e);
        } catch (RuntimeException e) {
            throw new IidAttestationException(Kind.INVALID_REQUEST, CLAIMS_MALFORMED, e);
        }
        if (!issuer.equals(claims.issuer())) {
            throw rejected(ISSUER_WRONG);
        }
        if (!claims.audience().contains(audience)) {
            throw rejected(AUDIENCE_WRONG);
        }
        Instant now = clock.instant();
        if (!claims.expiresAt().isAfter(now.minus(maxClockSkew))) {
            throw rejected(EXPIRED);
        }
        if (claims.issuedAt().isAfter(now.plus(maxClockSkew))) {
            throw rejected(ISSUED_IN_FUTURE);
        }
        return new Verified(kid, algorithm, claims);
    }

    private IidSignatureAlgorithm algorithm(Map<String, Object> header) throws IidAttestationException {
        Object alg = header.get("alg");
        if (alg == null) {
            throw invalid(ALG_MISSING);
        }
        if (!(alg instanceof String name)) {
            throw invalid(HEADER_MALFORMED);
        }
        Optional<IidSignatureAlgorithm> algorithm = IidSignatureAlgorithm.byName(name);
        if (algorithm.isEmpty() || !algorithms.contains(algorithm.get())) {
            throw rejected(ALG_NOT_ALLOWED);
        }
        return algorithm.get();
    }

    /**
     * One nimbus verifier per trusted key, kept while the key is. ECDSA runs on BouncyCastle (a provider object, never
     * installed): the JDK 17 SunEC verification is about ten times slower here (bench/run --suite iid), and a
     * BouncyCastle public key made once keeps the precomputed tables of its point across verifications. RSA stays on
     * the JDK, which is fast at it.
     */
    static final class Verifiers {
        /** More keys than any signing service publishes (two slots, plus keys kept until their tokens expire). */
        static final int MAX_CACHED = 64;
        private static final Provider BOUNCY_CASTLE = new BouncyCastleProvider();
        private final Map<JWK, JWSVerifier> cache = new ConcurrentHashMap<>();

        JWSVerifier forKey(JWK key) throws JOSEException {
            JWSVerifier cached = cache.get(key);
            if (cached != null) {
                return cached;
            }
            JWSVerifier made = make(key);
            if (cache.size() >= MAX_CACHED) {
                cache.clear();   // keys were rotated away many times over: start again rather than grow
            }
            cache.put(key, made);
            return made;
        }

        private static JWSVerifier make(JWK key) throws JOSEException {
            if (key instanceof ECKey ec) {
                PublicKey bcKey;
                try {
                    bcKey = KeyFactory.getInstance("EC", BOUNCY_CASTLE).generatePublic(
                            new X509EncodedKeySpec(ec.toECPublicKey().getEncoded()));
                } catch (GeneralSecurityException e) {
                    throw new JOSEException("unusable EC key: " + e.getMessage(), e);
                }
                ECDSAVerifier verifier = new ECDSAVerifier((ECPublicKey) bcKey);
                verifier.getJCAContext().setProvider(BOUNCY_CASTLE);
                return verifier;
            }
            if (key instanceof RSAKey rsa) {
                return new RSASSAVerifier(rsa);
            }
            throw new JOSEException("unsupported key type " + key.getKeyType());
        }
    }

    private static Map<String, Object> json(byte[] bytes, String malformed) throws IidAttestationException {
        try {
            String text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
            return JSONObjectUtils.parse(text);
        } catch (CharacterCodingException | ParseException | RuntimeException e) {
            throw new IidAttestationException(Kind.INVALID_REQUEST, malformed, e);
        }
    }

    private static byte[] decode(byte[] payload, int from, int to) throws IidAttestationException {
        try {
            return BASE64URL.decode(Arrays.copyOfRange(payload, from, to));
        } catch (IllegalArgumentException e) {
            throw new IidAttestationException(Kind.INVALID_REQUEST, NOT_COMPACT_JWS, e);
        }
    }

    private static boolean isBase64Url(byte b) {
        return (b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z') || (b >= '0' && b <= '9') || b == '-' || b == '_';
    }

    private static IidAttestationException invalid(String message) {
        return new IidAttestationException(Kind.INVALID_REQUEST, message);
    }

    private static IidAttestationException rejected(String message) {
        return new IidAttestationException(Kind.REJECTED, message);
    }
}
