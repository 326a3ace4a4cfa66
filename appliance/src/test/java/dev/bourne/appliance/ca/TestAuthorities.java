package dev.bourne.appliance.ca;

import dev.bourne.appliance.ca.internal.ManagedKeyContentSigner;
import dev.bourne.core.bundle.BundleSource;
import dev.bourne.core.bundle.SpiffeBundle;
import dev.bourne.core.keymanager.KeyManagerException;
import dev.bourne.core.keymanager.KeyType;
import dev.bourne.core.keymanager.ManagedKey;
import dev.bourne.core.spiffeid.TrustDomain;
import dev.bourne.keymanager.memory.MemoryKeyManager;
import java.math.BigInteger;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;

/**
 * CA authorities built in test code over real managed keys: a self-signed root, or a root (the trust anchor) with
 * an intermediate that issues. Certificates are built with BouncyCastle's builder signing through the key manager,
 * independently of the issuer under test.
 */
final class TestAuthorities {
    static final TrustDomain TRUST_DOMAIN = TrustDomain.parse("example.org");
    private static final SecureRandom RANDOM = new SecureRandom();

    private TestAuthorities() {
    }

    /** A fresh key of {@code type} in a memory key manager. */
    static ManagedKey memoryKey(String id, KeyType type) throws KeyManagerException {
        return new MemoryKeyManager(RANDOM).generateKey(id, type);
    }

    /** A self-signed CA over {@code key}. */
    static X509Authority selfSigned(ManagedKey key, Instant notBefore, Instant notAfter) throws Exception {
        X500Name name = new X500Name("O=Bourne tests,CN=root " + RANDOM.nextInt(1 << 20));
        X509Certificate cert = caCertificate(name, key, name, key, notBefore, notAfter);
        return new X509Authority("x509-CA-A", key, cert, List.of(), authorityId(cert));
    }

    /** An issuing intermediate over {@code key}, signed by a self-signed root over {@code rootKey}. */
    static Chain twoLevel(ManagedKey rootKey, ManagedKey key, Instant notBefore, Instant notAfter) throws Exception {
        X500Name rootName = new X500Name("O=Bourne tests,CN=upstream root " + RANDOM.nextInt(1 << 20));
        X509Certificate root = caCertificate(rootName, rootKey, rootName, rootKey, notBefore, notAfter);
        X500Name name = new X500Name("O=Bourne tests,CN=intermediate " + RANDOM.nextInt(1 << 20));
        X509Certificate cert = caCertificate(name, key, rootName, rootKey, notBefore, notAfter);
        return new Chain(root, new X509Authority("x509-CA-B", key, cert, List.of(), authorityId(cert)));
    }

    /**
     * An issuing CA over {@code key} under an upstream intermediate under a root: the authority's upstream chain
     * holds the upstream intermediate, so SVID chains carry two certificates after the leaf.
     */
    static Chain threeLevel(ManagedKey rootKey, ManagedKey upstreamKey, ManagedKey key, Instant notBefore,
            Instant notAfter) throws Exception {
        X500Name rootName = new X500Name("O=Bourne tests,CN=upstream root " + RANDOM.nextInt(1 << 20));
        X509Certificate root = caCertificate(rootName, rootKey, rootName, rootKey, notBefore, notAfter);
        X500Name upstreamName = new X500Name("O=Bourne tests,CN=upstream intermediate " + RANDOM.nextInt(1 << 20));
        X509Certificate upstream = caCertificate(upstreamName, upstreamKey, rootName, rootKey, notBefore, notAfter);
        X500Name name = new X500Name("O=Bourne tests,CN=bourne CA " + RANDOM.nextInt(1 << 20));
        X509Certificate cert = caCertificate(name, key, upstreamName, upstreamKey, notBefore, notAfter);
        return new Chain(root, new X509Authority("x509-CA-A", key, cert, List.of(upstream), authorityId(cert)));
    }

    /** A self-signed CA whose certificate has no subject key identifier extension. */
    static X509Authority selfSignedWithoutSki(ManagedKey key, Instant notBefore, Instant notAfter) throws Exception {
        X500Name name = new X500Name("O=Bourne tests,CN=root without SKI " + RANDOM.nextInt(1 << 20));
        JcaX509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(name, BigInteger.TEN,
                Date.from(notBefore), Date.from(notAfter), name, key.publicKey());
        builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
        builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
        X509Certificate cert = new JcaX509CertificateConverter().getCertificate(builder.build(
                new ManagedKeyContentSigner(key, key.type().defaultSignatureAlgorithm())));
        String id = X509Authority.hex(new JcaX509ExtensionUtils().createSubjectKeyIdentifier(key.publicKey())
                .getKeyIdentifier());
        return new X509Authority("x509-CA-A", key, cert, List.of(), id);
    }

    /** An issuing authority and the root a relying party trusts for it. */
    record Chain(X509Certificate root, X509Authority authority) {
    }

    /** A bundle source trusting {@code roots} for {@link #TRUST_DOMAIN}. */
    static BundleSource bundle(X509Certificate... roots) {
        return BundleSource.of(SpiffeBundle.of(TRUST_DOMAIN, List.of(roots), Map.of()));
    }

    static String authorityId(X509Certificate cert) {
        byte[] extension = cert.getExtensionValue(Extension.subjectKeyIdentifier.getId());
        byte[] keyId = org.bouncycastle.asn1.ASN1OctetString.getInstance(
                org.bouncycastle.asn1.ASN1OctetString.getInstance(extension).getOctets()).getOctets();
        return X509Authority.hex(keyId);
    }

    private static X509Certificate caCertificate(X500Name subject, ManagedKey subjectKey, X500Name issuer,
            ManagedKey issuerKey, Instant notBefore, Instant notAfter) throws Exception {
        JcaX509ExtensionUtils utils = new JcaX509ExtensionUtils();
        X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(issuer,
                new BigInteger(64, RANDOM).add(BigInteger.ONE), Date.from(notBefore), Date.from(notAfter), subject,
                subjectKey.publicKey());
        builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
        builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
        builder.addExtension(Extension.subjectKeyIdentifier, false,
                utils.createSubjectKeyIdentifier(subjectKey.publicKey()));
        if (issuerKey != subjectKey) {
            builder.addExtension(Extension.authorityKeyIdentifier, false,
                    utils.createAuthorityKeyIdentifier(issuerKey.publicKey()));
        }
        builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(
                new GeneralName(GeneralName.uniformResourceIdentifier, TRUST_DOMAIN.idString())));
        ManagedKeyContentSigner signer = new ManagedKeyContentSigner(issuerKey,
                issuerKey.type().defaultSignatureAlgorithm());
        return new JcaX509CertificateConverter().getCertificate(builder.build(signer));
    }
}
