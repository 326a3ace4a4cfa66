package dev.bourne.core.bundle;

import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.util.Base64;
import com.nimbusds.jose.util.JSONObjectUtils;
import dev.bourne.core.internal.Texts;
import dev.bourne.core.spiffeid.TrustDomain;
import java.io.ByteArrayInputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.text.ParseException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The SPIFFE bundle format: a JWK Set with {@code spiffe_sequence} and {@code spiffe_refresh_hint}, whose keys carry
 * {@code use} {@code x509-svid} (a CA certificate in {@code x5c}) or {@code jwt-svid} (a public key with {@code kid}).
 *
 * <p>Decoding follows the specification's consumer rules: keys of an unknown {@code kty} or {@code use}, and
 * {@code x509-svid} keys without certificates, are ignored; everything else that is wrong is an
 * {@link InvalidBundleException} naming the key and the field. Input is bounded before it is parsed.
 *
 * @see <a href="https://github.com/spiffe/spiffe/blob/main/standards/SPIFFE_Trust_Domain_and_Bundle.md#4-spiffe-bundle-format">Trust Domain and Bundle 4</a>
 */
public final class SpiffeBundleJson {
    /** Largest document accepted: thousands of authorities, far beyond any real bundle, yet bounded. */
    public static final int MAX_DOCUMENT_BYTES = 1 << 20;
    /** Most keys accepted in one document. */
    public static final int MAX_KEYS = 1024;

    public static final String USE_X509_SVID = "x509-svid";
    public static final String USE_JWT_SVID = "jwt-svid";

    private SpiffeBundleJson() {
    }

    /** Encodes a bundle; keys are written in the bundle's order, X.509 authorities first. */
    public static String encode(SpiffeBundle bundle) {
        List<Object> keys = new ArrayList<>();
        for (X509Certificate authority : bundle.x509Authorities()) {
            keys.add(x509Jwk(authority).toJSONObject());
        }
        bundle.jwtAuthorities().forEach((kid, key) -> keys.add(publicJwk(key, kid, USE_JWT_SVID).toJSONObject()));
        Map<String, Object> document = new LinkedHashMap<>();
        document.put("keys", keys);
        bundle.sequence().ifPresent(sequence -> document.put("spiffe_sequence", sequence));
        bundle.refreshHint().ifPresent(hint -> document.put("spiffe_refresh_hint", hint.toSeconds()));
        return JSONObjectUtils.toJSONString(document);
    }

