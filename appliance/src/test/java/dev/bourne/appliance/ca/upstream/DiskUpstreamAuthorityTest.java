package dev.bourne.appliance.ca.upstream;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bourne.appliance.ca.CaException;
import dev.bourne.appliance.ca.CaManager;
import dev.bourne.appliance.ca.CaOptions;
import dev.bourne.appliance.ca.IssuedX509Svid;
import dev.bourne.appliance.ca.LocalAuthorityException;
import dev.bourne.appliance.ca.UpstreamAuthority;
import dev.bourne.appliance.ca.X509Authority;
import dev.bourne.appliance.ca.X509SvidIssuer;
import dev.bourne.appliance.ca.internal.ManagedKeyContentSigner;
import dev.bourne.appliance.ca.journal.FileCaJournal;
import dev.bourne.core.bundle.BundleSource;
import dev.bourne.core.bundle.SpiffeBundle;
import dev.bourne.core.config.ConfigError;
import dev.bourne.core.config.ConfigException;
import dev.bourne.core.config.PluginConfig;
import dev.bourne.core.keymanager.KeyType;
import dev.bourne.core.spiffeid.SpiffeId;
import dev.bourne.core.spiffeid.TrustDomain;
import dev.bourne.core.svid.x509.X509SvidException;
import dev.bourne.core.svid.x509.X509SvidVerifier;
import dev.bourne.keymanager.memory.MemoryKeyManager;
import java.io.ByteArrayInputStream;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The disk upstream with files made by openssl: chains, caps, and every refused configuration. */
class DiskUpstreamAuthorityTest {
    static final TrustDomain TRUST_DOMAIN = TrustDomain.parse("example.org");
    static final SecureRandom RANDOM = new SecureRandom();
    static final SpiffeId WORKLOAD = SpiffeId.parse("spiffe://example.org/workload");

    @TempDir
    Path pkiDir;
    @TempDir
    Path dataDir;

    private OpensslPki pki;
    private Clock clock;
    private Instant start;

    @BeforeEach
    void setUp() {
        pki = new OpensslPki(pkiDir);
        // openssl stamps certificates with the real time; the fake clock starts there and is moved by hand.
        start = Instant.now().plusSeconds(5);
        clock = fixed(start);
    }

    static Clock fixed(Instant instant) {
        return Clock.fixed(instant, ZoneOffset.UTC);
    }

    static CaOptions options() {
        return new CaOptions(TRUST_DOMAIN, Duration.ofHours(24), KeyType.EC_P256, KeyType.EC_P256, Optional.empty(),
                CaOptions.DEFAULT_REFRESH_HINT, Duration.ofHours(1), Duration.ofMinutes(5));
    }

    static PluginConfig plugin(Map<String, Object> data) {
        return new PluginConfig("server.conf", "UpstreamAuthority", "disk", true, data);
    }

    static PluginConfig plugin(Path cert, Path key, Path bundle) {
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("cert_file_path", cert.toString());
        data.put("key_file_path", key.toString());
        if (bundle != null) {
            data.put("bundle_file_path", bundle.toString());
        }
        return plugin(data);
    }

    private CaManager manager(UpstreamAuthority upstream, Clock at) throws CaException {
        return CaManager.start(options(), keyManager, Optional.of(upstream), FileCaJournal.inDataDir(dataDir), at,
                RANDOM);
    }

    private final MemoryKeyManager keyManager = new MemoryKeyManager(RANDOM);

    private static X509Certificate read(Path pem) throws Exception {
        return (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(Files.readAllBytes(pem)));
    }

