package dev.bourne.appliance.federation;

import com.nimbusds.jose.Algorithm;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.util.JSONObjectUtils;
import dev.bourne.appliance.ca.CaSnapshot;
import dev.bourne.appliance.ca.journal.JwtAuthorityRecord;
import java.net.URI;
import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The two documents of OIDC discovery for JWT-SVIDs, built from the configured issuer and the CA's state: the
 * provider configuration and the JWK set its {@code jwks_uri} names.
 *
 * <p>Where they live follows from the issuer, because discovery consumers derive the URL from it (OpenID Connect
 * Discovery 1.0, section 4): the configuration at {@code <issuer path>/.well-known/openid-configuration}, the keys
 * at {@code <issuer path>/keys}. The issuer is echoed byte for byte: consumers compare it exactly with the one they
 * were configured with, and with each token's {@code iss} (SPIRE's provider has broken consumers by rewriting it).
 *
 * @see <a href="https://openid.net/specs/openid-connect-discovery-1_0.html">OpenID Connect Discovery 1.0</a>
 */
public final class OidcDocuments {
    public static final String WELL_KNOWN = "/.well-known/openid-configuration";
    public static final String KEYS = "/keys";

    /**
     * Where the documents are served and the {@code jwks_uri} announced for {@code issuer}.
     *
     * @param discoveryPath path of the provider configuration
     * @param keysPath path of the JWK set
     * @param jwksUri the absolute URL of the JWK set
     */
    public record Locations(String discoveryPath, String keysPath, URI jwksUri) {
    }

    private OidcDocuments() {
    }

    /** The locations for {@code issuer}; a trailing slash of its path is not doubled. */
    public static Locations locations(URI issuer) {
        Objects.requireNonNull(issuer, "issuer");
        String path = issuer.getRawPath() == null ? "" : issuer.getRawPath();
        String base = strip(path);
        String issuerText = issuer.toString();
        return new Locations(base + WELL_KNOWN, base + KEYS, URI.create(strip(issuerText) + KEYS));
    }

    private static String strip(String text) {
        return text.endsWith("/") ? text.substring(0, text.length() - 1) : text;
    }

    /** The provider configuration announcing {@code algorithms} (in order) as the JWT-SVID signing algorithms. */
    public static String configuration(URI issuer, List<String> algorithms) {
        Map<String, Object> document = new LinkedHashMap<>();
        document.put("issuer", issuer.toString());
        document.put("jwks_uri", locations(issuer).jwksUri().toString());
        // There is no authorization endpoint (JWT-SVIDs come from the Workload API); the member is required by the
        // specification, so it is present and empty, as SPIRE's provider writes it.
        document.put("authorization_endpoint", "");
        document.put("response_types_supported", List.of("id_token"));
        document.put("subject_types_supported", List.of("public"));
        document.put("id_token_signing_alg_values_supported", List.copyOf(algorithms));
        return JSONObjectUtils.toJSONString(document);
    }

    /**
     * Every JWT-SVID key that can still verify a token, at {@code now}: the CA's published keys (prepared ones before
     * they sign, active, and old ones until they expire, since no token outlives its key), each with {@code kid},
     * {@code alg} and {@code use: sig}. Expired keys the CA has not pruned yet are left out.
     */
    public static List<JWK> keys(CaSnapshot snapshot, Instant now) {
        Map<String, JwtAuthorityRecord> records = new LinkedHashMap<>();
        snapshot.jwtAuthorities().forEach(r -> records.put(r.keyId(), r));
        List<JWK> keys = new ArrayList<>();
        snapshot.bundle().jwtAuthorities().forEach((kid, key) -> {
            Optional<JwtAuthorityRecord> record = Optional.ofNullable(records.get(kid));
            if (record.isPresent() && !record.get().notAfter().isAfter(now)) {
                return;
            }
            String alg = record.map(r -> r.signatureAlgorithm().jwsName()).orElseGet(() -> defaultAlgorithm(key));
            keys.add(jwk(kid, key, JWSAlgorithm.parse(alg)));
        });
        return List.copyOf(keys);
    }

    /** The JWK set document of {@code keys}: public parameters only. */
    public static String jwks(List<JWK> keys) {
        return JSONObjectUtils.toJSONString(new JWKSet(keys).toJSONObject(true));
    }

    /** The distinct {@code alg} values of {@code keys}, in order. */
    public static List<String> algorithms(List<JWK> keys) {
        Set<String> algs = new LinkedHashSet<>();
        keys.stream().map(JWK::getAlgorithm).filter(Objects::nonNull).map(Algorithm::getName).forEach(algs::add);
        return List.copyOf(algs);
    }

    /** The algorithm Bourne signs with for a key of this type, for keys without a record (another server's). */
    static String defaultAlgorithm(PublicKey key) {
        if (key instanceof ECPublicKey ec) {
            int bits = ec.getParams().getCurve().getField().getFieldSize();
            return bits <= 256 ? "ES256" : bits <= 384 ? "ES384" : "ES512";
        }
        return "RS256";
    }

    private static JWK jwk(String kid, PublicKey key, JWSAlgorithm alg) {
        if (key instanceof ECPublicKey ec) {
            Curve curve = Curve.forECParameterSpec(ec.getParams());
            if (curve == null) {
                throw new IllegalArgumentException("JWT key " + kid + " is on an unsupported curve");
            }
            return new ECKey.Builder(curve, ec).keyID(kid).keyUse(KeyUse.SIGNATURE).algorithm(alg).build();
        }
        if (key instanceof RSAPublicKey rsa) {
            return new RSAKey.Builder(rsa).keyID(kid).keyUse(KeyUse.SIGNATURE).algorithm(alg).build();
        }
        throw new IllegalArgumentException("JWT key " + kid + " has unsupported algorithm " + key.getAlgorithm());
    }
}
