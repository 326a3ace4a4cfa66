package dev.bourne.testing.pki;

import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A certificate authority built in code for tests: a root, intermediates under it, and X.509-SVID leaves that follow
 * the X509-SVID specification unless a test asks for a specific violation.
 *
 * <p>Certificates are built with BouncyCastle through a provider instance held here, never registered globally. Keys
 * default to {@link TestKeys}' fixed keys so building a PKI costs milliseconds.
 */
public final class TestCa {
    private static final BouncyCastleProvider BC = new BouncyCastleProvider();
    private static final SecureRandom RANDOM = new SecureRandom();

    private final String trustDomain;
    private final KeyPair keyPair;
    private final X509Certificate certificate;
    private final List<X509Certificate> chain;

    private TestCa(String trustDomain, KeyPair keyPair, X509Certificate certificate, List<X509Certificate> chain) {
        this.trustDomain = trustDomain;
        this.keyPair = keyPair;
        this.certificate = certificate;
        this.chain = List.copyOf(chain);
    }

    /** A self-signed root for {@code trustDomain} with a fixed P-256 key, valid from an hour ago for a year. */
    public static TestCa root(String trustDomain) {
        return root(trustDomain, TestKeys.ecP256(0), Instant.now().minus(Duration.ofHours(1)),
                Instant.now().plus(Duration.ofDays(365)));
    }

