package dev.bourne.appliance.ca;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bourne.appliance.ca.SvidIssuanceException.Reason;
import dev.bourne.core.keymanager.HsmUnavailableException;
import dev.bourne.core.keymanager.KeyManagerException;
import dev.bourne.core.keymanager.KeyType;
import dev.bourne.core.keymanager.ManagedKey;
import dev.bourne.core.keymanager.SignatureAlgorithm;
import dev.bourne.core.spiffeid.SpiffeId;
import dev.bourne.core.svid.x509.X509Svid;
import dev.bourne.core.svid.x509.X509SvidVerifier;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.security.KeyPair;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Date;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.bouncycastle.asn1.ASN1GeneralizedTime;
import org.bouncycastle.asn1.ASN1UTCTime;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.AuthorityKeyIdentifier;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Certificate;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.SubjectKeyIdentifier;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class X509SvidIssuerTest {
    private static final Instant NOW = Instant.parse("2026-12-04T06:00:00Z");
    private static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);
    private static final Instant CA_START = NOW.minus(Duration.ofHours(1));
    private static final Instant CA_END = NOW.plus(Duration.ofHours(23));
    private static final SpiffeId WORKLOAD = SpiffeId.parse("spiffe://example.org/ns/prod/sa/web");

    private static X509Authority ecCa;
    private static KeyPair subjectKeys;
    private final X509SvidIssuer issuer = new X509SvidIssuer(TestAuthorities.TRUST_DOMAIN, CLOCK, new SecureRandom());

    @BeforeAll
    static void authorities() throws Exception {
        ecCa = TestAuthorities.selfSigned(TestAuthorities.memoryKey("x509-CA-A", KeyType.EC_P256), CA_START, CA_END);
        subjectKeys = TestCsrs.generate("EC", new ECGenParameterSpec("secp256r1"));
    }

    @Test
    void issue_ecSubjectWithoutDns_followsTheProfileFieldByField() throws Exception {
        IssuedX509Svid svid = issuer.issue(ecCa, subjectKeys.getPublic(), WORKLOAD, List.of(), Duration.ofHours(1));

        X509Certificate jdk = parseJdk(svid.leafDer());
        X509CertificateHolder bc = new X509CertificateHolder(svid.leafDer());
        assertEquals(3, jdk.getVersion());
        assertEquals(svid.serialNumber(), jdk.getSerialNumber());
        assertEquals(1, jdk.getSerialNumber().signum(), "positive serial");
        assertTrue(jdk.getSerialNumber().bitLength() <= 128, "at most 128 bits");
        assertEquals("SHA256withECDSA", jdk.getSigAlgName());
        assertEquals(bc.getSignatureAlgorithm(), bc.toASN1Structure().getTBSCertificate().getSignature(),
                "outer and inner signature algorithms agree");
        assertEquals(ecCa.certificate().getSubjectX500Principal(), jdk.getIssuerX500Principal());
        assertArrayEquals(ecCa.certificate().getSubjectX500Principal().getEncoded(),
                jdk.getIssuerX500Principal().getEncoded(), "issuer bytes are the CA subject's");
        assertEquals(Date.from(NOW.minusSeconds(10)), jdk.getNotBefore());
        assertEquals(Date.from(NOW.plus(Duration.ofHours(1))), jdk.getNotAfter());
        assertEquals(NOW.minusSeconds(10), svid.notBefore());
        assertEquals(NOW.plus(Duration.ofHours(1)), svid.notAfter());
        assertEquals(0, bc.getSubject().getRDNs().length, "empty subject without DNS names");
        assertEquals(subjectKeys.getPublic(), jdk.getPublicKey());

        Extension san = bc.getExtension(Extension.subjectAlternativeName);
        assertTrue(san.isCritical(), "SAN critical when the subject is empty (RFC 5280 4.2.1.6)");
        GeneralName[] names = GeneralNames.getInstance(san.getParsedValue()).getNames();
        assertEquals(1, names.length);
        assertEquals(GeneralName.uniformResourceIdentifier, names[0].getTagNo());
        assertEquals(WORKLOAD.toString(), names[0].getName().toString());

        Extension keyUsage = bc.getExtension(Extension.keyUsage);
        assertTrue(keyUsage.isCritical());
        assertEquals(new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyAgreement),
                KeyUsage.getInstance(keyUsage.getParsedValue()));
        boolean[] bits = jdk.getKeyUsage();
        assertTrue(bits[0] && bits[4] && !bits[2] && !bits[5] && !bits[6], "digitalSignature+keyAgreement only");

        Extension eku = bc.getExtension(Extension.extendedKeyUsage);
        assertFalse(eku.isCritical());
        ExtendedKeyUsage purposes = ExtendedKeyUsage.getInstance(eku.getParsedValue());
        assertEquals(2, purposes.getUsages().length);
        assertTrue(purposes.hasKeyPurposeId(KeyPurposeId.id_kp_serverAuth));
        assertTrue(purposes.hasKeyPurposeId(KeyPurposeId.id_kp_clientAuth));

        Extension basic = bc.getExtension(Extension.basicConstraints);
        assertTrue(basic.isCritical());
        assertFalse(BasicConstraints.getInstance(basic.getParsedValue()).isCA());
        assertEquals(-1, jdk.getBasicConstraints());

        SubjectKeyIdentifier expectedSki = new JcaX509ExtensionUtils().createSubjectKeyIdentifier(
                subjectKeys.getPublic());
        assertArrayEquals(expectedSki.getKeyIdentifier(), SubjectKeyIdentifier.getInstance(
                bc.getExtension(Extension.subjectKeyIdentifier).getParsedValue()).getKeyIdentifier());
        AuthorityKeyIdentifier aki = AuthorityKeyIdentifier.getInstance(
                bc.getExtension(Extension.authorityKeyIdentifier).getParsedValue());
        assertEquals(ecCa.authorityId(), X509Authority.hex(aki.getKeyIdentifier()));
        assertNull(aki.getAuthorityCertIssuer());
        assertEquals(Set.of(Extension.keyUsage, Extension.extendedKeyUsage, Extension.basicConstraints,
                Extension.subjectKeyIdentifier, Extension.authorityKeyIdentifier, Extension.subjectAlternativeName),
                new HashSet<>(bc.getExtensionOIDs()), "no other extensions");

        assertTrue(bc.isSignatureValid(new JcaContentVerifierProviderBuilder().setProvider(TestCsrs.BC)
                .build(ecCa.certificate().getPublicKey())), "BouncyCastle verifies the signature");
        jdk.verify(ecCa.certificate().getPublicKey());
        assertEquals(WORKLOAD, X509Svid.parse(List.of(jdk)).spiffeId());
        assertEquals(WORKLOAD, new X509SvidVerifier(TestAuthorities.bundle(ecCa.certificate()), CLOCK)
                .verify(svid.chain()).spiffeId());
        pkix(svid.chain(), ecCa.certificate());
        assertArrayEquals(jdk.getEncoded(), bc.getEncoded(), "JDK and BouncyCastle see the same DER");
        assertArrayEquals(svid.leafDer(), Certificate.getInstance(svid.leafDer()).getEncoded("DER"),
                "the output is canonical DER");
    }

    @Test
    void issue_withDnsNames_firstIsCommonNameAndSanFollowsUri() throws Exception {
        List<String> dns = List.of("web.example.org", "*.web.example.org", "Web-2.internal");
        IssuedX509Svid svid = issuer.issue(ecCa, subjectKeys.getPublic(), WORKLOAD, dns, Duration.ofMinutes(5));

        X509CertificateHolder bc = new X509CertificateHolder(svid.leafDer());
        assertEquals(new X500Name("CN=web.example.org"), bc.getSubject());
        assertEquals("CN=web.example.org", svid.certificate().getSubjectX500Principal().getName());
        Extension san = bc.getExtension(Extension.subjectAlternativeName);
        assertFalse(san.isCritical(), "SAN not critical when the subject names the certificate");
        GeneralName[] names = GeneralNames.getInstance(san.getParsedValue()).getNames();
        assertEquals(4, names.length);
        assertEquals(new GeneralName(GeneralName.uniformResourceIdentifier, WORKLOAD.toString()), names[0]);
        for (int i = 0; i < dns.size(); i++) {
            assertEquals(new GeneralName(GeneralName.dNSName, dns.get(i)), names[i + 1]);
        }
        assertEquals(NOW.plus(Duration.ofMinutes(5)), svid.certificate().getNotAfter().toInstant());
        new X509SvidVerifier(TestAuthorities.bundle(ecCa.certificate()), CLOCK).verify(svid.chain());
        pkix(svid.chain(), ecCa.certificate());
    }

    @Test
    void issue_rsaSubject_keyEnciphermentInsteadOfKeyAgreement() throws Exception {
        KeyPair rsa = TestCsrs.generate("RSA", 2048);
        IssuedX509Svid svid = issuer.issue(ecCa, rsa.getPublic(), WORKLOAD, List.of(), Duration.ofHours(1));

        X509CertificateHolder bc = new X509CertificateHolder(svid.leafDer());
        assertEquals(new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment),
                KeyUsage.getInstance(bc.getExtension(Extension.keyUsage).getParsedValue()));
        assertEquals(rsa.getPublic(), svid.certificate().getPublicKey());
        assertArrayEquals(new JcaX509ExtensionUtils().createSubjectKeyIdentifier(rsa.getPublic()).getKeyIdentifier(),
                SubjectKeyIdentifier.getInstance(bc.getExtension(Extension.subjectKeyIdentifier).getParsedValue())
                        .getKeyIdentifier());
        pkix(svid.chain(), ecCa.certificate());
    }

    static Stream<Arguments> caKeyTypes() {
        return Stream.of(
                Arguments.of(KeyType.EC_P256, "SHA256withECDSA"),
                Arguments.of(KeyType.EC_P384, "SHA384withECDSA"),
                Arguments.of(KeyType.RSA_2048, "SHA256withRSA"));
    }

    @ParameterizedTest
    @MethodSource("caKeyTypes")
    void issue_eachCaKeyType_signsWithItsDefaultAlgorithm(KeyType type, String algorithm) throws Exception {
        X509Authority ca = TestAuthorities.selfSigned(TestAuthorities.memoryKey("x509-CA-A", type), CA_START, CA_END);
        KeyPair p384 = TestCsrs.generate("EC", new ECGenParameterSpec("secp384r1"));
        IssuedX509Svid svid = issuer.issue(ca, p384.getPublic(), WORKLOAD, List.of(), Duration.ofHours(1));

        assertEquals(algorithm, svid.certificate().getSigAlgName());
        assertEquals(p384.getPublic(), svid.certificate().getPublicKey());
        new X509SvidVerifier(TestAuthorities.bundle(ca.certificate()), CLOCK).verify(svid.chain());
        pkix(svid.chain(), ca.certificate());
    }

    @Test
    void issue_underIntermediate_chainCarriesItAndVerifiesToTheRoot() throws Exception {
        TestAuthorities.Chain chain = TestAuthorities.twoLevel(
                TestAuthorities.memoryKey("upstream", KeyType.EC_P384),
                TestAuthorities.memoryKey("x509-CA-B", KeyType.EC_P256), CA_START, CA_END);
        SpiffeId agent = SpiffeId.parse("spiffe://example.org/spire/agent/join_token/4c1f7e2a");
        IssuedX509Svid svid = issuer.issue(chain.authority(), subjectKeys.getPublic(), agent, List.of(),
                Duration.ofHours(1));

        List<byte[]> der = svid.chainDer();
        assertEquals(2, der.size());
        assertArrayEquals(svid.leafDer(), der.get(0));
        assertArrayEquals(chain.authority().certificate().getEncoded(), der.get(1));
        ByteArrayOutputStream concatenated = new ByteArrayOutputStream();
        concatenated.write(der.get(0));
        concatenated.write(der.get(1));
        assertArrayEquals(concatenated.toByteArray(), svid.chainDerConcatenated());
        List<X509Certificate> parsed = CertificateFactory.getInstance("X.509").generateCertificates(
                new ByteArrayInputStream(svid.chainDerConcatenated())).stream()
                .map(X509Certificate.class::cast).toList();
        assertEquals(svid.chain(), parsed);

        assertEquals(agent, new X509SvidVerifier(TestAuthorities.bundle(chain.root()), CLOCK)
                .verify(parsed).spiffeId());
        pkix(parsed, chain.root());
        AuthorityKeyIdentifier aki = AuthorityKeyIdentifier.getInstance(new X509CertificateHolder(svid.leafDer())
                .getExtension(Extension.authorityKeyIdentifier).getParsedValue());
        assertEquals(chain.authority().authorityId(), X509Authority.hex(aki.getKeyIdentifier()));
    }

    @Test
    void issue_underUpstreamChain_chainIsLeafCaThenUpstream() throws Exception {
        TestAuthorities.Chain chain = TestAuthorities.threeLevel(
                TestAuthorities.memoryKey("root", KeyType.EC_P256),
                TestAuthorities.memoryKey("upstream", KeyType.RSA_2048),
                TestAuthorities.memoryKey("x509-CA-A", KeyType.EC_P256), CA_START, CA_END);
        IssuedX509Svid svid = issuer.issue(chain.authority(), subjectKeys.getPublic(), WORKLOAD, List.of(),
                Duration.ofHours(1));

        List<X509Certificate> parsed = CertificateFactory.getInstance("X.509").generateCertificates(
                new ByteArrayInputStream(svid.chainDerConcatenated())).stream()
                .map(X509Certificate.class::cast).toList();
        assertEquals(List.of(svid.certificate(), chain.authority().certificate(),
                chain.authority().upstreamChain().get(0)), parsed);
        assertEquals(3, svid.chainDer().size());
        new X509SvidVerifier(TestAuthorities.bundle(chain.root()), CLOCK).verify(parsed);
        pkix(parsed, chain.root());
    }

    @Test
    void issue_caCertificateWithoutSki_akiIsTheCaKeyHash() throws Exception {
        X509Authority ca = TestAuthorities.selfSignedWithoutSki(
                TestAuthorities.memoryKey("x509-CA-A", KeyType.EC_P384), CA_START, CA_END);
        IssuedX509Svid svid = issuer.issue(ca, subjectKeys.getPublic(), WORKLOAD, List.of(), Duration.ofHours(1));
        AuthorityKeyIdentifier aki = AuthorityKeyIdentifier.getInstance(new X509CertificateHolder(svid.leafDer())
                .getExtension(Extension.authorityKeyIdentifier).getParsedValue());
        assertEquals(ca.authorityId(), X509Authority.hex(aki.getKeyIdentifier()));
        pkix(svid.chain(), ca.certificate());
    }

    @Test
    void issue_fromSeveralThreads_everySvidValidAndSerialsDistinct() throws Exception {
        X509Authority second = TestAuthorities.selfSigned(TestAuthorities.memoryKey("x509-CA-B", KeyType.EC_P256),
                CA_START, CA_END);
        X509SvidVerifier verifier = new X509SvidVerifier(TestAuthorities.bundle(ecCa.certificate(),
                second.certificate()), CLOCK);
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
        try {
            List<java.util.concurrent.Future<IssuedX509Svid>> futures = new java.util.ArrayList<>();
            for (int i = 0; i < 200; i++) {
                X509Authority ca = i % 2 == 0 ? ecCa : second;
                SpiffeId id = SpiffeId.parse("spiffe://example.org/workload/" + i);
                futures.add(pool.submit(() -> issuer.issue(ca, subjectKeys.getPublic(), id, List.of(),
                        Duration.ofHours(1))));
            }
            Set<BigInteger> serials = new HashSet<>();
            for (int i = 0; i < futures.size(); i++) {
                IssuedX509Svid svid = futures.get(i).get();
                assertEquals(SpiffeId.parse("spiffe://example.org/workload/" + i),
                        verifier.verify(svid.chain()).spiffeId());
                assertEquals((i % 2 == 0 ? ecCa : second).certificate().getSubjectX500Principal(),
                        svid.certificate().getIssuerX500Principal());
                serials.add(svid.serialNumber());
            }
            assertEquals(200, serials.size());
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void issue_ttlBeyondCaEnd_cappedAtCaNotAfter() throws Exception {
        Instant caEnd = NOW.plus(Duration.ofMinutes(30));
        X509Authority ca = TestAuthorities.selfSigned(TestAuthorities.memoryKey("x509-CA-A", KeyType.EC_P256),
                NOW.minus(Duration.ofHours(2)), caEnd);
        IssuedX509Svid svid = issuer.issue(ca, subjectKeys.getPublic(), WORKLOAD, List.of(), Duration.ofHours(1));
        assertEquals(caEnd, svid.notAfter());
        assertEquals(Date.from(caEnd), svid.certificate().getNotAfter());
    }

    @Test
    void issue_ttlLongerThanCaLifetime_refusedNamingBoth() throws Exception {
        X509SvidIssuanceException e = assertThrows(X509SvidIssuanceException.class, () -> issuer.issue(ecCa,
                subjectKeys.getPublic(), WORKLOAD, List.of(), Duration.ofHours(25)));
        assertEquals(Reason.INVALID_TTL, e.reason());
        assertEquals(X509SvidIssuer.ttlExceedsCaLifetime(Duration.ofHours(25), Duration.ofHours(24)), e.getMessage());
        assertTrue(e.getMessage().contains("PT25H") && e.getMessage().contains("PT24H"), e.getMessage());
    }

    @ParameterizedTest
    @MethodSource("badTtls")
    void issue_ttlUnderOneSecond_refused(Duration ttl) {
        X509SvidIssuanceException e = assertThrows(X509SvidIssuanceException.class,
                () -> issuer.issue(ecCa, subjectKeys.getPublic(), WORKLOAD, List.of(), ttl));
        assertEquals(Reason.INVALID_TTL, e.reason());
        assertEquals(X509SvidIssuer.TTL_NOT_POSITIVE, e.getMessage());
    }

    static Stream<Duration> badTtls() {
        return Stream.of(Duration.ZERO, Duration.ofSeconds(-5), Duration.ofMillis(999));
    }

    @Test
    void issue_idOfAnotherTrustDomain_refused() {
        X509SvidIssuanceException e = assertThrows(X509SvidIssuanceException.class,
                () -> issuer.issue(ecCa, subjectKeys.getPublic(), SpiffeId.parse("spiffe://evil.org/web"),
                        List.of(), Duration.ofHours(1)));
        assertEquals(Reason.INVALID_SPIFFE_ID, e.reason());
        assertEquals(X509SvidIssuer.ID_NOT_IN_TRUST_DOMAIN + " example.org: spiffe://evil.org/web", e.getMessage());
    }

    @Test
    void issue_trustDomainId_refused() {
        X509SvidIssuanceException e = assertThrows(X509SvidIssuanceException.class, () -> issuer.issue(ecCa,
                subjectKeys.getPublic(), TestAuthorities.TRUST_DOMAIN.id(), List.of(), Duration.ofHours(1)));
        assertEquals(X509SvidIssuer.ID_HAS_NO_PATH, e.getMessage());
    }

    @Test
    void issue_expiredCa_refusedAsAuthorityProblem() throws Exception {
        X509Authority expired = TestAuthorities.selfSigned(TestAuthorities.memoryKey("x509-CA-A", KeyType.EC_P256),
                NOW.minus(Duration.ofDays(2)), NOW.minus(Duration.ofDays(1)));
        X509SvidIssuanceException e = assertThrows(X509SvidIssuanceException.class, () -> issuer.issue(expired,
                subjectKeys.getPublic(), WORKLOAD, List.of(), Duration.ofHours(1)));
        assertEquals(Reason.AUTHORITY_UNUSABLE, e.reason());
        assertFalse(e.reason().badRequest());
        assertTrue(e.getMessage().startsWith(X509SvidIssuer.CA_EXPIRED), e.getMessage());
    }

    static Stream<Arguments> badDnsNames() {
        return Stream.of(
                Arguments.of("", DnsNames.EMPTY),
                Arguments.of("a..b", DnsNames.EMPTY_LABEL),
                Arguments.of("trailing.dot.", DnsNames.EMPTY_LABEL),
                Arguments.of("a".repeat(64) + ".org", DnsNames.LABEL_TOO_LONG),
                Arguments.of(("a".repeat(60) + ".").repeat(5) + "org", DnsNames.TOO_LONG),
                Arguments.of("under_score.org", DnsNames.BAD_CHARACTER),
                Arguments.of("spa ce.org", DnsNames.BAD_CHARACTER),
                Arguments.of("caf\u00e9.org", DnsNames.BAD_CHARACTER),
                Arguments.of("-lead.org", DnsNames.LABEL_HYPHEN),
                Arguments.of("trail-.org", DnsNames.LABEL_HYPHEN),
                Arguments.of("a.*.org", DnsNames.WILDCARD_POSITION),
                Arguments.of("*a.example.org", DnsNames.WILDCARD_POSITION),
                Arguments.of("**.example.org", DnsNames.WILDCARD_POSITION),
                Arguments.of("*.org", DnsNames.WILDCARD_TOO_BROAD),
                Arguments.of("*", DnsNames.WILDCARD_TOO_BROAD));
    }

    @ParameterizedTest
    @MethodSource("badDnsNames")
    void issue_invalidDnsName_refusedNamingTheRule(String name, String rule) {
        X509SvidIssuanceException e = assertThrows(X509SvidIssuanceException.class, () -> issuer.issue(ecCa,
                subjectKeys.getPublic(), WORKLOAD, List.of("ok.example.org", name), Duration.ofHours(1)));
        assertEquals(Reason.INVALID_DNS_NAME, e.reason());
        assertTrue(e.getMessage().startsWith(rule + ": \""), e.getMessage());
    }

    @Test
    void issue_firstDnsNameTooLongForCommonName_refused() {
        String name = "a".repeat(60) + ".example.org";
        X509SvidIssuanceException e = assertThrows(X509SvidIssuanceException.class, () -> issuer.issue(ecCa,
                subjectKeys.getPublic(), WORKLOAD, List.of(name), Duration.ofHours(1)));
        assertTrue(e.getMessage().startsWith(DnsNames.COMMON_NAME_TOO_LONG), e.getMessage());
    }

    @Test
    void issue_tooManyDnsNames_refused() {
        List<String> names = Stream.iterate(0, i -> i + 1).limit(DnsNames.MAX_NAMES + 1)
                .map(i -> "host" + i + ".example.org").toList();
        X509SvidIssuanceException e = assertThrows(X509SvidIssuanceException.class, () -> issuer.issue(ecCa,
                subjectKeys.getPublic(), WORKLOAD, names, Duration.ofHours(1)));
        assertEquals(DnsNames.TOO_MANY, e.getMessage());
    }

    static Stream<Arguments> disallowedKeys() throws Exception {
        return Stream.of(
                Arguments.of("RSA-1024", TestCsrs.generate("RSA", 1024).getPublic(), SubjectKey.RSA_TOO_SHORT),
                Arguments.of("RSA-8192 modulus", TestCsrs.generate("RSA", 4104).getPublic(), SubjectKey.RSA_TOO_LONG),
                Arguments.of("P-521", TestCsrs.generate("EC", new ECGenParameterSpec("secp521r1")).getPublic(),
                        SubjectKey.EC_CURVE_NOT_ALLOWED),
                Arguments.of("secp256k1", TestCsrs.generate("EC", new ECGenParameterSpec("secp256k1")).getPublic(),
                        SubjectKey.EC_CURVE_NOT_ALLOWED),
                Arguments.of("Ed25519", TestCsrs.generate("Ed25519", null).getPublic(),
                        SubjectKey.KEY_TYPE_NOT_ALLOWED),
                Arguments.of("DSA", TestCsrs.generate("DSA", 2048).getPublic(), SubjectKey.KEY_TYPE_NOT_ALLOWED));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("disallowedKeys")
    void issue_keyOutsideAllowlist_refused(String name, PublicKey key, String message) {
        X509SvidIssuanceException e = assertThrows(X509SvidIssuanceException.class,
                () -> issuer.issue(ecCa, key, WORKLOAD, List.of(), Duration.ofHours(1)));
        assertEquals(Reason.UNSUPPORTED_KEY, e.reason());
        assertEquals(message, e.getMessage());
    }

    @Test
    void issue_serialsAreDistinctPositiveAndRandomLength() throws Exception {
        Set<BigInteger> serials = new HashSet<>();
        int longest = 0;
        for (int i = 0; i < 200; i++) {
            BigInteger serial = issuer.issue(ecCa, subjectKeys.getPublic(), WORKLOAD, List.of(), Duration.ofHours(1))
                    .certificate().getSerialNumber();
            assertEquals(1, serial.signum());
            assertTrue(serial.bitLength() <= 128);
            longest = Math.max(longest, serial.bitLength());
            serials.add(serial);
        }
        assertEquals(200, serials.size());
        assertTrue(longest > 120, "128 random bits, longest seen " + longest);
    }

    @Test
    void issue_validityPast2049_usesGeneralizedTime() throws Exception {
        Instant now = Instant.parse("2049-12-31T23:30:00Z");
        Clock clock = Clock.fixed(now, ZoneOffset.UTC);
        X509Authority ca = TestAuthorities.selfSigned(TestAuthorities.memoryKey("x509-CA-A", KeyType.EC_P256),
                now.minus(Duration.ofHours(1)), now.plus(Duration.ofDays(2)));
        IssuedX509Svid svid = new X509SvidIssuer(TestAuthorities.TRUST_DOMAIN, clock, new SecureRandom())
                .issue(ca, subjectKeys.getPublic(), WORKLOAD, List.of(), Duration.ofHours(1));

        org.bouncycastle.asn1.x509.TBSCertificate tbs = Certificate.getInstance(svid.leafDer()).getTBSCertificate();
        assertTrue(tbs.getStartDate().toASN1Primitive() instanceof ASN1UTCTime, "2049 as UTCTime");
        assertTrue(tbs.getEndDate().toASN1Primitive() instanceof ASN1GeneralizedTime, "2050 as GeneralizedTime");
        assertEquals(Date.from(now.minusSeconds(10)), svid.certificate().getNotBefore());
        assertEquals(Date.from(Instant.parse("2050-01-01T00:30:00Z")), svid.certificate().getNotAfter());
        new X509SvidVerifier(TestAuthorities.bundle(ca.certificate()), clock).verify(svid.chain());
    }

    @Test
    void issue_keyManagerFailure_propagatesAsKeyManagerException() throws Exception {
        ManagedKey real = TestAuthorities.memoryKey("x509-CA-A", KeyType.EC_P256);
        X509Authority ok = TestAuthorities.selfSigned(real, CA_START, CA_END);
        X509Authority unavailable = new X509Authority(ok.slotId(), new UnavailableKey(real), ok.certificate(),
                List.of(), ok.authorityId());
        HsmUnavailableException e = assertThrows(HsmUnavailableException.class, () -> issuer.issue(unavailable,
                subjectKeys.getPublic(), WORKLOAD, List.of(), Duration.ofHours(1)));
        assertEquals(UnavailableKey.MESSAGE, e.getMessage());
    }

    @Test
    void issue_sameAuthorityAgain_reusesNothingMutable() throws Exception {
        IssuedX509Svid first = issuer.issue(ecCa, subjectKeys.getPublic(), WORKLOAD, List.of("a.example.org"),
                Duration.ofHours(1));
        SpiffeId other = SpiffeId.parse("spiffe://example.org/other");
        IssuedX509Svid second = issuer.issue(ecCa, subjectKeys.getPublic(), other, List.of(), Duration.ofMinutes(1));
        assertEquals(WORKLOAD, X509Svid.parse(first.chain()).spiffeId());
        assertEquals(other, X509Svid.parse(second.chain()).spiffeId());
        byte[] leaf = first.leafDer();
        leaf[10] ^= 1;
        assertFalse(java.util.Arrays.equals(leaf, first.leafDer()), "leafDer hands out a copy");
        assertSame(first.certificate(), first.certificate(), "parsed once");
        assertNotNull(first.toString());
        assertEquals(SignatureAlgorithm.ECDSA_SHA256, ecCa.signatureAlgorithm());
    }

    static X509Certificate parseJdk(byte[] der) throws Exception {
        return (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(der));
    }

    /** The JDK's own RFC 5280 path validation, independent of core's verifier. */
    static void pkix(List<X509Certificate> chain, X509Certificate root) throws Exception {
        PKIXParameters params = new PKIXParameters(Set.of(new TrustAnchor(root, null)));
        params.setRevocationEnabled(false);
        params.setDate(Date.from(NOW));
        CertPathValidator.getInstance("PKIX").validate(
                CertificateFactory.getInstance("X.509").generateCertPath(chain), params);
    }

    /** A key whose store is down: signs nothing. */
    static final class UnavailableKey implements ManagedKey {
        static final String MESSAGE = "token removed";
        private final ManagedKey real;

        UnavailableKey(ManagedKey real) {
            this.real = real;
        }

        @Override
        public String id() {
            return real.id();
        }

        @Override
        public KeyType type() {
            return real.type();
        }

        @Override
        public PublicKey publicKey() {
            return real.publicKey();
        }

        @Override
        public byte[] sign(SignatureAlgorithm algorithm, byte[] data) throws KeyManagerException {
            throw new HsmUnavailableException(MESSAGE);
        }
    }
}
