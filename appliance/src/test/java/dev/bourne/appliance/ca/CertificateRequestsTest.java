package dev.bourne.appliance.ca;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.bourne.appliance.ca.SvidIssuanceException.Reason;
import dev.bourne.core.keymanager.KeyType;
import dev.bourne.core.spiffeid.SpiffeId;
import dev.bourne.core.svid.x509.X509SvidVerifier;
import java.security.KeyPair;
import java.security.SecureRandom;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x9.ECNamedCurveTable;
import org.bouncycastle.asn1.x9.X962Parameters;
import org.bouncycastle.asn1.x9.X9ECParameters;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequestBuilder;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class CertificateRequestsTest {
    private static final SpiffeId ID = SpiffeId.parse("spiffe://example.org/ns/prod/sa/web");
    private static KeyPair p256;
    private static byte[] valid;

    @BeforeAll
    static void keys() throws Exception {
        p256 = TestCsrs.generate("EC", new ECGenParameterSpec("secp256r1"));
        valid = TestCsrs.forKeys(p256).der();
    }

    static Stream<Arguments> accepted() throws Exception {
        KeyPair p384 = TestCsrs.generate("EC", new ECGenParameterSpec("secp384r1"));
        KeyPair rsa2048 = TestCsrs.generate("RSA", 2048);
        KeyPair rsa4096 = TestCsrs.generate("RSA", 4096);
        return Stream.of(
                Arguments.of("P-256, no extensions", p256, valid),
                Arguments.of("P-256, the SPIFFE ID and DNS SANs", p256,
                        TestCsrs.forKeys(p256).uri(ID.toString()).dns("ignored.example.org").der()),
                Arguments.of("P-256, CA:false", p256, TestCsrs.forKeys(p256).basicConstraints(false).der()),
                Arguments.of("P-256, SHA-512", p256, TestCsrs.forKeys(p256).signedWith("SHA512withECDSA").der()),
                Arguments.of("P-384", p384, TestCsrs.forKeys(p384).signedWith("SHA384withECDSA").der()),
                Arguments.of("RSA-2048 PKCS#1", rsa2048, TestCsrs.forKeys(rsa2048).der()),
                Arguments.of("RSA-2048 PSS", rsa2048, TestCsrs.forKeys(rsa2048).signedWith("SHA256withRSAandMGF1")
                        .der()),
                Arguments.of("RSA-4096", rsa4096, TestCsrs.forKeys(rsa4096).signedWith("SHA384withRSA").der()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("accepted")
    void parse_wellFormed_returnsTheRequestedKey(String name, KeyPair keys, byte[] csr) throws Exception {
        SubjectKey key = CertificateRequests.parse(csr, ID);
        assertArrayEquals(keys.getPublic().getEncoded(), key.encoded());
        assertEquals(keys.getPublic().getAlgorithm().equals("EC"), key.isEc());
    }

    static Stream<Arguments> refused() throws Exception {
        byte[] trailing = Arrays.copyOf(valid, valid.length + 1);
        byte[] badSignature = valid.clone();
        badSignature[badSignature.length - 1] ^= 0x01;
        byte[] badContent = valid.clone();
        int subject = indexOf(badContent, "requested".getBytes());
        badContent[subject] = 'R';
        KeyPair rsa1024 = TestCsrs.generate("RSA", 1024);
        KeyPair rsa2048 = TestCsrs.generate("RSA", 2048);
        KeyPair p521 = TestCsrs.generate("EC", new ECGenParameterSpec("secp521r1"));
        KeyPair ed25519 = TestCsrs.generate("Ed25519", null);
        KeyPair dsa = TestCsrs.generate("DSA", 2048);
        return Stream.of(
                Arguments.of("empty", new byte[0], CertificateRequests.EMPTY, Reason.MALFORMED_REQUEST),
                Arguments.of("oversized", new byte[CertificateRequests.MAX_CSR_BYTES + 1],
                        CertificateRequests.TOO_LARGE, Reason.MALFORMED_REQUEST),
                Arguments.of("garbage", "not a CSR at all".getBytes(), CertificateRequests.NOT_DER,
                        Reason.MALFORMED_REQUEST),
                Arguments.of("truncated", Arrays.copyOf(valid, valid.length - 10), CertificateRequests.NOT_DER,
                        Reason.MALFORMED_REQUEST),
                Arguments.of("huge declared length", new byte[] {0x30, (byte) 0x84, 0x7f, (byte) 0xff, (byte) 0xff,
                        (byte) 0xff, 0x02, 0x01, 0x00}, CertificateRequests.NOT_DER, Reason.MALFORMED_REQUEST),
                Arguments.of("trailing byte", trailing, CertificateRequests.TRAILING_BYTES,
                        Reason.MALFORMED_REQUEST),
                Arguments.of("DER but not a CSR", new DERSequence(new ASN1Integer(7)).getEncoded(),
                        CertificateRequests.NOT_PKCS10, Reason.MALFORMED_REQUEST),
                Arguments.of("signature altered", badSignature, CertificateRequests.BAD_SIGNATURE,
                        Reason.MALFORMED_REQUEST),
                Arguments.of("content altered", badContent, CertificateRequests.BAD_SIGNATURE,
                        Reason.MALFORMED_REQUEST),
                Arguments.of("SHA-1 signature", TestCsrs.forKeys(rsa2048).signedWith("SHA1withRSA").der(),
                        CertificateRequests.SIGNATURE_ALGORITHM_NOT_ALLOWED, Reason.MALFORMED_REQUEST),
                Arguments.of("RSA-1024", TestCsrs.forKeys(rsa1024).der(), SubjectKey.RSA_TOO_SHORT,
                        Reason.UNSUPPORTED_KEY),
                Arguments.of("P-521", TestCsrs.forKeys(p521).signedWith("SHA512withECDSA").der(),
                        SubjectKey.EC_CURVE_NOT_ALLOWED, Reason.UNSUPPORTED_KEY),
                Arguments.of("Ed25519", TestCsrs.forKeys(ed25519).der(), SubjectKey.KEY_TYPE_NOT_ALLOWED,
                        Reason.UNSUPPORTED_KEY),
                Arguments.of("DSA", TestCsrs.forKeys(dsa).der(), SubjectKey.KEY_TYPE_NOT_ALLOWED,
                        Reason.UNSUPPORTED_KEY),
                Arguments.of("compressed EC point", withSpki(p256, compressed(p256)),
                        SubjectKey.EC_POINT_NOT_UNCOMPRESSED, Reason.UNSUPPORTED_KEY),
                Arguments.of("explicit EC parameters", withSpki(p256, explicitParameters(p256)),
                        SubjectKey.EC_CURVE_NOT_ALLOWED, Reason.UNSUPPORTED_KEY),
                Arguments.of("CA:true", TestCsrs.forKeys(p256).basicConstraints(true).der(),
                        CertificateRequests.REQUESTS_CA, Reason.FORBIDDEN_REQUEST),
                Arguments.of("two URI SANs", TestCsrs.forKeys(p256).uri(ID.toString())
                        .uri("spiffe://example.org/admin").der(), CertificateRequests.SEVERAL_URIS,
                        Reason.FORBIDDEN_REQUEST),
                Arguments.of("another SPIFFE ID", TestCsrs.forKeys(p256).uri("spiffe://example.org/admin").der(),
                        CertificateRequests.URI_NOT_SPIFFE_ID, Reason.FORBIDDEN_REQUEST),
                Arguments.of("a URL", TestCsrs.forKeys(p256).uri("https://example.org/web").der(),
                        CertificateRequests.URI_NOT_SPIFFE_ID, Reason.FORBIDDEN_REQUEST));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("refused")
    void parse_refused_withConstantMessage(String name, byte[] csr, String message, Reason reason) {
        X509SvidIssuanceException e = assertThrows(X509SvidIssuanceException.class,
                () -> CertificateRequests.parse(csr, ID));
        assertEquals(message, e.getMessage());
        assertEquals(reason, e.reason());
        assertEquals(true, e.reason().badRequest());
    }

    @Test
    void parse_null_refusedAsEmpty() {
        X509SvidIssuanceException e = assertThrows(X509SvidIssuanceException.class,
                () -> CertificateRequests.parse(null, ID));
        assertEquals(CertificateRequests.EMPTY, e.getMessage());
    }

    @Test
    void issue_fromCsr_certifiesTheCsrKeyWithTheEntryIdentityOnly() throws Exception {
        Instant now = Instant.parse("2026-12-04T06:00:00Z");
        Clock clock = Clock.fixed(now, ZoneOffset.UTC);
        X509Authority ca = TestAuthorities.selfSigned(TestAuthorities.memoryKey("x509-CA-A", KeyType.EC_P256),
                now.minusSeconds(60), now.plus(Duration.ofDays(1)));
        byte[] csr = TestCsrs.forKeys(p256).dns("requested.example.org").der();
        IssuedX509Svid svid = new X509SvidIssuer(TestAuthorities.TRUST_DOMAIN, clock, new SecureRandom())
                .issue(ca, csr, ID, List.of("entry.example.org"), Duration.ofMinutes(10));

        assertEquals(p256.getPublic(), svid.certificate().getPublicKey());
        assertEquals("CN=entry.example.org", svid.certificate().getSubjectX500Principal().getName());
        assertEquals(List.of(List.of(6, ID.toString()), List.of(2, "entry.example.org")),
                List.copyOf(svid.certificate().getSubjectAlternativeNames()));
        assertEquals(ID, new X509SvidVerifier(TestAuthorities.bundle(ca.certificate()), clock)
                .verify(svid.chain()).spiffeId());
    }

    /** The fuzz seeds were made with OpenSSL ({@code openssl req -outform DER}): an independent CSR encoder. */
    @Test
    void parse_opensslSeeds_acceptedOrRefusedAsNamed() throws Exception {
        java.nio.file.Path seeds = java.nio.file.Path.of(CertificateRequestsTest.class
                .getResource("CsrIssuanceFuzzTestInputs/csrParseAndIssue").toURI());
        assertEquals(65, CertificateRequests.parse(java.nio.file.Files.readAllBytes(
                seeds.resolve("valid-p256-with-spiffe-id")), ID).encoded().length - 26);
        assertEquals(false, CertificateRequests.parse(java.nio.file.Files.readAllBytes(
                seeds.resolve("valid-rsa2048")), ID).isEc());
        Map<String, String> refused = Map.of(
                "ca-extension", CertificateRequests.REQUESTS_CA,
                "two-uri-sans", CertificateRequests.SEVERAL_URIS,
                "truncated", CertificateRequests.NOT_DER);
        for (Map.Entry<String, String> seed : refused.entrySet()) {
            byte[] der = java.nio.file.Files.readAllBytes(seeds.resolve(seed.getKey()));
            assertEquals(seed.getValue(), assertThrows(X509SvidIssuanceException.class,
                    () -> CertificateRequests.parse(der, ID)).getMessage(), seed.getKey());
        }
    }

    private static byte[] withSpki(KeyPair keys, SubjectPublicKeyInfo spki) throws Exception {
        return new PKCS10CertificationRequestBuilder(new X500Name("CN=x"), spki)
                .build(new JcaContentSignerBuilder("SHA256withECDSA").setProvider(TestCsrs.BC)
                        .build(keys.getPrivate())).getEncoded();
    }

    private static SubjectPublicKeyInfo compressed(KeyPair keys) {
        X9ECParameters curve = ECNamedCurveTable.getByName("P-256");
        ECPublicKey key = (ECPublicKey) keys.getPublic();
        byte[] point = curve.getCurve().createPoint(key.getW().getAffineX(), key.getW().getAffineY()).getEncoded(true);
        return new SubjectPublicKeyInfo(new AlgorithmIdentifier(X9ObjectIdentifiers.id_ecPublicKey,
                X9ObjectIdentifiers.prime256v1), point);
    }

    private static SubjectPublicKeyInfo explicitParameters(KeyPair keys) {
        X9ECParameters curve = ECNamedCurveTable.getByName("P-256");
        ECPublicKey key = (ECPublicKey) keys.getPublic();
        byte[] point = curve.getCurve().createPoint(key.getW().getAffineX(), key.getW().getAffineY())
                .getEncoded(false);
        return new SubjectPublicKeyInfo(new AlgorithmIdentifier(X9ObjectIdentifiers.id_ecPublicKey,
                new X962Parameters(curve)), point);
    }

    private static int indexOf(byte[] data, byte[] needle) {
        for (int i = 0; i + needle.length <= data.length; i++) {
            if (Arrays.equals(data, i, i + needle.length, needle, 0, needle.length)) {
                return i;
            }
        }
        throw new IllegalArgumentException("not found");
    }
}