    /** A self-signed root with the given key and validity, and the URI SAN {@code spiffe://<trustDomain>}. */
    public static TestCa root(String trustDomain, KeyPair keyPair, Instant notBefore, Instant notAfter) {
        X500Name subject = new X500Name("O=Bourne tests,CN=" + trustDomain + " root " + RANDOM.nextInt(1 << 20));
        X509Certificate cert = new CertificateSpec(null, keyPair.getPublic())
                .subject(subject)
                .uris("spiffe://" + trustDomain)
                .ca(true)
                .keyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign, true)
                .noExtendedKeyUsage()
                .validity(notBefore, notAfter)
                .signWith(subject, keyPair, null);
        return new TestCa(trustDomain, keyPair, cert, List.of(cert));
    }

    /** An intermediate CA signed by this one, with {@code keyPair}, valid as long as this CA. */
    public TestCa intermediate(KeyPair intermediateKeys) {
        X500Name subject = new X500Name("O=Bourne tests,CN=" + trustDomain + " intermediate "
                + RANDOM.nextInt(1 << 20));
        X509Certificate cert = new CertificateSpec(this, intermediateKeys.getPublic())
                .subject(subject)
                .uris("spiffe://" + trustDomain)
                .ca(true)
                .keyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign, true)
                .noExtendedKeyUsage()
                .validity(certificate.getNotBefore().toInstant(), certificate.getNotAfter().toInstant())
                .issue();
        List<X509Certificate> newChain = new ArrayList<>();
        newChain.add(cert);
        newChain.addAll(chain);
        return new TestCa(trustDomain, intermediateKeys, cert, newChain);
    }

    /** A conforming X.509-SVID leaf for {@code spiffeId} over {@code subjectKey}, valid for an hour. */
    public X509Certificate leaf(String spiffeId, PublicKey subjectKey) {
        return leafSpec(spiffeId, subjectKey).issue();
    }

    /** A leaf specification starting from a conforming X.509-SVID, for tests that change one thing. */
    public CertificateSpec leafSpec(String spiffeId, PublicKey subjectKey) {
        Instant now = Instant.now();
        return new CertificateSpec(this, subjectKey)
                .subject(new X500Name("O=Bourne tests"))
                .uris(spiffeId)
                .ca(false)
                .keyUsage(KeyUsage.digitalSignature | KeyUsage.keyAgreement, true)
                .extendedKeyUsage(KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth)
                .validity(now.minusSeconds(10), now.plus(Duration.ofHours(1)));
    }

    /** A CA certificate specification under this CA, for tests that build unusual intermediates. */
    public CertificateSpec caSpec(PublicKey subjectKey) {
        return new CertificateSpec(this, subjectKey)
                .subject(new X500Name("O=Bourne tests,CN=custom CA " + RANDOM.nextInt(1 << 20)))
                .uris("spiffe://" + trustDomain)
                .ca(true)
                .keyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign, true)
                .noExtendedKeyUsage()
                .validity(certificate.getNotBefore().toInstant(), certificate.getNotAfter().toInstant());
    }

    public String trustDomain() {
        return trustDomain;
    }

    public X509Certificate certificate() {
        return certificate;
    }

    public KeyPair keyPair() {
        return keyPair;
    }

    /** This CA's certificate followed by its issuers up to and including the root. */
    public List<X509Certificate> chain() {
        return chain;
    }

    /** The root certificate of this CA's chain. */
    public X509Certificate rootCertificate() {
        return chain.get(chain.size() - 1);
    }

    /** This CA's chain without the root: what an SVID carries after its leaf. */
    public List<X509Certificate> intermediates() {
        return chain.subList(0, chain.size() - 1);
    }

    static String signatureAlgorithm(KeyPair signer) {
        switch (signer.getPrivate().getAlgorithm()) {
            case "EC":
                return "SHA256withECDSA";
            case "RSA":
                return "SHA256withRSA";
            default:
                throw new IllegalArgumentException("unsupported CA key algorithm " + signer.getPrivate().getAlgorithm());
        }
    }

    /** The fields of a certificate to issue; every setter returns this, {@link #issue()} signs. */
    public static final class CertificateSpec {
        private final TestCa issuer;
        private final PublicKey subjectKey;
        private X500Name subject = new X500Name("O=Bourne tests");
        private List<String> uris = List.of();
        private List<String> dnsNames = List.of();
        private Boolean ca;
        private boolean basicConstraintsCritical = true;
        private int keyUsageBits = -1;
        private boolean keyUsageCritical = true;
        private List<KeyPurposeId> extendedKeyUsages = List.of();
        private Instant notBefore = Instant.now().minusSeconds(10);
        private Instant notAfter = Instant.now().plus(Duration.ofHours(1));
        private KeyPair signer;

        CertificateSpec(TestCa issuer, PublicKey subjectKey) {
            this.issuer = issuer;
            this.subjectKey = subjectKey;
        }

        public CertificateSpec subject(X500Name name) {
            this.subject = name;
            return this;
        }

        /** URI SANs, in order; none when empty. */
        public CertificateSpec uris(String... values) {
            this.uris = List.of(values);
            return this;
        }

        public CertificateSpec dnsNames(String... values) {
            this.dnsNames = List.of(values);
            return this;
        }

        /** Basic constraints with the CA flag; {@code null} leaves the extension out. */
        public CertificateSpec ca(Boolean isCa) {
            this.ca = isCa;
            return this;
        }

        public CertificateSpec basicConstraintsCritical(boolean critical) {
            this.basicConstraintsCritical = critical;
            return this;
        }

        /** Key usage bits from {@link KeyUsage}; see {@link #noKeyUsage()} to leave the extension out. */
        public CertificateSpec keyUsage(int bits, boolean critical) {
            this.keyUsageBits = bits;
            this.keyUsageCritical = critical;
            return this;
        }

        public CertificateSpec noKeyUsage() {
            this.keyUsageBits = -1;
            return this;
        }

        public CertificateSpec extendedKeyUsage(KeyPurposeId... purposes) {
            this.extendedKeyUsages = List.of(purposes);
            return this;
        }

        public CertificateSpec noExtendedKeyUsage() {
            this.extendedKeyUsages = List.of();
            return this;
        }

        public CertificateSpec validity(Instant from, Instant until) {
            this.notBefore = from;
            this.notAfter = until;
            return this;
        }

        /** Signs with another key than the issuer's, to forge a certificate that claims the issuer's name. */
        public CertificateSpec forgedSigner(KeyPair otherKey) {
            this.signer = otherKey;
            return this;
        }

        /** Signs the certificate with the issuer's key (or the forged signer). */
        public X509Certificate issue() {
            if (issuer == null) {
                throw new IllegalStateException("a root is issued through TestCa.root");
            }
            X500Name issuerName = X500Name.getInstance(issuer.certificate.getSubjectX500Principal().getEncoded());
            return signWith(issuerName, signer != null ? signer : issuer.keyPair, issuer.certificate);
        }

        X509Certificate signWith(X500Name issuerName, KeyPair signingKeys, X509Certificate issuerCert) {
            try {
                BigInteger serial = new BigInteger(127, RANDOM).add(BigInteger.ONE);
                X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(issuerName, serial,
                        Date.from(notBefore), Date.from(notAfter), subject, subjectKey);
                JcaX509ExtensionUtils utils = new JcaX509ExtensionUtils();
                if (ca != null) {
                    builder.addExtension(Extension.basicConstraints, basicConstraintsCritical,
                            new BasicConstraints(ca));
                }
                if (keyUsageBits >= 0) {
                    builder.addExtension(Extension.keyUsage, keyUsageCritical, new KeyUsage(keyUsageBits));
                }
                if (!extendedKeyUsages.isEmpty()) {
                    builder.addExtension(Extension.extendedKeyUsage, false,
                            new ExtendedKeyUsage(extendedKeyUsages.toArray(new KeyPurposeId[0])));
                }
                List<GeneralName> names = new ArrayList<>();
                for (String uri : uris) {
                    names.add(new GeneralName(GeneralName.uniformResourceIdentifier, uri));
                }
                for (String dns : dnsNames) {
                    names.add(new GeneralName(GeneralName.dNSName, dns));
                }
                if (!names.isEmpty()) {
                    builder.addExtension(Extension.subjectAlternativeName, false,
                            new GeneralNames(names.toArray(new GeneralName[0])));
                }
                builder.addExtension(Extension.subjectKeyIdentifier, false,
                        utils.createSubjectKeyIdentifier(subjectKey));
                PublicKey authorityKey = issuerCert != null ? issuerCert.getPublicKey() : subjectKey;
                builder.addExtension(Extension.authorityKeyIdentifier, false,
                        utils.createAuthorityKeyIdentifier(authorityKey));
                ContentSigner contentSigner = new JcaContentSignerBuilder(signatureAlgorithm(signingKeys))
                        .setProvider(BC).build(signingKeys.getPrivate());
                return new JcaX509CertificateConverter().getCertificate(builder.build(contentSigner));
            } catch (CertIOException | GeneralSecurityException | OperatorCreationException e) {
                throw new IllegalStateException("cannot build test certificate", e);
            }
        }
    }

    /** All certificates of {@code leaf} followed by {@code ca}'s intermediates: the chain an SVID carries. */
    public static List<X509Certificate> svidChain(X509Certificate leaf, TestCa ca) {
        List<X509Certificate> out = new ArrayList<>();
        out.add(leaf);
        out.addAll(ca.intermediates());
        return Collections.unmodifiableList(out);
    }
}
