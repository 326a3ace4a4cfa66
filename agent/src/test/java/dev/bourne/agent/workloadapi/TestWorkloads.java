package dev.bourne.agent.workloadapi;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.bourne.agent.cache.CacheContents;
import dev.bourne.agent.cache.JwtSvidMinter;
import dev.bourne.agent.cache.WorkloadEntry;
import dev.bourne.agent.cache.WorkloadKeyGenerator;
import dev.bourne.core.bundle.SpiffeBundle;
import dev.bourne.core.spiffeid.SpiffeId;
import dev.bourne.core.spiffeid.TrustDomain;
import dev.bourne.core.svid.x509.X509SvidException;
import dev.bourne.testing.pki.TestCa;
import dev.bourne.testing.pki.TestKeys;
import java.security.KeyPair;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPrivateKey;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * A trust domain for Workload API tests: a real CA (TestCa) issuing X.509-SVIDs for keys the agent's own
 * {@link WorkloadKeyGenerator} made, a federated domain, and a JWT authority standing in for the server's (the
 * agent never signs JWT-SVIDs; the server that will cannot run in these tests).
 */
final class TestWorkloads {
    static final TrustDomain TD = TrustDomain.parse("example.org");
    static final TrustDomain PARTNER = TrustDomain.parse("partner.org");
    static final String JWT_KID = "jwt-authority-a";

    final TestCa ca = TestCa.root("example.org");
    final TestCa partnerCa = TestCa.root("partner.org", TestKeys.ecP256(7), Instant.now().minus(Duration.ofHours(1)),
            Instant.now().plus(Duration.ofDays(30)));
    final KeyPair jwtKey = TestKeys.ecP256(8);
    final KeyPair partnerJwtKey = TestKeys.ecP256(9);
    private final WorkloadKeyGenerator keys = new WorkloadKeyGenerator(new SecureRandom());

    SpiffeBundle bundle() {
        return SpiffeBundle.of(TD, List.of(ca.certificate()), Map.of(JWT_KID, jwtKey.getPublic()));
    }

    SpiffeBundle partnerBundle() {
        return SpiffeBundle.of(PARTNER, List.of(partnerCa.certificate()),
                Map.of("partner-a", partnerJwtKey.getPublic()));
    }

    /** A fresh SVID (new key, new leaf) for {@code entry}. */
    WorkloadX509Svid svid(WorkloadEntry entry) {
        WorkloadKeyGenerator.GeneratedKey key = keys.generate();
        X509Certificate leaf = ca.leaf(entry.spiffeId().toString(), key.publicKey());
        try {
            return new WorkloadX509Svid(entry.entryId(), TestCa.svidChain(leaf, ca), key.privateKey(), entry.hint());
        } catch (X509SvidException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Cache contents holding {@code entries}, each with a fresh SVID, and the partner bundle. */
    CacheContents contents(WorkloadEntry... entries) {
        Map<String, WorkloadX509Svid> svids = new LinkedHashMap<>();
        for (WorkloadEntry entry : entries) {
            svids.put(entry.entryId(), svid(entry));
        }
        return new CacheContents(bundle(), Map.of(PARTNER, partnerBundle()), List.of(entries), svids);
    }

    /** Signs JWT-SVIDs as the server will: ES256 with the trust domain's JWT authority, 5 minutes. */
    JwtSvidMinter minter() {
        return (SpiffeId id, List<String> audience) -> sign(jwtKey, JWT_KID, id, audience);
    }

    static String sign(KeyPair key, String kid, SpiffeId id, List<String> audience) {
        Instant now = Instant.now();
        JWTClaimsSet claims = new JWTClaimsSet.Builder()
                .subject(id.toString())
                .audience(audience)
                .issueTime(Date.from(now))
                .expirationTime(Date.from(now.plus(Duration.ofMinutes(5))))
                .jwtID(UUID.randomUUID().toString())
                .build();
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID(kid).type(JOSEObjectType.JWT)
                .build(), claims);
        try {
            jwt.sign(new ECDSASigner((ECPrivateKey) key.getPrivate(), Curve.P_256));
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
        return jwt.serialize();
    }
}