    /** Decodes UTF-8 bytes, for documents read from a file or an HTTP body. */
    public static SpiffeBundle decode(TrustDomain trustDomain, byte[] document) {
        if (document.length > MAX_DOCUMENT_BYTES) {
            throw new InvalidBundleException("bundle is " + document.length + " bytes, more than the limit of "
                    + MAX_DOCUMENT_BYTES);
        }
        try {
            String text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(document))
                    .toString();
            return decode(trustDomain, text);
        } catch (CharacterCodingException e) {
            throw new InvalidBundleException("bundle is not valid UTF-8", e);
        }
    }

    /** Decodes a bundle document for {@code trustDomain}. */
    public static SpiffeBundle decode(TrustDomain trustDomain, String document) {
        if (document.length() > MAX_DOCUMENT_BYTES) {
            throw new InvalidBundleException("bundle is " + document.length()
                    + " characters, more than the limit of " + MAX_DOCUMENT_BYTES);
        }
        if (!document.stripLeading().startsWith("{")) {
            // The JSON library maps some non-object documents (an array, for one) to an empty object: refuse them
            // here so "[]" is reported as what it is.
            throw new InvalidBundleException("bundle is not a JSON object");
        }
        Map<String, Object> json;
        try {
            json = JSONObjectUtils.parse(document, MAX_DOCUMENT_BYTES);
        } catch (ParseException | RuntimeException e) {
            // The JSON parser reports syntax errors, nesting and duplicates as ParseException, but some malformed
            // input surfaces as runtime exceptions from its internals: both mean "not a JSON object".
            throw new InvalidBundleException("bundle is not a JSON object: " + e.getMessage(), e);
        }
        OptionalLong sequence = OptionalLong.empty();
        if (json.containsKey("spiffe_sequence")) {
            sequence = OptionalLong.of(nonNegativeInteger(json.get("spiffe_sequence"), "spiffe_sequence"));
        }
        Optional<Duration> refreshHint = Optional.empty();
        if (json.containsKey("spiffe_refresh_hint")) {
            long seconds = nonNegativeInteger(json.get("spiffe_refresh_hint"), "spiffe_refresh_hint");
            if (seconds == 0) {
                throw new InvalidBundleException("spiffe_refresh_hint must be a positive number of seconds");
            }
            refreshHint = Optional.of(Duration.ofSeconds(seconds));
        }
        Object keysValue = json.get("keys");
        if (keysValue == null) {
            throw new InvalidBundleException("bundle has no \"keys\" array");
        }
        if (!(keysValue instanceof List<?> keys)) {
            throw new InvalidBundleException("\"keys\" must be an array");
        }
        if (keys.size() > MAX_KEYS) {
            throw new InvalidBundleException("bundle has " + keys.size() + " keys, more than the limit of "
                    + MAX_KEYS);
        }
        List<X509Certificate> x509Authorities = new ArrayList<>();
        Map<String, PublicKey> jwtAuthorities = new LinkedHashMap<>();
        for (int i = 0; i < keys.size(); i++) {
            String where = "keys[" + i + "]";
            if (!(keys.get(i) instanceof Map<?, ?> raw)) {
                throw new InvalidBundleException(where + ": must be a JSON object");
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> entry = (Map<String, Object>) raw;
            Object kty = entry.get("kty");
            if (!(kty instanceof String ktyName) || ktyName.isEmpty()) {
                throw new InvalidBundleException(where + ": \"kty\" is required");
            }
            Object use = entry.get("use");
            if (!(use instanceof String useName) || useName.isEmpty()) {
                throw new InvalidBundleException(where + ": \"use\" is required");
            }
            if (!ktyName.equals("EC") && !ktyName.equals("RSA")) {
                continue; // SPIFFE bundle 4.2.1: unknown key types MUST be ignored
            }
            if (useName.equals(USE_X509_SVID)) {
                x509Authority(entry, where).ifPresent(cert -> {
                    if (!x509Authorities.contains(cert)) {
                        x509Authorities.add(cert);
                    }
                });
            } else if (useName.equals(USE_JWT_SVID)) {
                Object kid = entry.get("kid");
                if (!(kid instanceof String kidValue) || kidValue.isEmpty()) {
                    throw new InvalidBundleException(where + ": jwt-svid key has no \"kid\"");
                }
                if (jwtAuthorities.containsKey(kidValue)) {
                    throw new InvalidBundleException(where + ": duplicate jwt-svid key ID " + Texts.quote(kidValue));
                }
                jwtAuthorities.put(kidValue, publicKey(entry, where));
            }
            // Any other "use": SPIFFE bundle 4.2.2 says the whole element MUST be ignored.
        }
        return new SpiffeBundle(trustDomain, x509Authorities, jwtAuthorities, sequence, refreshHint);
    }

    private static Optional<X509Certificate> x509Authority(Map<String, Object> entry, String where) {
        Object x5c = entry.get("x5c");
        if (x5c == null || (x5c instanceof List<?> list && list.isEmpty())) {
            return Optional.empty(); // X509-SVID 6.2: an x509-svid entry without x5c MUST be ignored
        }
        if (!(x5c instanceof List<?> certs) || !(certs.get(0) instanceof String first)) {
            throw new InvalidBundleException(where + ": \"x5c\" must be an array of base64 strings");
        }
        X509Certificate certificate;
        try {
            byte[] der = java.util.Base64.getDecoder().decode(first);
            certificate = (X509Certificate) CertificateFactory.getInstance("X.509")
                    .generateCertificate(new ByteArrayInputStream(der));
        } catch (IllegalArgumentException | GeneralSecurityException e) {
            throw new InvalidBundleException(where + ": \"x5c\" does not hold a DER certificate in base64", e);
        }
        // The JWK's own key parameters, when present, must describe the certificate's key: a mismatch means the
        // document was edited or built wrongly, and silently preferring one of the two would hide that.
        if (entry.containsKey("n") || entry.containsKey("x")) {
            Map<String, Object> withoutChain = new LinkedHashMap<>(entry);
            withoutChain.remove("x5c");
            withoutChain.remove("x5t");
            withoutChain.remove("x5t#S256");
            PublicKey declared = publicKey(withoutChain, where);
            if (!declared.equals(certificate.getPublicKey())) {
                throw new InvalidBundleException(where + ": key parameters do not match the certificate in \"x5c\"");
            }
        }
        return Optional.of(certificate);
    }

    private static PublicKey publicKey(Map<String, Object> entry, String where) {
        if (entry.containsKey("d") || entry.containsKey("p")) {
            // A private key in a published bundle is a leak, not something to load.
            throw new InvalidBundleException(where + ": contains private key material");
        }
        try {
            JWK jwk = JWK.parse(entry);
            if (jwk instanceof ECKey ec) {
                return ec.toECPublicKey();
            }
            if (jwk instanceof RSAKey rsa) {
                return rsa.toRSAPublicKey();
            }
            throw new InvalidBundleException(where + ": unsupported key type " + jwk.getKeyType());
        } catch (ParseException | com.nimbusds.jose.JOSEException | RuntimeException e) {
            if (e instanceof InvalidBundleException invalid) {
                throw invalid;
            }
            throw new InvalidBundleException(where + ": invalid key: " + e.getMessage(), e);
        }
    }

    private static long nonNegativeInteger(Object value, String name) {
        if (value instanceof Long || value instanceof Integer) {
            long number = ((Number) value).longValue();
            if (number < 0) {
                throw new InvalidBundleException(name + " must not be negative");
            }
            return number;
        }
        throw new InvalidBundleException(name + " must be an integer between 0 and " + Long.MAX_VALUE + ", got "
                + (value == null ? "null" : Texts.quote(String.valueOf(value))));
    }

    private static JWK x509Jwk(X509Certificate authority) {
        try {
            JWK key = publicJwk(authority.getPublicKey(), null, USE_X509_SVID);
            List<Base64> chain = List.of(Base64.encode(authority.getEncoded()));
            if (key instanceof ECKey ec) {
                return new ECKey.Builder(ec).x509CertChain(chain).build();
            }
            return new RSAKey.Builder((RSAKey) key).x509CertChain(chain).build();
        } catch (CertificateEncodingException e) {
            throw new IllegalArgumentException("cannot encode X.509 authority", e);
        }
    }

    private static JWK publicJwk(PublicKey key, String kid, String use) {
        if (key instanceof ECPublicKey ec) {
            Curve curve = Curve.forECParameterSpec(ec.getParams());
            if (curve == null) {
                throw new IllegalArgumentException("unsupported EC curve for bundle key " + kid);
            }
            return new ECKey.Builder(curve, ec).keyID(kid).keyUse(new KeyUse(use)).build();
        }
        if (key instanceof RSAPublicKey rsa) {
            return new RSAKey.Builder(rsa).keyID(kid).keyUse(new KeyUse(use)).build();
        }
        throw new IllegalArgumentException("unsupported key algorithm " + key.getAlgorithm() + " for bundle key");
    }
}
