package dev.bourne.appliance.ca;

import dev.bourne.appliance.ca.internal.ManagedKeyContentSigner;
import dev.bourne.core.keymanager.KeyType;
import dev.bourne.core.keymanager.ManagedKey;
import dev.bourne.core.spiffeid.TrustDomain;
import java.io.ByteArrayInputStream;
import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.Optional;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.X509v3CertificateBuilder;

/** Shared test setup: CA options and a leaf signer free of the issuer's own checks, to build hostile leaves. */
final class CaFixtures {
    static final TrustDomain TRUST_DOMAIN = TrustDomain.parse("example.org");
    static final SecureRandom RANDOM = new SecureRandom();

    private CaFixtures() {
    }

    /** ca_ttl 6h, SVIDs 1h (SPIRE's ratio), JWT-SVIDs 5m, EC P-256 keys, default subject. */
    static CaOptions options() {
        return options(Duration.ofHours(6));
    }

    static CaOptions options(Duration caTtl) {
        return new CaOptions(TRUST_DOMAIN, caTtl, KeyType.EC_P256, KeyType.EC_P256, Optional.empty(),
                CaOptions.DEFAULT_REFRESH_HINT, Duration.ofHours(1), Duration.ofMinutes(5));
    }

    static PublicKey freshKey() throws Exception {
        return keyPair().getPublic();
    }

    static KeyPair keyPair() throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
        return generator.generateKeyPair();
    }

    /**
     * A leaf in the X509-SVID profile with URI SAN {@code uri}, signed by {@code caKey} under {@code caCertificate}'s
     * name, with no check of the URI: lets tests present what a misbehaving CA could sign.
     */
    static X509Certificate leaf(X509Certificate caCertificate, ManagedKey caKey, String uri, Instant now)
            throws Exception {
        X509v3CertificateBuilder builder = new X509v3CertificateBuilder(
                X500Name.getInstance(caCertificate.getSubjectX500Principal().getEncoded()),
                BigInteger.valueOf(RANDOM.nextInt(Integer.MAX_VALUE) + 1L), Date.from(now.minusSeconds(10)),
                Date.from(now.plus(Duration.ofMinutes(30))), new X500Name("O=SPIRE"),
                SubjectPublicKeyInfo.getInstance(freshKey().getEncoded()));
        builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
        builder.addExtension(Extension.keyUsage, true,
                new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment | KeyUsage.keyAgreement));
        builder.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(
                new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
        builder.addExtension(Extension.subjectAlternativeName, true,
                new GeneralNames(new GeneralName(GeneralName.uniformResourceIdentifier, uri)));
        byte[] der = builder.build(new ManagedKeyContentSigner(caKey, KeyType.EC_P256.defaultSignatureAlgorithm()))
                .getEncoded();
        return (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(der));
    }
}