    @Test
    void selfSignedUpstream_signsIntermediate_andItsRootIsTheBundle() throws Exception {
        OpensslPki.Issued root = pki.root("root", 30);
        DiskUpstreamAuthority upstream = DiskUpstreamAuthority.open(plugin(root.cert(), root.key(), null), clock,
                RANDOM);
        CaManager manager = manager(upstream, clock);
        X509Authority ca = manager.activeX509Authority();
        X509Certificate rootCert = read(root.cert());

        assertEquals(rootCert.getSubjectX500Principal(), ca.certificate().getIssuerX500Principal());
        ca.certificate().verify(rootCert.getPublicKey());
        assertEquals(List.of(), ca.upstreamChain());
        assertEquals(List.of(ca.certificate()), ca.intermediates());
        assertEquals(List.of(rootCert), manager.bundle().x509Authorities());
        assertEquals(start.plus(Duration.ofHours(24)).getEpochSecond(),
                ca.certificate().getNotAfter().toInstant().getEpochSecond());

        IssuedX509Svid svid = new X509SvidIssuer(TRUST_DOMAIN, clock, RANDOM).issue(ca, freshKey(), WORKLOAD,
                List.of(), Duration.ofHours(1));
        assertEquals(3 - 1, svid.chain().size(), "leaf and Bourne's intermediate");
        new X509SvidVerifier(BundleSource.of(manager.bundle()), clock).verify(svid.chain());

        // A relying party that trusts the upstream root for another domain too still cannot be fooled by Bourne's
        // CA: its name constraint is an ordinary path constraint here, applied by the JDK's PKIX validator.
        X509Certificate foreign = leaf(ca, "spiffe://other.example/workload");
        TrustDomain other = TrustDomain.parse("other.example");
        BundleSource both = BundleSource.of(List.of(manager.bundle(),
                SpiffeBundle.of(other, manager.bundle().x509Authorities(), Map.of())));
        X509SvidException rejected = assertThrows(X509SvidException.class,
                () -> new X509SvidVerifier(both, clock).verify(List.of(foreign, ca.certificate())));
        assertTrue(rejected.getMessage().toLowerCase().contains("name constraint"), rejected.getMessage());
        assertDoesNotThrow(() -> new X509SvidVerifier(both, clock)
                .verify(List.of(leaf(ca, "spiffe://example.org/x"), ca.certificate())));

        LocalAuthorityException refused = assertThrows(LocalAuthorityException.class, () -> {
            manager.prepareX509();
            manager.activateX509(manager.snapshot().x509Authorities().get(1).authorityId());
            manager.taintX509(ca.authorityId());
            manager.revokeX509(ca.authorityId());
        });
        assertEquals(String.format(LocalAuthorityException.REVOKE_UPSTREAM, "\"" + ca.authorityId() + "\""),
                refused.getMessage());
    }

    @Test
    void intermediateUpstream_chainCarriesUpstreamIntermediates() throws Exception {
        OpensslPki.Issued root = pki.root("root", 30);
        OpensslPki.Issued middle = pki.issue(root, "middle", 20, true);
        OpensslPki.Issued issuing = pki.issue(middle, "issuing", 10, true);
        Path certFile = pki.concat("chain.pem", issuing.cert(), middle.cert());
        DiskUpstreamAuthority upstream = DiskUpstreamAuthority.open(plugin(certFile, issuing.key(), root.cert()),
                clock, RANDOM);
        CaManager manager = manager(upstream, clock);
        X509Authority ca = manager.activeX509Authority();

        assertEquals(List.of(read(issuing.cert()), read(middle.cert())), ca.upstreamChain());
        assertEquals(List.of(ca.certificate(), read(issuing.cert()), read(middle.cert())), ca.intermediates());
        assertEquals(List.of(read(root.cert())), manager.bundle().x509Authorities());
        IssuedX509Svid svid = new X509SvidIssuer(TRUST_DOMAIN, clock, RANDOM).issue(ca, freshKey(), WORKLOAD,
                List.of(), Duration.ofHours(1));
        assertEquals(4, svid.chain().size());
        new X509SvidVerifier(BundleSource.of(manager.bundle()), clock).verify(svid.chain());

        // Restart: the same intermediate comes back, still chaining to the upstream root.
        CaManager again = manager(DiskUpstreamAuthority.open(plugin(certFile, issuing.key(), root.cert()), clock,
                RANDOM), clock);
        assertEquals(ca.authorityId(), again.activeX509Authority().authorityId());
        assertEquals(ca.upstreamChain(), again.activeX509Authority().upstreamChain());
    }

    @Test
    void upstreamEndingBeforeCaTtl_capsTheCa_andRefusesWhenShorterThanSvidTtl() throws Exception {
        OpensslPki.Issued root = pki.root("root", 2);
        X509Certificate rootCert = read(root.cert());
        Instant end = rootCert.getNotAfter().toInstant();
        PluginConfig config = plugin(root.cert(), root.key(), null);

        Clock late = fixed(end.minus(Duration.ofHours(12)));
        CaManager capped = manager(DiskUpstreamAuthority.open(config, late, RANDOM), late);
        assertEquals(end, capped.activeX509Authority().notAfter());

        Clock tooLate = fixed(end.minus(Duration.ofMinutes(30)));
        Files.delete(dataDir.resolve(FileCaJournal.FILE_NAME));
        CaException refused = assertThrows(CaException.class,
                () -> manager(DiskUpstreamAuthority.open(config, tooLate, RANDOM), tooLate));
        assertEquals(String.format(CaManager.UPSTREAM_TOO_SHORT, end, "30m", "1h"), refused.getMessage());
    }

