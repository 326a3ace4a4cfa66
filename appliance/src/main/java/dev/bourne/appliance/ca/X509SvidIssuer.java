package dev.bourne.appliance.ca;

import dev.bourne.appliance.ca.SvidIssuanceException.Reason;
import dev.bourne.appliance.ca.internal.Der;
import dev.bourne.appliance.ca.internal.ManagedKeyContentSigner;
import dev.bourne.core.keymanager.KeyManagerException;
import dev.bourne.core.keymanager.ManagedKey;
import dev.bourne.core.keymanager.SignatureAlgorithm;
import dev.bourne.core.spiffeid.SpiffeId;
import dev.bourne.core.spiffeid.TrustDomain;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.x509.AuthorityKeyIdentifier;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;

/**
 * Issues X.509-SVIDs (workload and agent SVIDs alike) signed by an {@link X509Authority}, following the X509-SVID
 * profile: exactly one URI SAN (the SPIFFE ID, which must be in this CA's trust domain), optional DNS SANs with the
 * first as Subject CN, critical key usage (digitalSignature, plus keyAgreement for EC or keyEncipherment for RSA subject
 * keys), serverAuth and clientAuth extended key usage, critical basicConstraints CA:false, subject and authority key
 * identifiers, a 128-bit random serial, NotBefore ten seconds back and NotAfter capped at the CA's.
 *
 * <p>Speed: the CA's key signs every SVID, and everything around that signature is overhead on the server's hottest
 * path. The TBSCertificate is therefore written directly as DER from pieces encoded once per CA (issuer name, signature
 * AlgorithmIdentifier, authority key identifier, the constant extensions), varying only serial, validity, subject,
 * subject key, its key identifier and the SANs, instead of going through a certificate builder.
 *
 * <p>Thread-safe.
 *
 * @see <a href="https://github.com/spiffe/spiffe/blob/main/standards/X509-SVID.md">X509-SVID.md</a>
 */
public final class X509SvidIssuer {
    /** How far NotBefore is set back, so relying parties with slightly slow clocks accept a fresh SVID. */
    public static final Duration BACKDATE = Duration.ofSeconds(10);

    public static final String TTL_NOT_POSITIVE = "X.509-SVID TTL must be at least one second";
    public static final String ID_NOT_IN_TRUST_DOMAIN = "SPIFFE ID is not in the CA's trust domain";
    public static final String ID_HAS_NO_PATH = "SPIFFE ID must have a path: a trust domain ID cannot be an SVID";
    public static final String CA_EXPIRED = "the CA certificate has expired";
    public static final String CA_UNUSABLE = "the CA certificate cannot be encoded for issuing";

    private static final int CACHED_AUTHORITIES = 4;
    private static final byte[] VERSION_3 = {(byte) 0xa0, 0x03, 0x02, 0x01, 0x02};
    /** SEQUENCE { OID subjectKeyIdentifier, OCTET STRING { OCTET STRING (20 bytes) } }, up to the key ID. */
    private static final byte[] SKI_PREFIX = HexFormat.of().parseHex("301d0603551d0e04160414");
    private static final byte[] SAN_OID = HexFormat.of().parseHex("0603551d11");
    private static final byte[] CRITICAL = {0x01, 0x01, (byte) 0xff};
    /** SEQUENCE { OID commonName, ... } up to the UTF8String. */
    private static final byte[] CN_OID = HexFormat.of().parseHex("0603550403");
    private static final byte[] EMPTY_NAME = {0x30, 0x00};
    private static final int URI_TAG = 0x86;
    private static final int DNS_TAG = 0x82;

    /** SHA-1 for key identifiers (RFC 5280 4.2.1.2 method 1): an identifier, not a security property. */
    private static final ThreadLocal<MessageDigest> SHA1 = ThreadLocal.withInitial(() -> {
        try {
            return MessageDigest.getInstance("SHA-1");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-1", e);
        }
    });

    private final TrustDomain trustDomain;
    private final Clock clock;
    private final SecureRandom random;
    /** The pieces of the last few authorities used, newest first: usually one, two during a rotation. */
    private volatile CaProfile[] profiles = new CaProfile[0];

    /**
     * @param trustDomain the trust domain this CA issues for: SVIDs for any other are refused
     * @param random the source of serial numbers
     */
    public X509SvidIssuer(TrustDomain trustDomain, Clock clock, SecureRandom random) {
        this.trustDomain = Objects.requireNonNull(trustDomain, "trustDomain");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.random = Objects.requireNonNull(random, "random");
    }

