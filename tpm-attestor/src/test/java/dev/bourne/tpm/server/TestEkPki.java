package dev.bourne.tpm.server;

import java.math.BigInteger;
import java.security.KeyPair;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.concurrent.atomic.AtomicLong;
import org.bouncycastle.asn1.ASN1EncodableVector;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.DERSet;
import org.bouncycastle.asn1.DERUTF8String;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x509.Attribute;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A manufacturer-like EK PKI built in code: a root, an intermediate and EK certificates shaped like the TCG EK
 * Credential Profile's (empty subject, critical SAN directory name with TPM manufacturer, model and version), with
 * switches for the critical extensions a validator must accept or refuse.
 */
final class TestEkPki {

    static final ASN1ObjectIdentifier TPM_MANUFACTURER = new ASN1ObjectIdentifier("2.23.133.2.1");
    static final ASN1ObjectIdentifier TPM_MODEL = new ASN1ObjectIdentifier("2.23.133.2.2");
    static final ASN1ObjectIdentifier TPM_VERSION = new ASN1ObjectIdentifier("2.23.133.2.3");
    static final ASN1ObjectIdentifier TPM_SPECIFICATION = new ASN1ObjectIdentifier("2.23.133.2.16");
    private static final BouncyCastleProvider BC = new BouncyCastleProvider();
    private static final AtomicLong SERIAL = new AtomicLong(1000);

    final KeyPair rootKey;
    final KeyPair intermediateKey;
    final X509Certificate root;
    final X509Certificate intermediate;
    final Instant now;

    TestEkPki(KeyPair rootKey, KeyPair intermediateKey, Instant now) throws Exception {
        this.rootKey = rootKey;
        this.intermediateKey = intermediateKey;
        this.now = now;
        X500Name rootName = new X500Name("CN=Test TPM EK Root CA,O=Test TPM Vendor");
        X500Name intermediateName = new X500Name("CN=Test TPM EK Intermediate CA 01,O=Test TPM Vendor");
        this.root = ca(rootName, rootName, rootKey.getPublic(), rootKey, new BasicConstraints(true));
        this.intermediate = ca(intermediateName, rootName, intermediateKey.getPublic(), rootKey,
                new BasicConstraints(0));
    }

    private X509Certificate ca(X500Name subject, X500Name issuer, PublicKey key, KeyPair signer,
            BasicConstraints constraints) throws Exception {
        X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(issuer, BigInteger.valueOf(SERIAL.incrementAndGet()),
                Date.from(now.minus(Duration.ofDays(1))), Date.from(now.plus(Duration.ofDays(3650))), subject, key);
        b.addExtension(Extension.basicConstraints, true, constraints);
        b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
        return sign(b, signer);
    }

    /** Which extensions an EK certificate carries. */
    record EkExtensions(boolean criticalSubjectDirectoryAttributes, String unknownCriticalOid) {
        static final EkExtensions STANDARD = new EkExtensions(false, null);
    }

    /** An EK certificate for {@code ek}, issued by the intermediate. */
    X509Certificate ekCertificate(PublicKey ek, EkExtensions extensions) throws Exception {
        X500Name intermediateName = X500Name.getInstance(intermediate.getSubjectX500Principal().getEncoded());
        X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(intermediateName,
                BigInteger.valueOf(SERIAL.incrementAndGet()), Date.from(now.minus(Duration.ofDays(1))),
                Date.from(now.plus(Duration.ofDays(3650))), new X500Name(new org.bouncycastle.asn1.x500.RDN[0]), ek);
        X500Name tpm = new X500NameBuilder().addRDN(TPM_MANUFACTURER, "id:54455354").addRDN(TPM_MODEL, "TestTPM")
                .addRDN(TPM_VERSION, "id:00010002").build();
        b.addExtension(Extension.subjectAlternativeName, true,
                new GeneralNames(new GeneralName(GeneralName.directoryName, tpm)));
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
        b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyEncipherment));
        if (extensions.criticalSubjectDirectoryAttributes()) {
            ASN1EncodableVector spec = new ASN1EncodableVector();
            spec.add(new DERUTF8String("2.0"));
            Attribute attribute = new Attribute(TPM_SPECIFICATION, new DERSet(new DERSequence(spec)));
            b.addExtension(Extension.subjectDirectoryAttributes, true, new DERSequence(attribute));
        }
        if (extensions.unknownCriticalOid() != null) {
            b.addExtension(new ASN1ObjectIdentifier(extensions.unknownCriticalOid()), true, new DERUTF8String("x"));
        }
        return sign(b, intermediateKey);
    }

    static X509Certificate sign(X509v3CertificateBuilder b, KeyPair signer) throws Exception {
        String algorithm = signer.getPrivate().getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
        return new JcaX509CertificateConverter().setProvider(BC).getCertificate(
                b.build(new JcaContentSignerBuilder(algorithm).setProvider(BC).build(signer.getPrivate())));
    }
}