    @Test
    void restart_fromSelfSignedToUpstream_doesNotResumeSelfSignedCa() throws Exception {
        CaManager selfSigned = CaManager.start(options(), keyManager, Optional.empty(),
                FileCaJournal.inDataDir(dataDir), clock, RANDOM);
        OpensslPki.Issued root = pki.root("root", 30);
        CaManager upstream = manager(DiskUpstreamAuthority.open(plugin(root.cert(), root.key(), null), clock,
                RANDOM), clock);
        assertNotEquals(selfSigned.activeX509Authority().authorityId(), upstream.activeX509Authority().authorityId());
        assertEquals(List.of(read(root.cert())), upstream.bundle().x509Authorities());
        assertEquals(selfSigned.activeJwtAuthority().keyId(), upstream.activeJwtAuthority().keyId());
    }

    @Test
    void restart_fromUpstreamToSelfSigned_publishesOnlySelfSignedRoots() throws Exception {
        OpensslPki.Issued root = pki.root("root", 30);
        CaManager upstream = manager(DiskUpstreamAuthority.open(plugin(root.cert(), root.key(), null), clock,
                RANDOM), clock);
        X509Certificate intermediate = upstream.activeX509Authority().certificate();
        CaManager selfSigned = CaManager.start(options(), keyManager, Optional.empty(),
                FileCaJournal.inDataDir(dataDir), clock, RANDOM);
        assertTrue(selfSigned.activeX509Authority().selfSigned());
        assertEquals(List.of(selfSigned.activeX509Authority().certificate()), selfSigned.bundle().x509Authorities());
        assertTrue(selfSigned.snapshot().x509Authorities().stream()
                .anyMatch(r -> r.certificate().equals(intermediate)), "kept in the journal as retired");
    }

    // ------------------------------------------------------------------------------------------ refused configs

    private static List<String> errors(ConfigException e) {
        return e.errors().stream().map(ConfigError::toString).toList();
    }

    private List<String> openErrors(PluginConfig config) {
        return errors(assertThrows(ConfigException.class, () -> DiskUpstreamAuthority.open(config, clock, RANDOM)));
    }

    private static final String KEY = "server.conf: plugins.UpstreamAuthority.disk.plugin_data.";

    @Test
    void config_missingAndUnknownKeys_allReported() {
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("cert_file_pth", "/x");
        data.put("bundle_file_path", 3.0);
        assertEquals(List.of(KEY + "cert_file_path: is required", KEY + "key_file_path: is required",
                KEY + "bundle_file_path: expected a string, got number 3",
                KEY + "cert_file_pth: unknown key (did you mean \"cert_file_path\"?)"), openErrors(plugin(data)));
    }

    @Test
    void config_keyFileReadableByOthers_refused() throws Exception {
        OpensslPki.Issued root = pki.root("root", 30);
        Files.setPosixFilePermissions(root.key(), PosixFilePermissions.fromString("rw-r--r--"));
        assertEquals(List.of(KEY + "key_file_path: " + root.key() + " "
                + String.format(PemFiles.KEY_FILE_TOO_OPEN, "rw-r--r--")),
                openErrors(plugin(root.cert(), root.key(), null)));
    }

    @Test
    void config_keyNotMatchingCertificate_refused() throws Exception {
        OpensslPki.Issued root = pki.root("root", 30);
        Path otherKey = pki.key("other");
        assertEquals(List.of(KEY + "key_file_path: " + DiskUpstreamAuthority.KEY_MISMATCH),
                openErrors(plugin(root.cert(), otherKey, null)));
    }

    @Test
    void config_certificateNotACa_refused() throws Exception {
        OpensslPki.Issued root = pki.root("root", 30);
        OpensslPki.Issued leaf = pki.issue(root, "leaf", 10, false);
        assertEquals(List.of(KEY + "cert_file_path: " + DiskUpstreamAuthority.NOT_A_CA),
                openErrors(plugin(leaf.cert(), leaf.key(), root.cert())));
    }

    @Test
    void config_intermediateWithoutBundle_refused_andWrongBundle_refused() throws Exception {
        OpensslPki.Issued root = pki.root("root", 30);
        OpensslPki.Issued otherRoot = pki.root("other-root", 30);
        OpensslPki.Issued issuing = pki.issue(root, "issuing", 10, true);
        assertEquals(List.of(KEY + "bundle_file_path: " + DiskUpstreamAuthority.BUNDLE_REQUIRED),
                openErrors(plugin(issuing.cert(), issuing.key(), null)));
        List<String> wrong = openErrors(plugin(issuing.cert(), issuing.key(), otherRoot.cert()));
        assertEquals(1, wrong.size());
        assertTrue(wrong.get(0).startsWith(KEY + "bundle_file_path: " + DiskUpstreamAuthority.NO_CHAIN), wrong.get(0));
    }