    /**
     * Issues an SVID for the key in a CSR, after {@link CertificateRequests#parse checking the CSR}. The CSR's
     * subject and SANs are not copied: {@code spiffeId}, {@code dnsNames} and {@code ttl} come from the registration
     * entry.
     *
     * @throws X509SvidIssuanceException when the CSR, ID, DNS names or TTL are refused, or the CA cannot issue now
     * @throws KeyManagerException when the CA key cannot sign (HSM unavailable): not the caller's fault
     */
    public IssuedX509Svid issue(X509Authority ca, byte[] csr, SpiffeId spiffeId, List<String> dnsNames, Duration ttl)
            throws X509SvidIssuanceException, KeyManagerException {
        SubjectKey key = CertificateRequests.parse(csr, spiffeId);
        return issue(ca, key, spiffeId, dnsNames, ttl);
    }

    /**
     * Issues an SVID for a public key the caller holds the private half of (the server's own SVID, benchmarks).
     *
     * @throws X509SvidIssuanceException when the key type, ID, DNS names or TTL are refused, or the CA cannot issue
     * @throws KeyManagerException when the CA key cannot sign
     */
    public IssuedX509Svid issue(X509Authority ca, PublicKey subjectKey, SpiffeId spiffeId, List<String> dnsNames,
            Duration ttl) throws X509SvidIssuanceException, KeyManagerException {
        return issue(ca, SubjectKey.of(subjectKey), spiffeId, dnsNames, ttl);
    }

    /**
     * Issues an SVID for a subject key that passed the allowlist.
     *
     * @throws X509SvidIssuanceException when the ID, DNS names or TTL are refused, or the CA cannot issue now
     * @throws KeyManagerException when the CA key cannot sign
     */
    public IssuedX509Svid issue(X509Authority ca, SubjectKey subjectKey, SpiffeId spiffeId, List<String> dnsNames,
            Duration ttl) throws X509SvidIssuanceException, KeyManagerException {
        Objects.requireNonNull(ca, "ca");
        Objects.requireNonNull(subjectKey, "subjectKey");
        Objects.requireNonNull(spiffeId, "spiffeId");
        Objects.requireNonNull(dnsNames, "dnsNames");
        Objects.requireNonNull(ttl, "ttl");
        if (!spiffeId.memberOf(trustDomain)) {
            throw new X509SvidIssuanceException(Reason.INVALID_SPIFFE_ID, ID_NOT_IN_TRUST_DOMAIN + " "
                    + trustDomain + ": " + spiffeId);
        }
        if (spiffeId.isTrustDomainId()) {
            throw new X509SvidIssuanceException(Reason.INVALID_SPIFFE_ID, ID_HAS_NO_PATH);
        }
        DnsNames.check(dnsNames);
        CaProfile profile = profile(ca);
        long ttlSeconds = ttl.getSeconds();
        if (ttlSeconds < 1) {
            throw new X509SvidIssuanceException(Reason.INVALID_TTL, TTL_NOT_POSITIVE);
        }
        if (ttl.compareTo(profile.lifetime) > 0) {
            throw new X509SvidIssuanceException(Reason.INVALID_TTL, ttlExceedsCaLifetime(ttl, profile.lifetime));
        }
        long now = clock.instant().getEpochSecond();
        if (now >= profile.notAfter) {
            throw new X509SvidIssuanceException(Reason.AUTHORITY_UNUSABLE, CA_EXPIRED + " (" + ca.authorityId()
                    + ", at " + ca.notAfter() + ")");
        }
        long notBefore = now - BACKDATE.getSeconds();
        long notAfter = Math.min(now + ttlSeconds, profile.notAfter);

        byte[] serial = serial();
        byte[] tbs = tbsCertificate(profile, serial, notBefore, notAfter, subjectKey, spiffeId, dnsNames);
        byte[] signature = profile.key.sign(profile.algorithm, tbs);
        byte[] certificate = certificate(profile, tbs, signature);
        return new IssuedX509Svid(spiffeId, serial, Instant.ofEpochSecond(notBefore), Instant.ofEpochSecond(notAfter),
                certificate, profile.intermediates, profile.intermediateCertificates);
    }

    /** The message for a TTL longer than the CA certificate's whole validity, naming both. */
    public static String ttlExceedsCaLifetime(Duration ttl, Duration caLifetime) {
        return "X.509-SVID TTL " + ttl + " is longer than the CA certificate's whole lifetime " + caLifetime;
    }

    /** Positive, minimally encoded, 128 random bits: unpredictable serials (CA/B Forum asks for 64 bits at least). */
    private byte[] serial() {
        byte[] bytes = new byte[16];
        int first;
        do {
            random.nextBytes(bytes);
            first = 0;
            while (first < bytes.length && bytes[first] == 0) {
                first++;
            }
        } while (first == bytes.length);
        // Minimal DER INTEGER content: no leading zero octets, and a 0x00 in front when the top bit is set
        // (so the number stays positive).
        boolean pad = bytes[first] < 0;
        byte[] content = new byte[bytes.length - first + (pad ? 1 : 0)];
        System.arraycopy(bytes, first, content, pad ? 1 : 0, bytes.length - first);
        return content;
    }

