package dev.bourne.appliance.ca;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bourne.appliance.ca.internal.CaCertificates;
import dev.bourne.appliance.ca.journal.FileCaJournal;
import dev.bourne.core.config.CaSubject;
import dev.bourne.core.keymanager.KeyType;
import dev.bourne.core.spiffeid.SpiffeId;
import dev.bourne.keymanager.memory.MemoryKeyManager;
import dev.bourne.testing.time.MutableClock;
import java.nio.file.Path;
import java.security.cert.CertPathValidator;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralSubtree;
import org.bouncycastle.asn1.x509.NameConstraints;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The self-signed CA certificate's profile, checked field by field and with the JDK's own PKIX validator. */
class CaCertificateProfileTest {
    @TempDir
    Path dataDir;

    private final MutableClock clock = MutableClock.at("2026-03-01T10:00:00Z");

    private CaManager start(CaOptions options) throws Exception {
        return CaManager.start(options, new MemoryKeyManager(CaFixtures.RANDOM), Optional.empty(),
                FileCaJournal.inDataDir(dataDir), clock, CaFixtures.RANDOM);
    }

    @Test
    void selfSignedRoot_hasBourneCaProfile() throws Exception {
        X509Authority ca = start(CaFixtures.options()).activeX509Authority();
        X509Certificate cert = ca.certificate();

        assertEquals(CaManager.X509_SLOT_A, ca.slotId());
        assertTrue(ca.selfSigned());
        assertEquals(List.of(), ca.intermediates());
        cert.verify(cert.getPublicKey());
        assertEquals("O=SPIFFE,C=US", cert.getSubjectX500Principal().getName());
        assertEquals(Instant.parse("2026-03-01T09:59:50Z"), cert.getNotBefore().toInstant());
        assertEquals(Instant.parse("2026-03-01T16:00:00Z"), cert.getNotAfter().toInstant());
        assertTrue(cert.getSerialNumber().signum() > 0);
        assertTrue(cert.getSerialNumber().bitLength() <= 128);
        assertTrue(cert.getSerialNumber().bitLength() > 64, "128 random bits rarely start with 64 zero bits");

        assertEquals(Integer.MAX_VALUE, cert.getBasicConstraints());
        assertTrue(cert.getCriticalExtensionOIDs().contains(Extension.basicConstraints.getId()));
        assertTrue(cert.getCriticalExtensionOIDs().contains(Extension.keyUsage.getId()));
        boolean[] usage = cert.getKeyUsage();
        for (int bit = 0; bit < usage.length; bit++) {
            assertEquals(bit == 5 || bit == 6, usage[bit], "key usage bit " + bit);
        }
        byte[] ski = CaCertificates.subjectKeyIdentifier(cert).orElseThrow();
        assertEquals(X509Authority.hex(ski), ca.authorityId());
        assertArrayEquals(CaCertificates.keyIdentifier(cert.getPublicKey()), ski);

        assertTrue(cert.getCriticalExtensionOIDs().contains(Extension.nameConstraints.getId()));
        NameConstraints constraints = NameConstraints.getInstance(ASN1OctetString.getInstance(
                cert.getExtensionValue(Extension.nameConstraints.getId())).getOctets());
        GeneralSubtree[] permitted = constraints.getPermittedSubtrees();
        assertEquals(1, permitted.length);
        assertEquals(GeneralName.uniformResourceIdentifier, permitted[0].getBase().getTagNo());
        assertEquals("example.org", permitted[0].getBase().getName().toString());
        assertEquals(null, constraints.getExcludedSubtrees());
    }

    @Test
    void caSubject_andTtl_comeFromOptions() throws Exception {
        CaOptions options = new CaOptions(CaFixtures.TRUST_DOMAIN, Duration.ofHours(48), KeyType.EC_P384,
                KeyType.RSA_2048, Optional.of(new CaSubject(List.of("DE"), List.of("Acme", "Ops"), "Bourne CA")),
                Duration.ofMinutes(1), Duration.ofHours(1), Duration.ofMinutes(5));
        CaManager manager = start(options);
        X509Certificate cert = manager.activeX509Authority().certificate();
        assertEquals("CN=Bourne CA,O=Ops,O=Acme,C=DE", cert.getSubjectX500Principal().getName());
        assertEquals(KeyType.EC_P384, manager.activeX509Authority().key().type());
        assertEquals("SHA384withECDSA", cert.getSigAlgName());
        assertEquals(Instant.parse("2026-03-03T10:00:00Z"), cert.getNotAfter().toInstant());
        assertEquals("RS256", manager.activeJwtAuthority().signatureAlgorithm().jwsName());
        assertEquals(Duration.ofMinutes(1), manager.bundle().refreshHint().orElseThrow());
    }

