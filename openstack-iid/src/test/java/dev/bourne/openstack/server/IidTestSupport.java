package dev.bourne.openstack.server;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.util.JSONObjectUtils;
import dev.bourne.core.spiffeid.TrustDomain;
import dev.bourne.openstack.common.IidClaims;
import dev.bourne.openstack.common.OpenStackIid;
import dev.bourne.openstack.server.OpenStackServerSettings.JwksFile;
import dev.bourne.testing.pki.TestKeys;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Builds instance identity documents the way the vendordata service does (a compact JWS over {@link IidClaims#toJson},
 * header {@code alg}, {@code kid}, {@code typ}), signed in test code with fixed JCA keys, plus the fakes the server
 * engine needs: an in-memory {@link JtiLedger} and a Nova that answers from a map.
 */
final class IidTestSupport {

    static final TrustDomain TD = TrustDomain.parse("example.org");
    static final String ISSUER = "https://vendordata.example.org";
    static final String AUDIENCE = "spiffe://example.org/spire/server";
    static final String PROJECT = "4f0c2f6d1e5a4b3c9d8e7f6a5b4c3d2e";
    static final String OTHER_PROJECT = "0123456789abcdef0123456789abcdef";
    static final String INSTANCE = "1b9c7d2e-3f4a-4b5c-8d6e-7f8091a2b3c4";
    static final String IMAGE = "d4e5f6a7-b8c9-4d0e-8f1a-2b3c4d5e6f70";
    static final String HOSTNAME = "web-1";

    static final KeyPair EC256 = TestKeys.ecP256(60);
    static final KeyPair EC384 = TestKeys.ecP384(61);
    static final KeyPair RSA = TestKeys.rsa2048(62);
    /** A key that is in no JWK set: the forger's. */
    static final KeyPair FORGER = TestKeys.ecP256(63);
    static final String KID_EC256 = "kid-ec256";
    static final String KID_EC384 = "kid-ec384";
    static final String KID_RSA = "kid-rsa";

    private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
    private static int jtiCounter;

    private IidTestSupport() {
    }

    /** The public JWK of {@code keys} with {@code kid} and {@code use: sig}. */
    static JWK publicJwk(KeyPair keys, String kid) {
        if (keys.getPublic() instanceof ECPublicKey ec) {
            Curve curve = Curve.forECParameterSpec(ec.getParams());
            return new ECKey.Builder(curve, ec).keyID(kid).keyUse(KeyUse.SIGNATURE).build();
        }
        return new RSAKey.Builder((RSAPublicKey) keys.getPublic()).keyID(kid).keyUse(KeyUse.SIGNATURE).build();
    }

    /** A JWK set document of the three test keys. */
    static String standardJwks() {
        return jwks(publicJwk(EC256, KID_EC256), publicJwk(EC384, KID_EC384), publicJwk(RSA, KID_RSA));
    }

    static String jwks(JWK... keys) {
        List<Object> list = new ArrayList<>();
        for (JWK key : keys) {
            list.add(key.toJSONObject());
        }
        Map<String, Object> set = new LinkedHashMap<>();
        set.put("keys", list);
        return JSONObjectUtils.toJSONString(set);
    }

    static Path writeJwks(Path dir, String json) throws IOException {
        Path file = dir.resolve("jwks.json");
        Files.writeString(file, json);
        return file;
    }

    /** Claims as the vendordata service writes them, issued at {@code iat}, valid 5 minutes, unique jti. */
    static Map<String, Object> claims(Instant iat) {
        TreeMap<String, String> metadata = new TreeMap<>();
        metadata.put("role", "web");
        metadata.put("secret-ish", "not-a-selector");
        Instant issued = Instant.ofEpochSecond(iat.getEpochSecond());
        return new LinkedHashMap<>(new IidClaims(ISSUER, List.of(AUDIENCE), nextJti(), PROJECT, INSTANCE, IMAGE,
                HOSTNAME, metadata, issued, issued.plus(Duration.ofMinutes(5))).toJson());
    }

    static synchronized String nextJti() {
        return "jti-" + (++jtiCounter) + "-" + System.nanoTime();
    }

    /** The standard header: {@code alg}, {@code kid}, {@code typ}. */
    static Map<String, Object> header(String alg, String kid) {
        Map<String, Object> header = new LinkedHashMap<>();
        header.put("alg", alg);
        header.put("kid", kid);
        header.put("typ", OpenStackIid.JWS_TYPE);
        return header;
    }

    /** A document signed with {@code keys} under {@code alg} (ES256 for P-256 and so on). */
    static String sign(KeyPair keys, String alg, String kid, Map<String, Object> claims) {
        return sign(keys, JWSAlgorithm.parse(alg), header(alg, kid), JSONObjectUtils.toJSONString(claims));
    }

    /** A JWS over exactly {@code header} and {@code claimsJson}, signed by {@code keys} with {@code signingAlg}. */
    static String sign(KeyPair keys, JWSAlgorithm signingAlg, Map<String, Object> header, String claimsJson) {
        String input = encode(JSONObjectUtils.toJSONString(header)) + "." + encode(claimsJson);
        try {
            JWSSigner signer = keys.getPrivate() instanceof ECPrivateKey ec ? new ECDSASigner(ec)
                    : new RSASSASigner(keys.getPrivate());
            return input + "." + signer.sign(new JWSHeader(signingAlg), input.getBytes(StandardCharsets.US_ASCII));
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The key confusion attack: HS256 keyed with the public key's encoded bytes. */
    static String hs256WithPublicKey(KeyPair keys, String kid, Map<String, Object> claims) {
        Map<String, Object> header = header("HS256", kid);
        String input = encode(JSONObjectUtils.toJSONString(header)) + "." + encode(JSONObjectUtils.toJSONString(claims));
        try {
            return input + "." + new MACSigner(keys.getPublic().getEncoded()).sign(new JWSHeader(JWSAlgorithm.HS256),
                    input.getBytes(StandardCharsets.US_ASCII));
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    static String encode(String text) {
        return B64.encodeToString(text.getBytes(StandardCharsets.UTF_8));
    }

    static byte[] bytes(String jws) {
        return jws.getBytes(StandardCharsets.US_ASCII);
    }

    /** Settings with a JWK set file, the test project allowed, {@code role} as a metadata selector key. */
    static OpenStackServerSettings settings(Path jwksFile, boolean novaCheck) {
        Optional<OpenStackServerSettings.NovaCheck> nova = novaCheck
                ? Optional.of(new OpenStackServerSettings.NovaCheck(java.net.URI.create("https://keystone.test/v3"),
                        new OpenStackServerSettings.ApplicationCredentials("id", jwksFile), Optional.empty(),
                        "internal", Optional.empty(), Optional.empty(), Duration.ofSeconds(5)))
                : Optional.empty();
        return new OpenStackServerSettings(ISSUER, AUDIENCE, new JwksFile(jwksFile), Optional.empty(),
                OpenStackServerSettings.DEFAULT_JWKS_REFRESH, OpenStackServerSettings.DEFAULT_JWKS_MIN_REFRESH,
                Set.of(IidSignatureAlgorithm.ES256, IidSignatureAlgorithm.ES384, IidSignatureAlgorithm.RS256,
                        IidSignatureAlgorithm.PS256),
                Set.of(PROJECT, OTHER_PROJECT), List.of("role"), OpenStackServerSettings.DEFAULT_MAX_CLOCK_SKEW, nova);
    }

    static JwksSource fileSource(OpenStackServerSettings settings, Clock clock) {
        return JwksSource.file(((JwksFile) settings.jwks()).path(), settings.algorithms(), settings.jwksRefresh(),
                settings.jwksMinRefresh(), clock);
    }

    /** A jti ledger in memory, as the datastore's behaves: first use true, then false; can be made unavailable. */
    static final class MemoryJtiLedger implements JtiLedger {
        final Map<String, Instant> used = new ConcurrentHashMap<>();
        final AtomicBoolean down = new AtomicBoolean();

        @Override
        public boolean consume(String issuer, String jti, Instant expiresAt) throws LedgerUnavailableException {
            if (down.get()) {
                throw new LedgerUnavailableException("database is down", new java.sql.SQLException("connection refused"));
            }
            return used.putIfAbsent(issuer + "\n" + jti, expiresAt) == null;
        }
    }

    /** Nova answering {@code GET /servers/{id}} from a map; counts calls; can be made unavailable. */
    static final class FakeNova implements NovaServers {
        final Map<String, NovaServer> servers = new ConcurrentHashMap<>();
        final AtomicBoolean down = new AtomicBoolean();
        final AtomicInteger calls = new AtomicInteger();

        @Override
        public Optional<NovaServer> find(String instanceId) throws NovaUnavailableException {
            calls.incrementAndGet();
            if (down.get()) {
                throw new NovaUnavailableException("Nova answered HTTP 503");
            }
            return Optional.ofNullable(servers.get(instanceId));
        }
    }
}
