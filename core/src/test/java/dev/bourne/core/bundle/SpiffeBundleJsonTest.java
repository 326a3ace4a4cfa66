package dev.bourne.core.bundle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.nimbusds.jose.util.JSONObjectUtils;
import dev.bourne.core.spiffeid.TrustDomain;
import dev.bourne.testing.pki.TestCa;
import dev.bourne.testing.pki.TestKeys;
import java.nio.charset.StandardCharsets;
import java.security.PublicKey;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class SpiffeBundleJsonTest {
    private static final TrustDomain TD = TrustDomain.parse("example.org");
    private static final TestCa EC_ROOT = TestCa.root("example.org");
    private static final TestCa RSA_ROOT = TestCa.root("example.org", TestKeys.rsa2048(0),
            Instant.now().minusSeconds(60), Instant.now().plus(Duration.ofDays(1)));

    private static SpiffeBundle fullBundle() {
        Map<String, PublicKey> jwt = new LinkedHashMap<>();
        jwt.put("kid-ec", TestKeys.ecP256(7).getPublic());
        jwt.put("kid-p384", TestKeys.ecP384(1).getPublic());
        jwt.put("kid-rsa", TestKeys.rsa2048(1).getPublic());
        return new SpiffeBundle(TD, List.of(EC_ROOT.certificate(), RSA_ROOT.certificate()), jwt,
                OptionalLong.of(42), Optional.of(Duration.ofMinutes(5)));
    }

    @Test
    void encodeThenDecode_roundTrips() {
        SpiffeBundle bundle = fullBundle();
        SpiffeBundle decoded = SpiffeBundleJson.decode(TD, SpiffeBundleJson.encode(bundle));
        assertEquals(bundle, decoded);
        assertEquals(List.of("kid-ec", "kid-p384", "kid-rsa"), List.copyOf(decoded.jwtAuthorities().keySet()));
    }

    @Test
    void encode_followsSpecLayout() throws Exception {
        Map<String, Object> json = JSONObjectUtils.parse(SpiffeBundleJson.encode(fullBundle()));
        assertEquals(42L, json.get("spiffe_sequence"));
        assertEquals(300L, json.get("spiffe_refresh_hint"));
        List<?> keys = (List<?>) json.get("keys");
        assertEquals(5, keys.size());
        Map<?, ?> x509 = (Map<?, ?>) keys.get(0);
        assertEquals("x509-svid", x509.get("use"));
        assertEquals("EC", x509.get("kty"));
        assertFalse(x509.containsKey("kid"), "X509-SVID 6.1: kid MUST NOT be set");
        assertEquals(1, ((List<?>) x509.get("x5c")).size());
        Map<?, ?> rsaX509 = (Map<?, ?>) keys.get(1);
        assertEquals("RSA", rsaX509.get("kty"));
        Map<?, ?> jwt = (Map<?, ?>) keys.get(2);
        assertEquals("jwt-svid", jwt.get("use"));
        assertEquals("kid-ec", jwt.get("kid"));
        assertEquals("P-256", jwt.get("crv"));
        assertFalse(jwt.containsKey("d"));
    }

    @Test
    void encode_withoutMetadata_omitsFields() throws Exception {
        SpiffeBundle bundle = SpiffeBundle.of(TD, List.of(EC_ROOT.certificate()), Map.of());
        Map<String, Object> json = JSONObjectUtils.parse(SpiffeBundleJson.encode(bundle));
        assertFalse(json.containsKey("spiffe_sequence"));
        assertFalse(json.containsKey("spiffe_refresh_hint"));
        assertEquals(bundle, SpiffeBundleJson.decode(TD, SpiffeBundleJson.encode(bundle)));
    }

    @Test
    void decode_ignoresUnknownUsesTypesAndEmptyX5c() {
        String certB64 = b64(EC_ROOT.certificate());
        String doc = "{\"keys\":["
                + "{\"kty\":\"EC\",\"use\":\"x509-svid\",\"x5c\":[\"" + certB64 + "\"]},"
                + "{\"kty\":\"EC\",\"use\":\"sig\",\"kid\":\"k\",\"crv\":\"P-256\",\"x\":\"AA\",\"y\":\"AA\"},"
                + "{\"kty\":\"OKP\",\"use\":\"jwt-svid\",\"kid\":\"ed\",\"crv\":\"Ed25519\",\"x\":\"AA\"},"
                + "{\"kty\":\"oct\",\"use\":\"jwt-svid\",\"kid\":\"h\",\"k\":\"c2VjcmV0\"},"
                + "{\"kty\":\"EC\",\"use\":\"x509-svid\",\"x5c\":[]},"
                + "{\"kty\":\"EC\",\"use\":\"x509-svid\"},"
                + "{\"kty\":\"EC\",\"use\":\"x509-svid\",\"x5c\":[\"" + certB64 + "\"]}"
                + "],\"unknown_top_level\":true}";
        SpiffeBundle bundle = SpiffeBundleJson.decode(TD, doc);
        assertEquals(List.of(EC_ROOT.certificate()), bundle.x509Authorities());
        assertTrue(bundle.jwtAuthorities().isEmpty());
        assertTrue(bundle.sequence().isEmpty());
    }

    @Test
    void decode_x5cWithSeveralCertificates_usesFirstOnly() {
        String doc = "{\"keys\":[{\"kty\":\"EC\",\"use\":\"x509-svid\",\"x5c\":[\"" + b64(EC_ROOT.certificate())
                + "\",\"" + b64(RSA_ROOT.certificate()) + "\"]}]}";
        assertEquals(List.of(EC_ROOT.certificate()), SpiffeBundleJson.decode(TD, doc).x509Authorities());
    }

    static Stream<Arguments> malformed() {
        String cert = b64(EC_ROOT.certificate());
        String jwtKey = jwkJson("kid-1");
        return Stream.of(
                Arguments.of("", "bundle is not a JSON object"),
                Arguments.of("not json", "bundle is not a JSON object"),
                Arguments.of("[]", "bundle is not a JSON object"),
                Arguments.of("{\"keys\":[]", "bundle is not a JSON object"),
                Arguments.of("{}", "bundle has no \"keys\" array"),
                Arguments.of("{\"keys\":{}}", "\"keys\" must be an array"),
                Arguments.of("{\"keys\":[1]}", "keys[0]: must be a JSON object"),
                Arguments.of("{\"keys\":[{\"use\":\"jwt-svid\"}]}", "keys[0]: \"kty\" is required"),
                Arguments.of("{\"keys\":[{\"kty\":\"EC\"}]}", "keys[0]: \"use\" is required"),
                Arguments.of("{\"keys\":[{\"kty\":\"EC\",\"use\":5}]}", "keys[0]: \"use\" is required"),
                Arguments.of("{\"keys\":[" + jwtKey.replace("\"kid\":\"kid-1\",", "") + "]}",
                        "keys[0]: jwt-svid key has no \"kid\""),
                Arguments.of("{\"keys\":[" + jwtKey + "," + jwtKey + "]}",
                        "keys[1]: duplicate jwt-svid key ID \"kid-1\""),
                Arguments.of("{\"keys\":[" + jwtKey.replace("\"x\":\"", "\"x\":\"A") + "]}",
                        "keys[0]: invalid key"),
                Arguments.of("{\"keys\":[" + jwtKey.replace("}", ",\"d\":\"AAAA\"}") + "]}",
                        "keys[0]: contains private key material"),
                Arguments.of("{\"keys\":[{\"kty\":\"EC\",\"use\":\"x509-svid\",\"x5c\":[\"!!!\"]}]}",
                        "keys[0]: \"x5c\" does not hold a DER certificate in base64"),
                Arguments.of("{\"keys\":[{\"kty\":\"EC\",\"use\":\"x509-svid\",\"x5c\":[\"AAAA\"]}]}",
                        "keys[0]: \"x5c\" does not hold a DER certificate in base64"),
                Arguments.of("{\"keys\":[{\"kty\":\"EC\",\"use\":\"x509-svid\",\"x5c\":\"" + cert + "\"}]}",
                        "keys[0]: \"x5c\" must be an array of base64 strings"),
                Arguments.of("{\"keys\":[{\"kty\":\"EC\",\"use\":\"x509-svid\",\"x5c\":[7]}]}",
                        "keys[0]: \"x5c\" must be an array of base64 strings"),
                Arguments.of("{\"keys\":[" + jwtKey.replace("\"use\":\"jwt-svid\",\"kid\":\"kid-1\"",
                        "\"use\":\"x509-svid\",\"x5c\":[\"" + cert + "\"]") + "]}",
                        "keys[0]: key parameters do not match the certificate in \"x5c\""),
                Arguments.of("{\"keys\":[],\"spiffe_sequence\":-1}", "spiffe_sequence must not be negative"),
                Arguments.of("{\"keys\":[],\"spiffe_sequence\":\"1\"}", "spiffe_sequence must be an integer"),
                Arguments.of("{\"keys\":[],\"spiffe_sequence\":1.5}", "spiffe_sequence must be an integer"),
                Arguments.of("{\"keys\":[],\"spiffe_sequence\":18446744073709551616}",
                        "spiffe_sequence must be an integer"),
                Arguments.of("{\"keys\":[],\"spiffe_refresh_hint\":0}",
                        "spiffe_refresh_hint must be a positive number of seconds"),
                Arguments.of("{\"keys\":[],\"spiffe_refresh_hint\":-300}",
                        "spiffe_refresh_hint must not be negative"),
                Arguments.of("{\"keys\":[],\"keys\":[]}", "bundle is not a JSON object"),
                Arguments.of("{\"keys\":[]} trailing", "bundle is not a JSON object"),
                Arguments.of("{keys:[]}", "bundle is not a JSON object"),
                Arguments.of("{\"keys\":[],}", "bundle is not a JSON object"));
    }

    @ParameterizedTest(name = "[{index}] {1}")
    @MethodSource("malformed")
    void decode_malformed_rejectedWithClearError(String document, String expectedStart) {
        InvalidBundleException e = assertThrows(InvalidBundleException.class,
                () -> SpiffeBundleJson.decode(TD, document));
        assertTrue(e.getMessage().startsWith(expectedStart), e.getMessage());
    }

    @Test
    void decode_oversized_rejectedBeforeParsing() {
        byte[] huge = ("{\"keys\":[],\"pad\":\"" + "x".repeat(SpiffeBundleJson.MAX_DOCUMENT_BYTES) + "\"}")
                .getBytes(StandardCharsets.UTF_8);
        InvalidBundleException e = assertThrows(InvalidBundleException.class,
                () -> SpiffeBundleJson.decode(TD, huge));
        assertEquals("bundle is " + huge.length + " bytes, more than the limit of "
                + SpiffeBundleJson.MAX_DOCUMENT_BYTES, e.getMessage());
    }

    @Test
    void decode_tooManyKeys_rejected() {
        String doc = "{\"keys\":[" + "{\"kty\":\"x\",\"use\":\"y\"},".repeat(SpiffeBundleJson.MAX_KEYS)
                + "{\"kty\":\"x\",\"use\":\"y\"}]}";
        InvalidBundleException e = assertThrows(InvalidBundleException.class, () -> SpiffeBundleJson.decode(TD, doc));
        assertEquals("bundle has 1025 keys, more than the limit of 1024", e.getMessage());
    }

    @Test
    void decode_invalidUtf8_rejected() {
        byte[] doc = {'{', '"', 'k', (byte) 0xC3, (byte) 0x28, '"', ':', '1', '}'};
        InvalidBundleException e = assertThrows(InvalidBundleException.class, () -> SpiffeBundleJson.decode(TD, doc));
        assertEquals("bundle is not valid UTF-8", e.getMessage());
    }

    @Test
    void decode_deeplyNested_rejectedWithoutStackOverflow() {
        String doc = "{\"keys\":[],\"x\":" + "[".repeat(100_000) + "]".repeat(100_000) + "}";
        assertThrows(InvalidBundleException.class, () -> SpiffeBundleJson.decode(TD, doc));
    }

    private static String jwkJson(String kid) {
        java.security.interfaces.ECPublicKey key = (java.security.interfaces.ECPublicKey) TestKeys.ecP256(3).getPublic();
        Base64.Encoder url = Base64.getUrlEncoder().withoutPadding();
        return "{\"kty\":\"EC\",\"use\":\"jwt-svid\",\"kid\":\"" + kid + "\",\"crv\":\"P-256\",\"x\":\""
                + url.encodeToString(fixed(key.getW().getAffineX().toByteArray())) + "\",\"y\":\""
                + url.encodeToString(fixed(key.getW().getAffineY().toByteArray())) + "\"}";
    }

    private static byte[] fixed(byte[] bigEndian) {
        byte[] out = new byte[32];
        int copy = Math.min(32, bigEndian.length);
        System.arraycopy(bigEndian, bigEndian.length - copy, out, 32 - copy, copy);
        return out;
    }

    private static String b64(java.security.cert.X509Certificate cert) {
        try {
            return Base64.getEncoder().encodeToString(cert.getEncoded());
        } catch (java.security.cert.CertificateEncodingException e) {
            throw new IllegalStateException(e);
        }
    }
}