    @Test
    void serials_areRandom() throws Exception {
        CaManager manager = start(CaFixtures.options());
        X509Certificate first = manager.activeX509Authority().certificate();
        manager.prepareX509();
        X509Certificate second = manager.snapshot().x509Authorities().get(1).certificate();
        assertNotEquals(first.getSerialNumber(), second.getSerialNumber());
        assertNotEquals(first.getPublicKey(), second.getPublicKey());
    }

    @Test
    void jdkPkix_acceptsLeafInTrustDomain_rejectsForeignTrustDomain() throws Exception {
        X509Authority ca = start(CaFixtures.options()).activeX509Authority();
        X509Certificate inDomain = CaFixtures.leaf(ca.certificate(), ca.key(), "spiffe://example.org/workload",
                clock.instant());
        X509Certificate foreign = CaFixtures.leaf(ca.certificate(), ca.key(), "spiffe://evil.example/workload",
                clock.instant());
        X509Certificate subdomain = CaFixtures.leaf(ca.certificate(), ca.key(), "spiffe://a.example.org/workload",
                clock.instant());
        // RFC 5280 6.1.1 (d): a trust anchor's constraints are inputs of path validation, not read from the
        // anchor's certificate, and the JDK takes none as input. The JDK applies the root's constraint when the
        // root is also the top certificate of the path (self-signed, so it verifies under itself as anchor).
        TrustAnchor anchor = new TrustAnchor(ca.certificate(), null);

        pkix(anchor, inDomain, ca.certificate());
        CertPathValidatorException rejected = assertThrows(CertPathValidatorException.class,
                () -> pkix(anchor, foreign, ca.certificate()));
        assertTrue(rejected.getMessage().toLowerCase().contains("name constraint"), rejected.getMessage());
        // A URI constraint without a leading period names one host: another trust domain under it is foreign too.
        assertThrows(CertPathValidatorException.class, () -> pkix(anchor, subdomain, ca.certificate()));
    }

    @Test
    void jdkPkix_ignoresAnchorCertificateConstraintsUnlessGiven() throws Exception {
        // Pins the fact the documentation states: with the root only as anchor the JDK does not apply the root's
        // name constraint (nor accepts one as anchor input), so it protects relying parties that put the root in
        // the path, or that validate through an upstream-signed intermediate, where it is an ordinary path
        // constraint (see DiskUpstreamAuthorityTest).
        X509Authority ca = start(CaFixtures.options()).activeX509Authority();
        X509Certificate foreign = CaFixtures.leaf(ca.certificate(), ca.key(), "spiffe://evil.example/workload",
                clock.instant());
        pkix(new TrustAnchor(ca.certificate(), null), foreign);
    }

    @Test
    void svidFromIssuer_validatesWithJdkPkix() throws Exception {
        CaManager manager = start(CaFixtures.options());
        X509Authority ca = manager.activeX509Authority();
        IssuedX509Svid svid = new X509SvidIssuer(CaFixtures.TRUST_DOMAIN, clock, CaFixtures.RANDOM).issue(ca,
                CaFixtures.freshKey(), SpiffeId.parse("spiffe://example.org/app"), List.of(), Duration.ofHours(1));
        pkix(new TrustAnchor(ca.certificate(), null), svid.certificate(), ca.certificate());
    }

    /** RFC 5280 path validation by the JDK, with the CA certificate as the only trust anchor. */
    private void pkix(TrustAnchor anchor, X509Certificate... path) throws Exception {
        PKIXParameters params = new PKIXParameters(Set.of(anchor));
        params.setRevocationEnabled(false);
        params.setDate(Date.from(clock.instant()));
        CertPathValidator.getInstance("PKIX").validate(
                CertificateFactory.getInstance("X.509").generateCertPath(List.of(path)), params);
    }

    @Test
    void selfSignedCheck_distinguishesRoots() throws Exception {
        X509Authority ca = start(CaFixtures.options()).activeX509Authority();
        assertTrue(CaCertificates.isSelfSigned(ca.certificate()));
        assertTrue(CaCertificates.isSigningCa(ca.certificate()));
        X509Certificate leaf = CaFixtures.leaf(ca.certificate(), ca.key(), "spiffe://example.org/x", clock.instant());
        assertFalse(CaCertificates.isSigningCa(leaf));
        assertFalse(CaCertificates.isSelfSigned(leaf));
    }
}
