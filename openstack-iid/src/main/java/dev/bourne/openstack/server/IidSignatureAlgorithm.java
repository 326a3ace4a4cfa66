package dev.bourne.openstack.server;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.RSAKey;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The JWS algorithms (RFC 7518 section 3) an instance identity document may be signed with: ECDSA over P-256, P-384 and
 * P-521 and RSA PKCS#1 v1.5 and PSS. Each algorithm names the one kind of key it may be verified with, so a document
 * cannot pick an algorithm its key was not made for.
 *
 * <p>{@code none} and the HMAC algorithms ({@code HS256}, {@code HS384}, {@code HS512}) are deliberately absent: with
 * {@code none} anyone can write a document, and with HMAC anyone holding the public JWK set (which is published) could
 * use its bytes as the shared secret (the "key confusion" attack). They are refused as configuration errors, and a
 * document naming them is refused before any key is looked up.
 */
public enum IidSignatureAlgorithm {
    ES256(JWSAlgorithm.ES256, Curve.P_256),
    ES384(JWSAlgorithm.ES384, Curve.P_384),
    ES512(JWSAlgorithm.ES512, Curve.P_521),
    PS256(JWSAlgorithm.PS256, null),
    PS384(JWSAlgorithm.PS384, null),
    PS512(JWSAlgorithm.PS512, null),
    RS256(JWSAlgorithm.RS256, null),
    RS384(JWSAlgorithm.RS384, null),
    RS512(JWSAlgorithm.RS512, null);

    /** The allowlist when {@code algorithms} is not configured: what the vendordata service and common IdPs sign with. */
    public static final Set<IidSignatureAlgorithm> DEFAULTS = Set.of(ES256, ES384, PS256, RS256);
    /** Names that are never accepted, in configuration or in a document. */
    public static final Set<String> FORBIDDEN = Set.of("none", "HS256", "HS384", "HS512");
    /** Smallest RSA modulus accepted in a JWK set (NIST SP 800-57: 2048 bits for 112-bit security). */
    public static final int MIN_RSA_BITS = 2048;

    private final JWSAlgorithm jws;
    private final Curve curve;

    IidSignatureAlgorithm(JWSAlgorithm jws, Curve curve) {
        this.jws = jws;
        this.curve = curve;
    }

    /** The name in a JWS header and in configuration ({@code ES256}); case-sensitive, as RFC 7515 says. */
    public String jwsName() {
        return jws.getName();
    }

    /** nimbus-jose-jwt's value of this algorithm. */
    public JWSAlgorithm nimbus() {
        return jws;
    }

    /** True for ECDSA, false for RSA. */
    public boolean isEc() {
        return curve != null;
    }

    /**
     * True when {@code key} is the kind this algorithm verifies with: an EC key on this algorithm's curve, or an RSA
     * key for RS and PS; and, when the JWK names an {@code alg}, that it names this one (so an RSA key published for
     * PS256 cannot verify an RS256 signature).
     */
    public boolean fits(JWK key) {
        if (key.getAlgorithm() != null && !key.getAlgorithm().getName().equals(jwsName())) {
            return false;
        }
        if (curve != null) {
            return key instanceof ECKey ec && curve.equals(ec.getCurve());
        }
        return key instanceof RSAKey;
    }

    /** The algorithm named {@code name} exactly, if it is one of these. */
    public static Optional<IidSignatureAlgorithm> byName(String name) {
        for (IidSignatureAlgorithm algorithm : values()) {
            if (algorithm.jwsName().equals(name)) {
                return Optional.of(algorithm);
            }
        }
        return Optional.empty();
    }

    /** Every algorithm, in declaration order. */
    public static List<IidSignatureAlgorithm> all() {
        return List.of(values());
    }
}