    @Test
    void config_unreadableFiles_eachReported() throws Exception {
        Path garbage = Files.writeString(pkiDir.resolve("garbage.pem"), "-----BEGIN CERTIFICATE-----\n!!!\n");
        Path empty = Files.writeString(pkiDir.resolve("empty.pem"), "nothing here\n");
        Files.setPosixFilePermissions(empty, PosixFilePermissions.fromString("rw-------"));
        Path missing = pkiDir.resolve("missing.pem");
        assertEquals(List.of(KEY + "cert_file_path: " + garbage + " is not valid PEM",
                KEY + "key_file_path: " + empty + " " + PemFiles.NOT_ONE_KEY,
                KEY + "bundle_file_path: " + missing + " does not exist"), openErrors(plugin(garbage, empty, missing)));
        assertEquals(List.of(KEY + "cert_file_path: " + empty + " " + PemFiles.NO_CERTIFICATE,
                KEY + "key_file_path: " + missing + " does not exist"), openErrors(plugin(empty, missing, null)));
    }

    @Test
    void config_encryptedKey_refusedWithoutEchoingIt() throws Exception {
        OpensslPki.Issued root = pki.root("root", 30);
        Path encrypted = pkiDir.resolve("encrypted.key");
        dev.bourne.testing.Exec.run(List.of("openssl", "pkcs8", "-topk8", "-in", root.key().toString(), "-out",
                encrypted.toString(), "-passout", "pass:correct-horse"), Map.of(), Duration.ofSeconds(30))
                .requireSuccess();
        Files.setPosixFilePermissions(encrypted, PosixFilePermissions.fromString("rw-------"));
        assertEquals(List.of(KEY + "key_file_path: " + encrypted + " " + PemFiles.ENCRYPTED_KEY),
                openErrors(plugin(root.cert(), encrypted, null)));
    }

    @Test
    void config_expiredUpstream_refused() throws Exception {
        OpensslPki.Issued root = pki.root("root", 1);
        Instant end = read(root.cert()).getNotAfter().toInstant();
        clock = fixed(end.plusSeconds(1));
        assertEquals(List.of(KEY + "cert_file_path: " + String.format(UpstreamCertificates.EXPIRED, end)),
                openErrors(plugin(root.cert(), root.key(), null)));
    }

    @Test
    void caSubjectEqualToUpstreamSubject_refused() throws Exception {
        OpensslPki.Issued root = pki.root("root", 30);
        DiskUpstreamAuthority upstream = DiskUpstreamAuthority.open(plugin(root.cert(), root.key(), null), clock,
                RANDOM);
        UpstreamAuthority.CaRequest request = new UpstreamAuthority.CaRequest(freshKey(),
                read(root.cert()).getSubjectX500Principal(), TRUST_DOMAIN, start, start.plusSeconds(3600));
        dev.bourne.appliance.ca.UpstreamAuthorityException error = assertThrows(
                dev.bourne.appliance.ca.UpstreamAuthorityException.class, () -> upstream.mintX509Ca(request));
        assertEquals(String.format(UpstreamCertificates.SAME_SUBJECT, read(root.cert()).getSubjectX500Principal()),
                error.getMessage());
    }

    static java.security.PublicKey freshKey() throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
        return generator.generateKeyPair().getPublic();
    }

    /** A leaf with any URI, signed with the CA key without the issuer's checks: what a rogue CA could sign. */
    private X509Certificate leaf(X509Authority ca, String uri) throws Exception {
        X509v3CertificateBuilder builder = new X509v3CertificateBuilder(
                X500Name.getInstance(ca.certificate().getSubjectX500Principal().getEncoded()), BigInteger.TEN,
                Date.from(start.minusSeconds(10)), Date.from(start.plusSeconds(600)), new X500Name("O=x"),
                SubjectPublicKeyInfo.getInstance(freshKey().getEncoded()));
        builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
        builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
        builder.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(
                new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
        builder.addExtension(Extension.subjectAlternativeName, true,
                new GeneralNames(new GeneralName(GeneralName.uniformResourceIdentifier, uri)));
        byte[] der = builder.build(new ManagedKeyContentSigner(ca.key(), ca.signatureAlgorithm())).getEncoded();
        return (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(der));
    }
}