    private static byte[] tbsCertificate(CaProfile profile, byte[] serial, long notBefore, long notAfter,
            SubjectKey subjectKey, SpiffeId spiffeId, List<String> dnsNames) {
        byte[] validityStart = Der.time(notBefore);
        byte[] validityEnd = Der.time(notAfter);
        int validityContent = validityStart.length + validityEnd.length;
        byte[] subject = subjectName(dnsNames);
        byte[] spki = subjectKey.encodedNoCopy();
        byte[] keyId = keyIdentifier(subjectKey);
        byte[] san = subjectAltName(spiffeId, dnsNames, subject.length == EMPTY_NAME.length);
        byte[] constant = subjectKey.isEc() ? profile.ecExtensions : profile.rsaExtensions;
        int extensionsContent = constant.length + SKI_PREFIX.length + keyId.length + profile.authorityKeyId.length
                + san.length;
        int extensionsSequence = Der.tlvLength(extensionsContent);
        int content = VERSION_3.length + Der.tlvLength(serial.length) + profile.signatureAlgorithm.length
                + profile.issuer.length + Der.tlvLength(validityContent) + subject.length + spki.length
                + Der.tlvLength(extensionsSequence);
        Der.Writer out = new Der.Writer(Der.tlvLength(content));
        out.header(Der.SEQUENCE, content)
                .write(VERSION_3)
                .header(Der.INTEGER, serial.length).write(serial)
                .write(profile.signatureAlgorithm)
                .write(profile.issuer)
                .header(Der.SEQUENCE, validityContent).write(validityStart).write(validityEnd)
                .write(subject)
                .write(spki)
                .header(0xa3, extensionsSequence)
                .header(Der.SEQUENCE, extensionsContent)
                .write(constant)
                .write(SKI_PREFIX).write(keyId)
                .write(profile.authorityKeyId)
                .write(san);
        return out.finish();
    }

    private static byte[] certificate(CaProfile profile, byte[] tbs, byte[] signature) {
        int bitString = signature.length + 1;
        int content = tbs.length + profile.signatureAlgorithm.length + Der.tlvLength(bitString);
        return new Der.Writer(Der.tlvLength(content))
                .header(Der.SEQUENCE, content)
                .write(tbs)
                .write(profile.signatureAlgorithm)
                .header(Der.BIT_STRING, bitString).write(0).write(signature)
                .finish();
    }

    /** CN = the first DNS name when there is one; otherwise an empty name (and the SAN becomes critical). */
    private static byte[] subjectName(List<String> dnsNames) {
        if (dnsNames.isEmpty()) {
            return EMPTY_NAME;
        }
        byte[] cn = dnsNames.get(0).getBytes(StandardCharsets.US_ASCII);
        int attribute = CN_OID.length + Der.tlvLength(cn.length);
        int set = Der.tlvLength(attribute);
        int name = Der.tlvLength(set);
        return new Der.Writer(Der.tlvLength(name))
                .header(Der.SEQUENCE, name)
                .header(Der.SET, set)
                .header(Der.SEQUENCE, attribute)
                .write(CN_OID)
                .header(Der.UTF8_STRING, cn.length).write(cn)
                .finish();
    }

    /**
     * The SAN extension: the SPIFFE ID as the only URI, then the DNS names. Critical when the subject is empty, as
     * RFC 5280 4.2.1.6 requires (the SAN is then the certificate's only name).
     */
    private static byte[] subjectAltName(SpiffeId spiffeId, List<String> dnsNames, boolean critical) {
        byte[] uri = spiffeId.toString().getBytes(StandardCharsets.US_ASCII);
        byte[][] dns = new byte[dnsNames.size()][];
        int names = Der.tlvLength(uri.length);
        for (int i = 0; i < dns.length; i++) {
            dns[i] = dnsNames.get(i).getBytes(StandardCharsets.US_ASCII);
            names += Der.tlvLength(dns[i].length);
        }
        int octets = Der.tlvLength(names);
        int extension = SAN_OID.length + (critical ? CRITICAL.length : 0) + Der.tlvLength(octets);
        Der.Writer out = new Der.Writer(Der.tlvLength(extension))
                .header(Der.SEQUENCE, extension)
                .write(SAN_OID);
        if (critical) {
            out.write(CRITICAL);
        }
        out.header(Der.OCTET_STRING, octets)
                .header(Der.SEQUENCE, names)
                .header(URI_TAG, uri.length).write(uri);
        for (byte[] name : dns) {
            out.header(DNS_TAG, name.length).write(name);
        }
        return out.finish();
    }

    private static byte[] keyIdentifier(SubjectKey key) {
        MessageDigest sha1 = SHA1.get();
        sha1.update(key.encodedNoCopy(), key.keyBitsOffset(), key.keyBitsLength());
        return sha1.digest();
    }

