package dev.bourne.tpm.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bourne.testing.pki.TestKeys;
import dev.bourne.testing.tpm.RealTpmData;
import java.io.ByteArrayInputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXCertPathBuilderResult;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.Date;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class EkCaStoreTest {

    private static final Instant NOW = Instant.parse("2026-06-01T00:00:00Z");
    private static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);
    private static TestEkPki pki;
    private static EkCaStore vendors;

    @BeforeAll
    static void setUp() throws Exception {
        pki = new TestEkPki(TestKeys.ecP256(40), TestKeys.ecP256(41), NOW);
        vendors = EkCaStore.load(List.of(RealTpmData.vendorEkCa()), CLOCK);
    }

    @Test
    void vendorIntermediates_coverEveryVendorChain() throws Exception {
        // 51 files, 2 duplicates (IFX1/IFX_RSA_01I, IFX2/IFX_RSA_02I ...): whatever the exact split, most are
        // intermediates and every one of them is tested below.
        assertTrue(vendorIntermediates().size() >= 25, vendorIntermediates().toString());
    }

    static List<Path> vendorFiles() throws Exception {
        try (Stream<Path> files = Files.list(RealTpmData.vendorEkCa())) {
            return files.sorted().toList();
        }
    }

    @Test
    void load_vendorDirectory_readsEveryCertificate() throws Exception {
        List<Path> files = vendorFiles();
        assertEquals(51, files.size(), "the shared test data holds 51 vendor EK CA certificates");
        assertEquals(List.of(), vendors.problems());
        Set<String> distinct = new HashSet<>();
        for (Path file : files) {
            EkCaStore one = EkCaStore.load(List.of(file), CLOCK);
            assertEquals(List.of(), one.problems(), file.toString());
            assertEquals(1, one.certificates().size(), file.toString());
            distinct.add(Base64.getEncoder().encodeToString(one.certificates().get(0).getEncoded()));
        }
        assertEquals(distinct.size(), vendors.certificates().size(), "duplicates are loaded once");
    }

    /** The file name of every vendor certificate whose issuer is configured too. */
    static List<String> vendorIntermediates() throws Exception {
        List<String> names = new java.util.ArrayList<>();
        for (Path file : vendorFiles()) {
            X509Certificate c = EkCaStore.load(List.of(file), CLOCK).certificates().get(0);
            if (vendors.intermediates().contains(c)) {
                names.add(file.getFileName().toString());
            }
        }
        return names;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("vendorIntermediates")
    void validate_vendorIntermediate_chainsToItsRoot(String file) throws Exception {
        X509Certificate intermediate = EkCaStore.load(List.of(RealTpmData.vendorEkCa().resolve(file)), CLOCK)
                .certificates().get(0);
        // Inside the intermediate's validity, whatever today's date: some vendor intermediates have expired.
        Date date = new Date(intermediate.getNotBefore().getTime() + Duration.ofDays(1).toMillis());
        PKIXCertPathBuilderResult result = vendors.validate(intermediate, date);
        X509Certificate anchor = result.getTrustAnchor().getTrustedCert();
        assertTrue(vendors.anchors().contains(anchor));
        List<? extends java.security.cert.Certificate> path = result.getCertPath().getCertificates();
        assertEquals(intermediate, path.get(0));
        X509Certificate top = (X509Certificate) path.get(path.size() - 1);
        assertEquals(anchor.getSubjectX500Principal(), top.getIssuerX500Principal());
        top.verify(anchor.getPublicKey());
    }

    @Test
    void anchors_vendorStore_selfSignedAndThoseWhoseIssuerIsAbsent() {
        Set<String> anchors = new HashSet<>();
        vendors.anchors().forEach(c -> anchors.add(c.getSubjectX500Principal().getName()));
        assertTrue(anchors.contains("CN=GlobalSign Trusted Platform Module Root CA,O=GlobalSign,"
                + "OU=GlobalSign Trusted Computing Certificate Authority"), anchors.toString());
        // Issued by a VeriSign root vendors no longer publish: configured, so it anchors Infineon's RSA chains.
        assertTrue(anchors.contains("CN=IFX TPM EK Root CA,OU=AIM,O=Infineon Technologies AG,ST=Bavaria,C=DE"));
        // Issued by the GlobalSign TPM root, which is configured: an intermediate.
        assertTrue(vendors.intermediates().stream().anyMatch(c -> c.getSubjectX500Principal().getName()
                .equals("CN=STM TPM EK Root CA,O=STMicroelectronics NV,C=CH")));
        assertEquals(vendors.certificates().size(), vendors.anchors().size() + vendors.intermediates().size());
    }

    @Test
    void verify_ekCertificateUnderConfiguredCa_returnsPathToRoot() throws Exception {
        var ek = TestKeys.rsa2048(42);
        X509Certificate cert = pki.ekCertificate(ek.getPublic(), TestEkPki.EkExtensions.STANDARD);
        EkCaStore store = EkCaStore.of(List.of(pki.root, pki.intermediate), CLOCK);
        PKIXCertPathBuilderResult result = store.verify(cert, ek.getPublic());
        assertEquals(pki.root, result.getTrustAnchor().getTrustedCert());
        assertEquals(List.of(cert, pki.intermediate), result.getCertPath().getCertificates());
    }

    @Test
    void verify_criticalSubjectDirectoryAttributes_accepted() throws Exception {
        var ek = TestKeys.rsa2048(42);
        X509Certificate cert = pki.ekCertificate(ek.getPublic(), new TestEkPki.EkExtensions(true, null));
        assertTrue(cert.getCriticalExtensionOIDs().contains("2.5.29.9"));
        EkCaStore.of(List.of(pki.root, pki.intermediate), CLOCK).verify(cert, ek.getPublic());
    }

    @Test
    void verify_unknownCriticalExtension_refused() throws Exception {
        var ek = TestKeys.rsa2048(42);
        X509Certificate cert = pki.ekCertificate(ek.getPublic(), new TestEkPki.EkExtensions(false, "1.2.3.4.5"));
        EkCaStore store = EkCaStore.of(List.of(pki.root, pki.intermediate), CLOCK);
        TpmAttestationException e = assertThrows(TpmAttestationException.class, () -> store.verify(cert, ek.getPublic()));
        assertEquals(EkCaStore.EK_CERTIFICATE_UNTRUSTED, e.getMessage());
        assertEquals(TpmAttestationException.Kind.REJECTED, e.kind());
    }

    @Test
    void verify_certificateForAnotherKey_refused() throws Exception {
        X509Certificate cert = pki.ekCertificate(TestKeys.rsa2048(42).getPublic(), TestEkPki.EkExtensions.STANDARD);
        EkCaStore store = EkCaStore.of(List.of(pki.root, pki.intermediate), CLOCK);
        TpmAttestationException e = assertThrows(TpmAttestationException.class,
                () -> store.verify(cert, TestKeys.rsa2048(43).getPublic()));
        assertEquals(EkCaStore.EK_CERTIFICATE_KEY_MISMATCH, e.getMessage());
    }

    @Test
    void verify_otherManufacturer_refused() throws Exception {
        var ek = TestKeys.rsa2048(42);
        X509Certificate cert = pki.ekCertificate(ek.getPublic(), TestEkPki.EkExtensions.STANDARD);
        TpmAttestationException e = assertThrows(TpmAttestationException.class, () -> vendors.verify(cert, ek.getPublic()));
        assertEquals(EkCaStore.EK_CERTIFICATE_UNTRUSTED, e.getMessage());
    }

    @Test
    void verify_intermediateWithoutRootConfigured_anchorsAtIntermediate() throws Exception {
        var ek = TestKeys.rsa2048(42);
        X509Certificate cert = pki.ekCertificate(ek.getPublic(), TestEkPki.EkExtensions.STANDARD);
        EkCaStore store = EkCaStore.of(List.of(pki.intermediate), CLOCK);
        assertEquals(pki.intermediate, store.verify(cert, ek.getPublic()).getTrustAnchor().getTrustedCert());
    }

    @Test
    void verify_expiredCertificate_refused() throws Exception {
        var ek = TestKeys.rsa2048(42);
        X509Certificate cert = pki.ekCertificate(ek.getPublic(), TestEkPki.EkExtensions.STANDARD);
        EkCaStore store = EkCaStore.of(List.of(pki.root, pki.intermediate),
                Clock.fixed(NOW.plus(Duration.ofDays(4000)), ZoneOffset.UTC));
        TpmAttestationException e = assertThrows(TpmAttestationException.class, () -> store.verify(cert, ek.getPublic()));
        assertEquals(EkCaStore.EK_CERTIFICATE_UNTRUSTED, e.getMessage());
    }

    @Test
    void verify_emptyStore_refused() throws Exception {
        var ek = TestKeys.rsa2048(42);
        X509Certificate cert = pki.ekCertificate(ek.getPublic(), TestEkPki.EkExtensions.STANDARD);
        TpmAttestationException e = assertThrows(TpmAttestationException.class,
                () -> EkCaStore.of(List.of(), CLOCK).verify(cert, ek.getPublic()));
        assertEquals(EkCaStore.NO_CA_CONFIGURED, e.getMessage());
    }

    /**
     * A CA certificate with a 5-byte IP address in a critical SAN: the JDK's parser refuses the whole certificate, as
     * it does some real vendor certificates; BouncyCastle reads it, and the store uses it.
     */
    @Test
    void load_certificateTheJdkRefuses_readWithBouncyCastle(@TempDir Path dir) throws Exception {
        X500Name name = new X500Name("CN=Quirky TPM Root,O=Quirky");
        var keys = TestKeys.ecP256(44);
        JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(name, BigInteger.TEN,
                Date.from(NOW.minus(Duration.ofDays(1))), Date.from(NOW.plus(Duration.ofDays(1))), name,
                keys.getPublic());
        b.addExtension(Extension.subjectAlternativeName, true,
                new GeneralNames(new GeneralName(GeneralName.iPAddress, new DEROctetString(new byte[5]))));
        X509Certificate quirky = TestEkPki.sign(b, keys);
        byte[] der = quirky.getEncoded();
        assertThrows(CertificateException.class, () -> CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(der)), "the JDK must refuse this certificate");
        Path file = dir.resolve("quirky.der");
        Files.write(file, der);
        EkCaStore store = EkCaStore.load(List.of(file), CLOCK);
        assertEquals(List.of(), store.problems());
        assertEquals(1, store.certificates().size());
        assertTrue(java.util.Arrays.equals(der, store.certificates().get(0).getEncoded()));
    }

    @Test
    void load_unreadableFiles_reportedNotThrown(@TempDir Path dir) throws Exception {
        Path garbage = Files.writeString(dir.resolve("garbage.der"), "not a certificate");
        Path badPem = Files.writeString(dir.resolve("bad.pem"), "-----BEGIN CERTIFICATE-----\nAAAA\n"
                + "-----END CERTIFICATE-----\n", StandardCharsets.US_ASCII);
        Path key = Files.writeString(dir.resolve("key.pem"), "-----BEGIN PRIVATE KEY-----\nAAAA\n"
                + "-----END PRIVATE KEY-----\n");
        Path missing = dir.resolve("missing.pem");
        Path emptyDir = Files.createDirectory(dir.resolve("empty"));
        Path good = dir.resolve("root.pem");
        Files.writeString(good, "-----BEGIN CERTIFICATE-----\n"
                + Base64.getMimeEncoder().encodeToString(pki.root.getEncoded()) + "\n-----END CERTIFICATE-----\n");
        EkCaStore store = EkCaStore.load(List.of(garbage, badPem, key, missing, emptyDir, good), CLOCK);
        assertEquals(1, store.certificates().size());
        List<String> problems = store.problems();
        assertEquals(5, problems.size(), problems.toString());
        assertTrue(problems.get(0).startsWith(garbage + ": neither the JDK nor BouncyCastle can parse the certificate"));
        assertTrue(problems.get(1).startsWith(badPem + ": neither the JDK nor BouncyCastle can parse the certificate"));
        assertEquals(key + ": holds no PEM CERTIFICATE block", problems.get(2));
        assertEquals(missing + ": no such file", problems.get(3));
        assertEquals(emptyDir + ": the directory holds no files", problems.get(4));
        assertFalse(store.isEmpty());
    }

    @Test
    void parseEkCertificate_oversizedOrGarbage_invalidRequest() {
        TpmAttestationException big = assertThrows(TpmAttestationException.class,
                () -> EkCaStore.parseEkCertificate(new byte[EkCaStore.MAX_EK_CERTIFICATE_BYTES + 1]));
        assertEquals(EkCaStore.EK_CERTIFICATE_TOO_LARGE, big.getMessage());
        assertEquals(TpmAttestationException.Kind.INVALID_REQUEST, big.kind());
        TpmAttestationException garbage = assertThrows(TpmAttestationException.class,
                () -> EkCaStore.parseEkCertificate(new byte[] {0x30, 0x03, 0x02, 0x01}));
        assertEquals(EkCaStore.EK_CERTIFICATE_MALFORMED, garbage.getMessage());
    }
}
