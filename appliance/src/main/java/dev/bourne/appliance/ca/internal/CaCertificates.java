package dev.bourne.appliance.ca.internal;

import dev.bourne.core.config.CaSubject;
import dev.bourne.core.spiffeid.TrustDomain;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.AuthorityKeyIdentifier;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralSubtree;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.NameConstraints;
import org.bouncycastle.asn1.x509.SubjectKeyIdentifier;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.bc.BcX509ExtensionUtils;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.RuntimeOperatorException;

/**
 * Builds CA certificates in Bourne's profile: a random 128-bit serial, NotBefore back-dated by {@link #BACKDATE},
 * basicConstraints CA:true (critical), keyUsage keyCertSign and cRLSign (critical), subject and authority key
 * identifiers, and a critical name constraint that permits URI names only in the trust domain (RFC 5280 4.2.1.10).
 * Used for self-signed roots, for intermediates minted by an upstream authority, and for the pkcs11 upstream root.
 */
public final class CaCertificates {
    /** Clock skew allowance: relying parties whose clocks run a little behind still accept a new CA at once. */
    public static final Duration BACKDATE = Duration.ofSeconds(10);
    /** Serial number size: RFC 5280 allows up to 20 octets; 128 random bits make collisions negligible. */
    public static final int SERIAL_BITS = 128;

    private CaCertificates() {
    }

    /** SPIRE's default CA subject, C=US, O=SPIFFE, used when {@code ca_subject} is not set. */
    public static final CaSubject DEFAULT_SUBJECT = new CaSubject(List.of("US"), List.of("SPIFFE"), "");

    /** The X.500 name of {@code subject} (countries, then organizations, then the common name when not empty). */
    public static X500Name name(Optional<CaSubject> subject) {
        CaSubject s = subject.orElse(DEFAULT_SUBJECT);
        X500NameBuilder builder = new X500NameBuilder(BCStyle.INSTANCE);
        s.country().forEach(c -> builder.addRDN(BCStyle.C, c));
        s.organization().forEach(o -> builder.addRDN(BCStyle.O, o));
        if (!s.commonName().isEmpty()) {
            builder.addRDN(BCStyle.CN, s.commonName());
        }
        return builder.build();
    }

    /** A positive random serial number of {@link #SERIAL_BITS} bits, never zero. */
    public static BigInteger serial(SecureRandom random) {
        byte[] bytes = new byte[SERIAL_BITS / 8];
        BigInteger serial;
        do {
            random.nextBytes(bytes);
            serial = new BigInteger(1, bytes);
        } while (serial.signum() == 0);
        return serial;
    }

    /** The RFC 5280 method-1 key identifier (SHA-1 of the subject public key bits) of {@code key}. */
    public static byte[] keyIdentifier(PublicKey key) {
        SubjectPublicKeyInfo info = SubjectPublicKeyInfo.getInstance(key.getEncoded());
        return new BcX509ExtensionUtils().createSubjectKeyIdentifier(info).getKeyIdentifier();
    }

