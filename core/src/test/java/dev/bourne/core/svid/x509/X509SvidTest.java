package dev.bourne.core.svid.x509;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bourne.core.bundle.BundleSource;
import dev.bourne.core.bundle.SpiffeBundle;
import dev.bourne.core.spiffeid.SpiffeId;
import dev.bourne.core.spiffeid.TrustDomain;
import dev.bourne.testing.pki.TestCa;
import dev.bourne.testing.pki.TestKeys;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class X509SvidTest {
    private static final TrustDomain TD = TrustDomain.parse("example.org");
    private static final TestCa ROOT = TestCa.root("example.org");
    private static final TestCa INTERMEDIATE = ROOT.intermediate(TestKeys.ecP256(1));
    private static final PublicKey WORKLOAD_KEY = TestKeys.ecP256(2).getPublic();
    private static final BundleSource BUNDLES = BundleSource.of(SpiffeBundle.of(TD, List.of(ROOT.certificate()),
            Map.of()));
    private static final X509SvidVerifier VERIFIER = new X509SvidVerifier(BUNDLES, Clock.systemUTC());

    @Test
    void verify_leafUnderRoot_accepted() throws Exception {
        X509Certificate leaf = ROOT.leaf("spiffe://example.org/web", WORKLOAD_KEY);
        X509Svid svid = VERIFIER.verify(List.of(leaf));
        assertEquals(SpiffeId.parse("spiffe://example.org/web"), svid.spiffeId());
        assertTrue(svid.privateKey().isEmpty());
    }

    @Test
    void verify_leafUnderIntermediate_accepted() throws Exception {
        X509Certificate leaf = INTERMEDIATE.leaf("spiffe://example.org/ns/prod/db", WORKLOAD_KEY);
        X509Svid svid = VERIFIER.verify(TestCa.svidChain(leaf, INTERMEDIATE));
        assertEquals("/ns/prod/db", svid.spiffeId().path());
        assertEquals(2, svid.chain().size());
    }

    @Test
    void verify_leafWithoutEku_accepted() throws Exception {
        X509Certificate leaf = ROOT.leafSpec("spiffe://example.org/web", WORKLOAD_KEY).noExtendedKeyUsage().issue();
        assertEquals("/web", VERIFIER.verify(List.of(leaf)).spiffeId().path());
    }

    @Test
    void verify_rsaLeafWithKeyEncipherment_accepted() throws Exception {
        X509Certificate leaf = ROOT.leafSpec("spiffe://example.org/web", TestKeys.rsa2048(0).getPublic())
                .keyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment, true).issue();
        assertEquals("/web", VERIFIER.verify(List.of(leaf)).spiffeId().path());
    }

    static Stream<Arguments> profileViolations() {
        return Stream.of(
                leaf("no URI SAN", s -> s.uris(), X509Svid.NO_URI_SAN),
                leaf("DNS SAN only", s -> s.uris().dnsNames("web.example.org"), X509Svid.NO_URI_SAN),
                leaf("two URI SANs", s -> s.uris("spiffe://example.org/a", "spiffe://example.org/b"),
                        X509Svid.SEVERAL_URI_SANS),
                leaf("https URI", s -> s.uris("https://example.org/web"),
                        "leaf certificate URI SAN is not a valid SPIFFE ID: invalid SPIFFE ID "
                                + "\"https://example.org/web\": scheme is missing or invalid: "
                                + "a SPIFFE ID starts with \"spiffe://\""),
                leaf("uppercase trust domain", s -> s.uris("spiffe://Example.org/web"),
                        "leaf certificate URI SAN is not a valid SPIFFE ID: invalid SPIFFE ID "
                                + "\"spiffe://Example.org/web\": trust domain must be lowercase"),
                leaf("trust domain ID", s -> s.uris("spiffe://example.org"), X509Svid.LEAF_ID_HAS_NO_PATH),
                leaf("CA flag", s -> s.ca(true), X509Svid.LEAF_IS_CA),
                leaf("no key usage", s -> s.noKeyUsage(), X509Svid.LEAF_NO_KEY_USAGE),
                leaf("key usage not critical", s -> s.keyUsage(KeyUsage.digitalSignature, false),
                        X509Svid.LEAF_KEY_USAGE_NOT_CRITICAL),
                leaf("no digitalSignature", s -> s.keyUsage(KeyUsage.keyAgreement, true),
                        X509Svid.LEAF_NO_DIGITAL_SIGNATURE),
                leaf("keyCertSign", s -> s.keyUsage(KeyUsage.digitalSignature | KeyUsage.keyCertSign, true),
                        X509Svid.LEAF_KEY_CERT_SIGN),
                leaf("cRLSign", s -> s.keyUsage(KeyUsage.digitalSignature | KeyUsage.cRLSign, true),
                        X509Svid.LEAF_CRL_SIGN),
                leaf("serverAuth only", s -> s.extendedKeyUsage(KeyPurposeId.id_kp_serverAuth), X509Svid.LEAF_EKU),
                leaf("clientAuth only", s -> s.extendedKeyUsage(KeyPurposeId.id_kp_clientAuth), X509Svid.LEAF_EKU),
                leaf("codeSigning", s -> s.extendedKeyUsage(KeyPurposeId.id_kp_codeSigning), X509Svid.LEAF_EKU));
    }

    private static Arguments leaf(String name, UnaryOperator<TestCa.CertificateSpec> change, String reason) {
        return Arguments.of(name, change, reason);
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @MethodSource("profileViolations")
    void parse_profileViolation_rejected(String name, UnaryOperator<TestCa.CertificateSpec> change, String reason) {
        X509Certificate leaf = change.apply(ROOT.leafSpec("spiffe://example.org/web", WORKLOAD_KEY)).issue();
        X509SvidException e = assertThrows(X509SvidException.class, () -> X509Svid.parse(List.of(leaf)));
        assertEquals(reason, e.getMessage());
        // The verifier applies the same profile before looking at trust.
        e = assertThrows(X509SvidException.class, () -> VERIFIER.verify(List.of(leaf)));
        assertEquals(reason, e.getMessage());
    }

    @Test
    void parse_intermediateNotCa_rejected() {
        X509Certificate notCa = ROOT.caSpec(TestKeys.ecP256(4).getPublic()).ca(false).issue();
        X509Certificate leaf = ROOT.leaf("spiffe://example.org/web", WORKLOAD_KEY);
        X509SvidException e = assertThrows(X509SvidException.class, () -> X509Svid.parse(List.of(leaf, notCa)));
        assertEquals(X509Svid.SIGNING_NOT_CA + " (certificate 1)", e.getMessage());
    }

    @Test
    void parse_intermediateWithoutKeyCertSign_rejected() {
        X509Certificate noSign = ROOT.caSpec(TestKeys.ecP256(4).getPublic())
                .keyUsage(KeyUsage.cRLSign, true).issue();
        X509Certificate leaf = ROOT.leaf("spiffe://example.org/web", WORKLOAD_KEY);
        X509SvidException e = assertThrows(X509SvidException.class, () -> X509Svid.parse(List.of(leaf, noSign)));
        assertEquals(X509Svid.SIGNING_NO_KEY_CERT_SIGN + " (certificate 1)", e.getMessage());
    }

    @Test
    void parse_emptyAndOverlongChains_rejected() {
        assertEquals(X509Svid.CHAIN_EMPTY,
                assertThrows(X509SvidException.class, () -> X509Svid.parse(List.of())).getMessage());
        List<X509Certificate> longChain = new ArrayList<>();
        for (int i = 0; i <= X509Svid.MAX_CHAIN_LENGTH; i++) {
            longChain.add(ROOT.certificate());
        }
        assertEquals(X509Svid.CHAIN_TOO_LONG,
                assertThrows(X509SvidException.class, () -> X509Svid.parse(longChain)).getMessage());
    }

    @Test
    void verify_forgedSignature_rejected() {
        X509Certificate forged = ROOT.leafSpec("spiffe://example.org/web", WORKLOAD_KEY)
                .forgedSigner(TestKeys.ecP256(9)).issue();
        X509SvidException e = assertThrows(X509SvidException.class, () -> VERIFIER.verify(List.of(forged)));
        assertTrue(e.getMessage().startsWith("certificate chain does not verify against the bundle of example.org"),
                e.getMessage());
    }

    @Test
    void verify_otherTrustDomainsId_rejectedEvenIfSignedByTrustedRoot() {
        // The example.org root signs an ID in evil.org: its bundle must not vouch for another domain.
        X509Certificate crossDomain = ROOT.leaf("spiffe://evil.org/web", WORKLOAD_KEY);
        X509SvidException e = assertThrows(X509SvidException.class, () -> VERIFIER.verify(List.of(crossDomain)));
        assertEquals("no bundle for trust domain evil.org", e.getMessage());

        TestCa evilRoot = TestCa.root("evil.org", TestKeys.ecP256(20), Instant.now().minusSeconds(60),
                Instant.now().plus(Duration.ofDays(1)));
        BundleSource both = BundleSource.of(List.of(
                SpiffeBundle.of(TD, List.of(ROOT.certificate()), Map.of()),
                SpiffeBundle.of(TrustDomain.parse("evil.org"), List.of(evilRoot.certificate()), Map.of())));
        e = assertThrows(X509SvidException.class,
                () -> new X509SvidVerifier(both, Clock.systemUTC()).verify(List.of(crossDomain)));
        assertTrue(e.getMessage().startsWith("certificate chain does not verify against the bundle of evil.org"),
                e.getMessage());
    }

    @Test
    void verify_expiredAndNotYetValid_rejected() {
        X509Certificate leaf = ROOT.leaf("spiffe://example.org/web", WORKLOAD_KEY);
        Clock later = Clock.fixed(leaf.getNotAfter().toInstant().plusSeconds(1), ZoneOffset.UTC);
        X509SvidException e = assertThrows(X509SvidException.class,
                () -> new X509SvidVerifier(BUNDLES, later).verify(List.of(leaf)));
        assertTrue(e.getMessage().contains("expired") || e.getMessage().contains("EXPIRED"), e.getMessage());

        Clock earlier = Clock.fixed(leaf.getNotBefore().toInstant().minusSeconds(1), ZoneOffset.UTC);
        e = assertThrows(X509SvidException.class,
                () -> new X509SvidVerifier(BUNDLES, earlier).verify(List.of(leaf)));
        assertTrue(e.getMessage().contains("NOT_YET_VALID") || e.getMessage().contains("not yet valid"),
                e.getMessage());
    }

    @Test
    void verify_bundleWithoutX509Authorities_rejected() {
        BundleSource jwtOnly = BundleSource.of(SpiffeBundle.of(TD, List.of(),
                Map.of("k", TestKeys.ecP256(3).getPublic())));
        X509Certificate leaf = ROOT.leaf("spiffe://example.org/web", WORKLOAD_KEY);
        X509SvidException e = assertThrows(X509SvidException.class,
                () -> new X509SvidVerifier(jwtOnly, Clock.systemUTC()).verify(List.of(leaf)));
        assertEquals("the bundle of trust domain example.org has no X.509 authorities", e.getMessage());
    }

    @Test
    void verify_missingIntermediate_rejected() {
        X509Certificate leaf = INTERMEDIATE.leaf("spiffe://example.org/web", WORKLOAD_KEY);
        assertThrows(X509SvidException.class, () -> VERIFIER.verify(List.of(leaf)));
    }

    @Test
    void toString_neverShowsKeyMaterial() throws Exception {
        X509Certificate leaf = ROOT.leaf("spiffe://example.org/web", WORKLOAD_KEY);
        X509Svid svid = X509Svid.parse(List.of(leaf)).withPrivateKey(TestKeys.ecP256(2).getPrivate());
        String text = svid.toString();
        assertTrue(text.startsWith("X509Svid{spiffe://example.org/web, serial "), text);
        assertTrue(text.endsWith(", with private key}"), text);
        assertTrue(svid.privateKey().isPresent());
    }
}
