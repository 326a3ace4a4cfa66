package dev.bourne.appliance.ca;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.crypto.impl.ECDSA;
import dev.bourne.appliance.ca.SvidIssuanceException.Reason;
import dev.bourne.core.internal.Texts;
import dev.bourne.core.keymanager.KeyManagerException;
import dev.bourne.core.keymanager.KeyType;
import dev.bourne.core.keymanager.SignatureAlgorithm;
import dev.bourne.core.spiffeid.SpiffeId;
import dev.bourne.core.spiffeid.TrustDomain;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Issues JWT-SVIDs signed by a {@link JwtAuthority}: a compact JWS with header {@code alg}, {@code kid} and
 * {@code typ: JWT}, and claims {@code sub}, {@code aud} (a string for one audience, an array for several, as SPIRE
 * writes it), {@code exp}, {@code iat} and, when configured, {@code iss}. The expiry is capped at the authority's
 * {@code notAfter}, so no token outlives the key that signed it in the bundle.
 *
 * <p>Speed: the header is encoded once per authority and the claims are written as JSON directly; the signature comes
 * from the key manager (DER for ECDSA, converted to JOSE's fixed-length {@code R || S}).
 *
 * <p>Thread-safe.
 *
 * @see <a href="https://github.com/spiffe/spiffe/blob/main/standards/JWT-SVID.md">JWT-SVID.md</a>
 */
public final class JwtSvidIssuer {
    public static final int MAX_AUDIENCES = 16;
    public static final int MAX_AUDIENCE_CHARS = 256;

    public static final String NO_AUDIENCE = "JWT-SVID audience is required";
    public static final String TOO_MANY_AUDIENCES = "JWT-SVID has more than " + MAX_AUDIENCES + " audiences";
    public static final String EMPTY_AUDIENCE = "JWT-SVID audience must not be empty";
    public static final String AUDIENCE_TOO_LONG = "JWT-SVID audience is longer than " + MAX_AUDIENCE_CHARS
            + " characters";
    public static final String AUDIENCE_BAD_CHARACTER =
            "JWT-SVID audience must not contain control characters or unpaired surrogates";
    public static final String TTL_NOT_POSITIVE = "JWT-SVID TTL must be at least one second";
    public static final String ID_NOT_IN_TRUST_DOMAIN = "SPIFFE ID is not in the JWT authority's trust domain";
    public static final String ID_HAS_NO_PATH = "SPIFFE ID must have a path: a trust domain ID cannot be a JWT-SVID";
    public static final String AUTHORITY_EXPIRED = "the JWT authority has expired";
    public static final String ISSUER_NOT_ABSOLUTE = "JWT-SVID issuer must be an absolute URI";
    public static final String MALFORMED_SIGNATURE = "the key manager returned a malformed ECDSA signature";

    private static final int CACHED_AUTHORITIES = 4;
    private static final Base64.Encoder BASE64URL = Base64.getUrlEncoder().withoutPadding();

    private final TrustDomain trustDomain;
    private final Clock clock;
    private volatile Signer[] signers = new Signer[0];

    /** @param trustDomain the trust domain this server issues for: tokens for any other subject are refused */
    public JwtSvidIssuer(TrustDomain trustDomain, Clock clock) {
        this.trustDomain = Objects.requireNonNull(trustDomain, "trustDomain");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /** The JWS algorithm used when none is configured: ES256 for P-256, ES384 for P-384, RS256 for RSA keys. */
    public static SignatureAlgorithm defaultAlgorithm(KeyType keyType) {
        return keyType.defaultSignatureAlgorithm();
    }

    /**
     * The algorithm a configuration names by its JWS name ({@code ES256}, {@code PS384}, ...), checked against the
     * key type.
     *
     * @throws IllegalArgumentException naming the problem when the name is unknown or does not fit the key
     */
    public static SignatureAlgorithm algorithm(String jwsName, KeyType keyType) {
        SignatureAlgorithm algorithm = Arrays.stream(SignatureAlgorithm.values())
                .filter(candidate -> candidate.jwsName().equals(jwsName)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("unknown JWS algorithm " + jwsName
                        + ": use RS256, RS384, RS512, PS256, PS384, PS512, ES256 or ES384"));
        String problem = fitProblem(algorithm, keyType);
        if (problem != null) {
            throw new IllegalArgumentException(problem);
        }
        return algorithm;
    }

    /**
     * Why {@code algorithm} cannot sign JWTs with a {@code keyType} key, or {@code null} when it can. JWS ties each
     * ECDSA algorithm to one curve (RFC 7518 3.4), so ES256 needs P-256, ES384 needs P-384, and ES512 (P-521) fits
     * none of the key types Bourne's key managers make.
     */
    public static String fitProblem(SignatureAlgorithm algorithm, KeyType keyType) {
        if (!algorithm.fits(keyType)) {
            return algorithm.jwsName() + " cannot sign with a " + keyType.configName() + " key";
        }
        KeyType curve = switch (algorithm) {
            case ECDSA_SHA256 -> KeyType.EC_P256;
            case ECDSA_SHA384 -> KeyType.EC_P384;
            default -> null;
        };
        if (algorithm == SignatureAlgorithm.ECDSA_SHA512) {
            return "ES512 needs a P-521 key, which Bourne's key managers do not make";
        }
        if (curve != null && curve != keyType) {
            return algorithm.jwsName() + " needs an " + curve.configName() + " key, not " + keyType.configName();
        }
        return null;
    }

    /**
     * Signs a JWT-SVID for {@code subject}.
     *
     * @param audience one or more audiences, each non-empty; a single audience is written as a string
     * @param ttl how long the token lives, capped at the authority's end
     * @param issuer the {@code iss} claim, when the server is configured with one
     * @throws JwtSvidIssuanceException when the subject, audience or TTL are refused, or the authority cannot sign
     * @throws KeyManagerException when the key cannot sign (HSM unavailable): not the caller's fault
     */
    public IssuedJwtSvid issue(JwtAuthority authority, SpiffeId subject, List<String> audience, Duration ttl,
            Optional<URI> issuer) throws JwtSvidIssuanceException, KeyManagerException {
        Objects.requireNonNull(authority, "authority");
        Objects.requireNonNull(subject, "subject");
        Objects.requireNonNull(ttl, "ttl");
        Objects.requireNonNull(issuer, "issuer");
        if (!subject.memberOf(trustDomain)) {
            throw new JwtSvidIssuanceException(Reason.INVALID_SPIFFE_ID, ID_NOT_IN_TRUST_DOMAIN + " " + trustDomain
                    + ": " + subject);
        }
        if (subject.isTrustDomainId()) {
            throw new JwtSvidIssuanceException(Reason.INVALID_SPIFFE_ID, ID_HAS_NO_PATH);
        }
        List<String> audiences = checkAudience(audience);
        if (ttl.getSeconds() < 1) {
            throw new JwtSvidIssuanceException(Reason.INVALID_TTL, TTL_NOT_POSITIVE);
        }
        if (issuer.isPresent() && !issuer.get().isAbsolute()) {
            throw new JwtSvidIssuanceException(Reason.AUTHORITY_UNUSABLE, ISSUER_NOT_ABSOLUTE);
        }
        Signer signer = signer(authority);
        long now = clock.instant().getEpochSecond();
        if (now >= signer.notAfter) {
            throw new JwtSvidIssuanceException(Reason.AUTHORITY_UNUSABLE, AUTHORITY_EXPIRED + " ("
                    + authority.keyId() + ", at " + authority.notAfter() + ")");
        }
        // Both in whole seconds: a TTL longer than what is left of the authority ends with the authority.
        long expires = ttl.getSeconds() >= signer.notAfter - now ? signer.notAfter : now + ttl.getSeconds();

        byte[] claims = BASE64URL.encode(claims(subject, audiences, expires, now, issuer)
                .getBytes(StandardCharsets.UTF_8));
        byte[] signingInput = new byte[signer.header.length + claims.length];
        System.arraycopy(signer.header, 0, signingInput, 0, signer.header.length);
        System.arraycopy(claims, 0, signingInput, signer.header.length, claims.length);
        byte[] signature = signer.authority.key().sign(signer.algorithm, signingInput);
        if (signer.ecdsaLength > 0) {
            try {
                signature = ECDSA.transcodeSignatureToConcat(signature, signer.ecdsaLength);
            } catch (JOSEException e) {
                throw new KeyManagerException(MALFORMED_SIGNATURE + " (key " + authority.key().id() + ")", e);
            }
        }
        byte[] encodedSignature = BASE64URL.encode(signature);
        byte[] token = Arrays.copyOf(signingInput, signingInput.length + 1 + encodedSignature.length);
        token[signingInput.length] = '.';
        System.arraycopy(encodedSignature, 0, token, signingInput.length + 1, encodedSignature.length);
        return new IssuedJwtSvid(new String(token, StandardCharsets.US_ASCII), subject, audiences,
                Instant.ofEpochSecond(now), Instant.ofEpochSecond(expires));
    }

    private static List<String> checkAudience(List<String> audience) throws JwtSvidIssuanceException {
        if (audience == null || audience.isEmpty()) {
            throw new JwtSvidIssuanceException(Reason.INVALID_AUDIENCE, NO_AUDIENCE);
        }
        if (audience.size() > MAX_AUDIENCES) {
            throw new JwtSvidIssuanceException(Reason.INVALID_AUDIENCE, TOO_MANY_AUDIENCES);
        }
        for (String value : audience) {
            if (value == null || value.isEmpty()) {
                throw new JwtSvidIssuanceException(Reason.INVALID_AUDIENCE, EMPTY_AUDIENCE);
            }
            if (value.length() > MAX_AUDIENCE_CHARS) {
                throw new JwtSvidIssuanceException(Reason.INVALID_AUDIENCE, AUDIENCE_TOO_LONG);
            }
            if (!printable(value)) {
                throw new JwtSvidIssuanceException(Reason.INVALID_AUDIENCE, AUDIENCE_BAD_CHARACTER);
            }
        }
        return List.copyOf(audience);
    }

    /** No control characters (they have no place in an audience) and only paired surrogates (valid UTF-8). */
    private static boolean printable(String value) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (Character.isISOControl(c)) {
                return false;
            }
            if (Character.isHighSurrogate(c)) {
                if (i + 1 >= value.length() || !Character.isLowSurrogate(value.charAt(i + 1))) {
                    return false;
                }
                i++;
            } else if (Character.isLowSurrogate(c)) {
                return false;
            }
        }
        return true;
    }

    private static String claims(SpiffeId subject, List<String> audience, long expires, long issuedAt,
            Optional<URI> issuer) {
        StringBuilder json = new StringBuilder(128);
        json.append("{\"sub\":");
        Texts.appendJsonString(json, subject.toString());
        json.append(",\"aud\":");
        if (audience.size() == 1) {
            Texts.appendJsonString(json, audience.get(0));
        } else {
            json.append('[');
            for (int i = 0; i < audience.size(); i++) {
                if (i > 0) {
                    json.append(',');
                }
                Texts.appendJsonString(json, audience.get(i));
            }
            json.append(']');
        }
        json.append(",\"exp\":").append(expires).append(",\"iat\":").append(issuedAt);
        if (issuer.isPresent()) {
            json.append(",\"iss\":");
            Texts.appendJsonString(json, issuer.get().toString());
        }
        return json.append('}').toString();
    }

    private Signer signer(JwtAuthority authority) throws JwtSvidIssuanceException {
        Signer[] current = signers;
        for (Signer signer : current) {
            if (signer.authority == authority) {
                return signer;
            }
        }
        Signer fresh = Signer.of(authority);
        Signer[] next = new Signer[Math.min(current.length + 1, CACHED_AUTHORITIES)];
        next[0] = fresh;
        System.arraycopy(current, 0, next, 1, next.length - 1);
        signers = next; // a lost race only costs a recomputation
        return fresh;
    }

    /** One authority's encoded header (with the trailing dot) and signature parameters. */
    private static final class Signer {
        final JwtAuthority authority;
        final SignatureAlgorithm algorithm;
        final byte[] header;
        final int ecdsaLength;
        final long notAfter;

        private Signer(JwtAuthority authority, byte[] header, int ecdsaLength) {
            this.authority = authority;
            this.algorithm = authority.signatureAlgorithm();
            this.header = header;
            this.ecdsaLength = ecdsaLength;
            this.notAfter = authority.notAfter().getEpochSecond();
        }

        static Signer of(JwtAuthority authority) throws JwtSvidIssuanceException {
            SignatureAlgorithm algorithm = authority.signatureAlgorithm();
            String problem = fitProblem(algorithm, authority.key().type());
            if (problem != null) {
                throw new JwtSvidIssuanceException(Reason.AUTHORITY_UNUSABLE, problem);
            }
            StringBuilder json = new StringBuilder(96).append("{\"alg\":");
            Texts.appendJsonString(json, algorithm.jwsName());
            json.append(",\"kid\":");
            Texts.appendJsonString(json, authority.keyId());
            json.append(",\"typ\":\"JWT\"}");
            byte[] encoded = BASE64URL.encode(json.toString().getBytes(StandardCharsets.UTF_8));
            byte[] header = Arrays.copyOf(encoded, encoded.length + 1);
            header[encoded.length] = '.';
            int ecdsaLength = switch (algorithm) {
                case ECDSA_SHA256 -> 64;
                case ECDSA_SHA384 -> 96;
                default -> 0;
            };
            return new Signer(authority, header, ecdsaLength);
        }
    }
}
