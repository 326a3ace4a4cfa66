package dev.bourne.appliance.ca;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jwt.SignedJWT;
import dev.bourne.core.bundle.BundleSource;
import dev.bourne.core.bundle.SpiffeBundle;
import dev.bourne.core.keymanager.KeyType;
import dev.bourne.core.keymanager.ManagedKey;
import dev.bourne.core.keymanager.SignatureAlgorithm;
import dev.bourne.core.spiffeid.SpiffeId;
import dev.bourne.core.svid.jwt.JwtSvidValidator;
import dev.bourne.core.svid.x509.X509SvidVerifier;
import dev.bourne.keymanager.internal.JcaManagedKey;
import dev.bourne.testing.hsm.SoftHsmToken;
import dev.bourne.testing.hsm.WithSoftHsm;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.RSAKeyGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Issuance with the CA and JWT keys on a SoftHSM2 token through SunPKCS11: the production signing path. */
@WithSoftHsm
class SoftHsmIssuanceTest {
    private static final Instant NOW = Instant.parse("2026-12-04T06:00:00Z");
    private static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);
    private static final SpiffeId WORKLOAD = SpiffeId.parse("spiffe://example.org/ns/prod/sa/web");

    static ManagedKey tokenKey(SoftHsmToken token, String id, KeyType type) throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance(type.jcaAlgorithm(), token.provider());
        generator.initialize(type.isEc() ? new ECGenParameterSpec(type.curveName())
                : new RSAKeyGenParameterSpec(type.bits(), RSAKeyGenParameterSpec.F4));
        KeyPair pair = generator.generateKeyPair();
        assertNull(pair.getPrivate().getEncoded(), "the private key stays on the token");
        return new JcaManagedKey(id, type, pair.getPublic(), pair.getPrivate(), token.provider());
    }

    @Test
    void x509_caKeyOnToken_csrIssuedAndVerified(SoftHsmToken token) throws Exception {
        ManagedKey key = tokenKey(token, "x509-CA-A", KeyType.EC_P256);
        X509Authority ca = TestAuthorities.selfSigned(key, NOW.minusSeconds(60), NOW.plus(Duration.ofDays(1)));
        KeyPair workload = TestCsrs.generate("EC", new ECGenParameterSpec("secp256r1"));
        X509SvidIssuer issuer = new X509SvidIssuer(TestAuthorities.TRUST_DOMAIN, CLOCK, new SecureRandom());

        IssuedX509Svid svid = issuer.issue(ca, TestCsrs.forKeys(workload).uri(WORKLOAD.toString()).der(), WORKLOAD,
                List.of("web.example.org"), Duration.ofHours(1));

        assertEquals(workload.getPublic(), svid.certificate().getPublicKey());
        assertEquals(WORKLOAD, new X509SvidVerifier(TestAuthorities.bundle(ca.certificate()), CLOCK)
                .verify(svid.chain()).spiffeId());
        X509SvidIssuerTest.pkix(svid.chain(), ca.certificate());
    }

    @Test
    void x509_rsaIntermediateOnToken_chainVerifies(SoftHsmToken token) throws Exception {
        TestAuthorities.Chain chain = TestAuthorities.twoLevel(tokenKey(token, "upstream-root", KeyType.EC_P384),
                tokenKey(token, "x509-CA-B", KeyType.RSA_2048), NOW.minusSeconds(60), NOW.plus(Duration.ofDays(1)));
        KeyPair workload = TestCsrs.generate("EC", new ECGenParameterSpec("secp256r1"));
        IssuedX509Svid svid = new X509SvidIssuer(TestAuthorities.TRUST_DOMAIN, CLOCK, new SecureRandom())
                .issue(chain.authority(), workload.getPublic(), WORKLOAD, List.of(), Duration.ofHours(1));

        assertEquals("SHA256withRSA", svid.certificate().getSigAlgName());
        assertEquals(2, svid.chain().size());
        new X509SvidVerifier(TestAuthorities.bundle(chain.root()), CLOCK).verify(svid.chain());
        X509SvidIssuerTest.pkix(svid.chain(), chain.root());
    }

    @Test
    void jwt_es256KeyOnToken_validatesWithCoreAndNimbus(SoftHsmToken token) throws Exception {
        ManagedKey key = tokenKey(token, "JWT-Signer-A", KeyType.EC_P256);
        JwtAuthority authority = new JwtAuthority("JWT-Signer-A", key, "kid-hsm", NOW.plus(Duration.ofDays(1)),
                SignatureAlgorithm.ECDSA_SHA256);
        IssuedJwtSvid svid = new JwtSvidIssuer(TestAuthorities.TRUST_DOMAIN, CLOCK)
                .issue(authority, WORKLOAD, List.of("db"), Duration.ofMinutes(5), Optional.empty());

        BundleSource bundles = BundleSource.of(SpiffeBundle.of(TestAuthorities.TRUST_DOMAIN, List.of(),
                Map.of("kid-hsm", key.publicKey())));
        assertEquals(WORKLOAD, new JwtSvidValidator(bundles, CLOCK, Duration.ZERO, null)
                .validate(svid.token(), "db").spiffeId());
        assertEquals(true, SignedJWT.parse(svid.token()).verify(new ECDSAVerifier((ECPublicKey) key.publicKey())));
    }
}