    /** The subject key identifier of {@code certificate}, or empty when it has none. */
    public static Optional<byte[]> subjectKeyIdentifier(X509Certificate certificate) {
        byte[] extension = certificate.getExtensionValue(Extension.subjectKeyIdentifier.getId());
        if (extension == null) {
            return Optional.empty();
        }
        try {
            byte[] octets = org.bouncycastle.asn1.ASN1OctetString.getInstance(extension).getOctets();
            return Optional.of(SubjectKeyIdentifier.getInstance(octets).getKeyIdentifier());
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /**
     * What to certify.
     *
     * @param subject the CA's name
     * @param subjectKey the CA's public key
     * @param trustDomain the domain its URI names are constrained to, or empty for an upstream root that may sign CAs
     *     of any domain
     * @param notBefore the intended start; the certificate starts {@link #BACKDATE} earlier
     * @param notAfter the end of validity
     */
    public record Request(X500Name subject, PublicKey subjectKey, Optional<TrustDomain> trustDomain, Instant notBefore,
            Instant notAfter) {
        public Request {
            Objects.requireNonNull(subject, "subject");
            Objects.requireNonNull(subjectKey, "subjectKey");
            Objects.requireNonNull(trustDomain, "trustDomain");
            Objects.requireNonNull(notBefore, "notBefore");
            Objects.requireNonNull(notAfter, "notAfter");
            if (!notAfter.isAfter(notBefore)) {
                throw new IllegalArgumentException("CA certificate would end (" + notAfter + ") before it starts ("
                        + notBefore + ")");
            }
        }
    }

    /**
     * Signs a CA certificate.
     *
     * @param issuer the issuer's name; equal to the request's subject for a self-signed root
     * @param issuerKey the issuer's public key, to set the authority key identifier and to verify the new signature
     * @param signer signs with the issuer's private key (one signer per certificate)
     * @throws GeneralSecurityException when the signer fails or its signature does not verify with {@code issuerKey}
     */
    public static X509Certificate sign(Request request, X500Name issuer, PublicKey issuerKey, ContentSigner signer,
            SecureRandom random) throws GeneralSecurityException {
        X509v3CertificateBuilder builder = new X509v3CertificateBuilder(issuer, serial(random),
                Date.from(request.notBefore().minus(BACKDATE)), Date.from(request.notAfter()), request.subject(),
                SubjectPublicKeyInfo.getInstance(request.subjectKey().getEncoded()));
        try {
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
            builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            builder.addExtension(Extension.subjectKeyIdentifier, false,
                    new SubjectKeyIdentifier(keyIdentifier(request.subjectKey())));
            builder.addExtension(Extension.authorityKeyIdentifier, false,
                    new AuthorityKeyIdentifier(keyIdentifier(issuerKey)));
            if (request.trustDomain().isPresent()) {
                // RFC 5280 4.2.1.10: a URI constraint is a host name, matched against the URI's host, which for a
                // SPIFFE ID is the trust domain. This CA then cannot vouch for an ID in any other trust domain, even
                // if someone trusts it for one. DNS SANs stay unconstrained (SVIDs may carry any DNS name).
                GeneralSubtree permitted = new GeneralSubtree(new GeneralName(GeneralName.uniformResourceIdentifier,
                        request.trustDomain().get().name()));
                builder.addExtension(Extension.nameConstraints, true,
                        new NameConstraints(new GeneralSubtree[] {permitted}, null));
            }
        } catch (CertIOException e) {
            throw new GeneralSecurityException("cannot encode CA certificate extensions", e);
        }
        byte[] der;
        try {
            der = builder.build(signer).getEncoded();
        } catch (RuntimeOperatorException e) {
            throw new GeneralSecurityException("cannot sign CA certificate: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new GeneralSecurityException("cannot encode CA certificate", e);
        }
        X509Certificate certificate = (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(der));
        // Check the signature we just made: a faulty HSM or a wrong key must not produce a CA nobody can verify.
        certificate.verify(issuerKey);
        return certificate;
    }

    /** Whether {@code certificate} is a CA that may sign certificates (basicConstraints CA and keyCertSign). */
    public static boolean isSigningCa(X509Certificate certificate) {
        boolean[] usage = certificate.getKeyUsage();
        return certificate.getBasicConstraints() >= 0 && usage != null && usage.length > 5 && usage[5];
    }

    /** Whether {@code certificate} names itself as issuer and its signature verifies with its own key. */
    public static boolean isSelfSigned(X509Certificate certificate) {
        if (!certificate.getSubjectX500Principal().equals(certificate.getIssuerX500Principal())) {
            return false;
        }
        try {
            certificate.verify(certificate.getPublicKey());
            return true;
        } catch (GeneralSecurityException e) {
            return false;
        }
    }
}