    private CaProfile profile(X509Authority ca) throws X509SvidIssuanceException {
        CaProfile[] current = profiles;
        for (CaProfile profile : current) {
            if (profile.authority == ca) {
                return profile;
            }
        }
        CaProfile fresh = CaProfile.of(ca);
        CaProfile[] next = new CaProfile[Math.min(current.length + 1, CACHED_AUTHORITIES)];
        next[0] = fresh;
        System.arraycopy(current, 0, next, 1, next.length - 1);
        profiles = next; // a lost race only costs a recomputation
        return fresh;
    }

    /** What every SVID of one CA shares, encoded once. */
    private static final class CaProfile {
        final X509Authority authority;
        final ManagedKey key;
        final SignatureAlgorithm algorithm;
        final byte[] signatureAlgorithm;
        final byte[] issuer;
        final long notAfter;
        final Duration lifetime;
        final byte[] ecExtensions;
        final byte[] rsaExtensions;
        final byte[] authorityKeyId;
        final List<byte[]> intermediates;
        final List<X509Certificate> intermediateCertificates;

        private CaProfile(X509Authority authority, byte[] signatureAlgorithm, byte[] ecExtensions,
                byte[] rsaExtensions, byte[] authorityKeyId, List<byte[]> intermediates) {
            this.authority = authority;
            this.key = authority.key();
            this.algorithm = authority.signatureAlgorithm();
            this.signatureAlgorithm = signatureAlgorithm;
            // The CA's subject exactly as encoded in its certificate, so issuer and subject match byte for byte.
            this.issuer = authority.certificate().getSubjectX500Principal().getEncoded();
            this.notAfter = authority.notAfter().getEpochSecond();
            this.lifetime = Duration.between(authority.notBefore(), authority.notAfter());
            this.ecExtensions = ecExtensions;
            this.rsaExtensions = rsaExtensions;
            this.authorityKeyId = authorityKeyId;
            this.intermediates = intermediates;
            this.intermediateCertificates = authority.intermediates();
        }

        static CaProfile of(X509Authority ca) throws X509SvidIssuanceException {
            try {
                byte[] algorithm = ManagedKeyContentSigner.algorithmIdentifier(ca.signatureAlgorithm())
                        .getEncoded(ASN1Encoding.DER);
                byte[] extendedKeyUsage = extension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(
                        new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
                byte[] basicConstraints = extension(Extension.basicConstraints, true, new BasicConstraints(false));
                byte[] ec = concat(extension(Extension.keyUsage, true,
                        new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyAgreement)), extendedKeyUsage,
                        basicConstraints);
                byte[] rsa = concat(extension(Extension.keyUsage, true,
                        new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment)), extendedKeyUsage,
                        basicConstraints);
                byte[] aki = extension(Extension.authorityKeyIdentifier, false,
                        new AuthorityKeyIdentifier(subjectKeyIdentifier(ca.certificate())));
                List<byte[]> intermediates = new ArrayList<>();
                for (X509Certificate certificate : ca.intermediates()) {
                    intermediates.add(certificate.getEncoded());
                }
                return new CaProfile(ca, algorithm, ec, rsa, aki, List.copyOf(intermediates));
            } catch (IOException | CertificateEncodingException | RuntimeException e) {
                throw new X509SvidIssuanceException(Reason.AUTHORITY_UNUSABLE, CA_UNUSABLE + " (" + ca.authorityId()
                        + ")", e);
            }
        }

        /** The CA certificate's own SKI, or (when it has none) the method 1 hash of its key. */
        private static byte[] subjectKeyIdentifier(X509Certificate ca) throws X509SvidIssuanceException {
            byte[] extension = ca.getExtensionValue(Extension.subjectKeyIdentifier.getId());
            if (extension != null) {
                return ASN1OctetString.getInstance(ASN1OctetString.getInstance(extension).getOctets()).getOctets();
            }
            SubjectKey key = SubjectKey.of(ca.getPublicKey());
            return keyIdentifier(key);
        }

        private static byte[] extension(org.bouncycastle.asn1.ASN1ObjectIdentifier oid, boolean critical,
                org.bouncycastle.asn1.ASN1Encodable value) throws IOException {
            return new Extension(oid, critical, value.toASN1Primitive().getEncoded(ASN1Encoding.DER))
                    .getEncoded(ASN1Encoding.DER);
        }

        private static byte[] concat(byte[]... parts) {
            byte[] out = new byte[Arrays.stream(parts).mapToInt(part -> part.length).sum()];
            int pos = 0;
            for (byte[] part : parts) {
                System.arraycopy(part, 0, out, pos, part.length);
                pos += part.length;
            }
            return out;
        }
    }
}
