package dev.bourne.appliance.federation;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.util.JSONObjectUtils;
import dev.bourne.appliance.ca.CaSnapshot;
import dev.bourne.appliance.ca.JwtAuthority;
import dev.bourne.appliance.ca.X509Authority;
import dev.bourne.appliance.ca.journal.AuthorityState;
import dev.bourne.appliance.ca.journal.JwtAuthorityRecord;
import dev.bourne.core.bundle.SpiffeBundle;
import dev.bourne.core.keymanager.SignatureAlgorithm;
import dev.bourne.core.spiffeid.TrustDomain;
import dev.bourne.testing.pki.TestKeys;
import java.net.URI;
import java.security.PublicKey;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

class OidcDocumentsTest {
    static final Instant NOW = Instant.parse("2030-01-01T00:00:00Z");

    static Stream<Arguments> locations() {
        return Stream.of(
                Arguments.of("https://oidc.example.org", "/.well-known/openid-configuration", "/keys",
                        "https://oidc.example.org/keys"),
                Arguments.of("https://oidc.example.org/", "/.well-known/openid-configuration", "/keys",
                        "https://oidc.example.org/keys"),
                Arguments.of("https://oidc.example.org:8444/tenant/a", "/tenant/a/.well-known/openid-configuration",
                        "/tenant/a/keys", "https://oidc.example.org:8444/tenant/a/keys"),
                Arguments.of("https://oidc.example.org/tenant/", "/tenant/.well-known/openid-configuration",
                        "/tenant/keys", "https://oidc.example.org/tenant/keys"),
                Arguments.of("https://oidc.example.org/a%20b", "/a%20b/.well-known/openid-configuration",
                        "/a%20b/keys", "https://oidc.example.org/a%20b/keys"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("locations")
    void locations_followTheIssuer(String issuer, String discovery, String keys, String jwksUri) {
        OidcDocuments.Locations locations = OidcDocuments.locations(URI.create(issuer));

        assertEquals(new OidcDocuments.Locations(discovery, keys, URI.create(jwksUri)), locations);
    }

    @Test
    void configuration_issuerEchoedByteForByte() throws Exception {
        URI issuer = URI.create("https://oidc.example.org/");

        Map<String, Object> document = JSONObjectUtils.parse(OidcDocuments.configuration(issuer,
                List.of("ES256", "RS256")));

        assertEquals("https://oidc.example.org/", document.get("issuer"));
        assertEquals("https://oidc.example.org/keys", document.get("jwks_uri"));
        assertEquals(List.of("ES256", "RS256"), document.get("id_token_signing_alg_values_supported"));
        assertEquals("", document.get("authorization_endpoint"));
    }

    private static JwtAuthorityRecord record(String kid, PublicKey key, SignatureAlgorithm alg, Instant notAfter,
            AuthorityState state) {
        return new JwtAuthorityRecord(kid, "JWT-Signer-A", key, alg, NOW.minusSeconds(3600), notAfter, state, false);
    }

    @Test
    void keys_everyUnexpiredKeyWithItsAlgorithm_expiredLeftOut() throws Exception {
        var ec = TestKeys.ecP256(1);
        var p384 = TestKeys.ecP384(1);
        var rsa = TestKeys.rsa2048(1);
        var expired = TestKeys.ecP256(2);
        var foreign = TestKeys.ecP384(2);
        List<JwtAuthorityRecord> records = List.of(
                record("active", ec.getPublic(), SignatureAlgorithm.ECDSA_SHA256, NOW.plusSeconds(60),
                        AuthorityState.ACTIVE),
                record("prepared", p384.getPublic(), SignatureAlgorithm.ECDSA_SHA384, NOW.plusSeconds(600),
                        AuthorityState.PREPARED),
                record("old-pss", rsa.getPublic(), SignatureAlgorithm.RSA_PSS_SHA256, NOW.plusSeconds(1),
                        AuthorityState.OLD),
                record("expired", expired.getPublic(), SignatureAlgorithm.ECDSA_SHA256, NOW,
                        AuthorityState.OLD));
        Map<String, PublicKey> published = new LinkedHashMap<>();
        records.forEach(r -> published.put(r.keyId(), r.publicKey()));
        published.put("other-server", foreign.getPublic()); // another server's key: no record here
        CaSnapshot snapshot = snapshot(records, published);

        List<JWK> keys = OidcDocuments.keys(snapshot, NOW);

        assertEquals(List.of("active", "prepared", "old-pss", "other-server"),
                keys.stream().map(JWK::getKeyID).toList());
        assertEquals(List.of("ES256", "ES384", "PS256", "ES384"),
                keys.stream().map(k -> k.getAlgorithm().getName()).toList());
        assertEquals(List.of("ES256", "ES384", "PS256"), OidcDocuments.algorithms(keys));
        Map<String, Object> jwks = JSONObjectUtils.parse(OidcDocuments.jwks(keys));
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> entries = (List<Map<String, Object>>) jwks.get("keys");
        assertEquals("sig", entries.get(2).get("use"));
        assertEquals("RSA", entries.get(2).get("kty"));
        assertEquals(true, entries.get(2).containsKey("n"));
        assertEquals("P-384", entries.get(1).get("crv"));
        assertEquals(false, entries.stream().anyMatch(e -> e.containsKey("d")));
    }

    /** A snapshot whose bundle publishes {@code published}; the active authorities are stand-ins. */
    private static CaSnapshot snapshot(List<JwtAuthorityRecord> records, Map<String, PublicKey> published)
            throws Exception {
        dev.bourne.testing.pki.TestCa root = dev.bourne.testing.pki.TestCa.root("example.org");
        var memory = new dev.bourne.keymanager.memory.MemoryKeyManager(new java.security.SecureRandom());
        var key = memory.generateKey("x", dev.bourne.core.keymanager.KeyType.EC_P256);
        X509Authority x509 = new X509Authority("x509-CA-A", key, root.caSpec(key.publicKey()).issue(),
                List.of(root.certificate()), "id");
        JwtAuthority jwt = new JwtAuthority("JWT-Signer-A", key, "active", NOW.plusSeconds(60),
                SignatureAlgorithm.ECDSA_SHA256);
        SpiffeBundle bundle = SpiffeBundle.of(TrustDomain.parse("example.org"), List.of(root.certificate()),
                published).withSequence(1);
        return new CaSnapshot(x509, jwt, bundle, List.of(), records);
    }
}
