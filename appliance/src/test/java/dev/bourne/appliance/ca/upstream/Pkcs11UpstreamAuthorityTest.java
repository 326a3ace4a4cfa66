package dev.bourne.appliance.ca.upstream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bourne.appliance.ca.CaManager;
import dev.bourne.appliance.ca.IssuedX509Svid;
import dev.bourne.appliance.ca.UpstreamAuthorityException;
import dev.bourne.appliance.ca.X509Authority;
import dev.bourne.appliance.ca.X509SvidIssuer;
import dev.bourne.appliance.ca.internal.CaCertificates;
import dev.bourne.appliance.ca.journal.FileCaJournal;
import dev.bourne.core.bundle.BundleSource;
import dev.bourne.core.config.ConfigError;
import dev.bourne.core.config.ConfigException;
import dev.bourne.core.config.PluginConfig;
import dev.bourne.core.keymanager.KeyManager;
import dev.bourne.core.keymanager.KeyType;
import dev.bourne.core.svid.x509.X509SvidVerifier;
import dev.bourne.keymanager.memory.MemoryKeyManager;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The pkcs11 upstream's root lifecycle and plugin data, with the memory key manager (SoftHSM2: see the Hsm test). */
class Pkcs11UpstreamAuthorityTest {
    private static final Instant NOW = Instant.parse("2026-05-01T00:00:00Z");

    @TempDir
    Path dataDir;

    private final Clock clock = Clock.fixed(NOW, java.time.ZoneOffset.UTC);
    private final MemoryKeyManager keyManager = new MemoryKeyManager(DiskUpstreamAuthorityTest.RANDOM);

    static PluginConfig plugin(Map<String, Object> data) {
        return new PluginConfig("server.conf", "UpstreamAuthority", "pkcs11", true, data);
    }

    private Pkcs11UpstreamAuthority open(KeyManager keys, Clock at) throws Exception {
        return Pkcs11UpstreamAuthority.open(plugin(Map.of()), dataDir, DiskUpstreamAuthorityTest.TRUST_DOMAIN, keys,
                at, DiskUpstreamAuthorityTest.RANDOM);
    }

    @Test
    void firstOpen_createsRootOnce_andRestartsKeepIt() throws Exception {
        Pkcs11UpstreamAuthority first = open(keyManager, clock);
        X509Certificate root = first.root();
        Path file = dataDir.resolve(Pkcs11UpstreamAuthority.DEFAULT_ROOT_FILE);
        assertTrue(Files.exists(file));
        assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        assertTrue(CaCertificates.isSelfSigned(root));
        assertTrue(CaCertificates.isSigningCa(root));
        assertEquals("CN=Bourne upstream root,O=SPIFFE", root.getSubjectX500Principal().getName());
        assertEquals(NOW.plus(Pkcs11UpstreamAuthority.DEFAULT_ROOT_TTL), root.getNotAfter().toInstant());
        assertEquals(KeyType.EC_P384, keyManager.getKey(Pkcs11UpstreamAuthority.DEFAULT_KEY_ID).orElseThrow().type());
        assertArrayEquals(keyManager.getKey("upstream-root").orElseThrow().publicKey().getEncoded(),
                root.getPublicKey().getEncoded());

        Pkcs11UpstreamAuthority second = open(keyManager, Clock.offset(clock, Duration.ofDays(30)));
        assertEquals(root, second.root());
        assertEquals(List.of(root), second.upstreamRoots());
    }

    @Test
    void caUnderPkcs11Root_issuesVerifiableSvids_andResumesAfterRestart() throws Exception {
        Pkcs11UpstreamAuthority upstream = open(keyManager, clock);
        CaManager manager = CaManager.start(DiskUpstreamAuthorityTest.options(), keyManager, Optional.of(upstream),
                FileCaJournal.inDataDir(dataDir), clock, DiskUpstreamAuthorityTest.RANDOM);
        X509Authority ca = manager.activeX509Authority();
        assertEquals(upstream.root().getSubjectX500Principal(), ca.certificate().getIssuerX500Principal());
        assertEquals(List.of(), ca.upstreamChain());
        assertEquals(List.of(upstream.root()), manager.bundle().x509Authorities());
        assertEquals("SHA384withECDSA", ca.certificate().getSigAlgName(), "signed by the P-384 root");
        IssuedX509Svid svid = new X509SvidIssuer(DiskUpstreamAuthorityTest.TRUST_DOMAIN, clock,
                DiskUpstreamAuthorityTest.RANDOM).issue(ca, DiskUpstreamAuthorityTest.freshKey(),
                DiskUpstreamAuthorityTest.WORKLOAD, List.of(), Duration.ofHours(1));
        new X509SvidVerifier(BundleSource.of(manager.bundle()), clock).verify(svid.chain());

        CaManager restarted = CaManager.start(DiskUpstreamAuthorityTest.options(), keyManager,
                Optional.of(open(keyManager, clock)), FileCaJournal.inDataDir(dataDir), clock,
                DiskUpstreamAuthorityTest.RANDOM);
        assertEquals(ca.authorityId(), restarted.activeX509Authority().authorityId());
        assertEquals(manager.bundle().x509Authorities(), restarted.bundle().x509Authorities());
    }

    @Test
    void rootFileWithoutKey_refused_neverRegenerated() throws Exception {
        open(keyManager, clock);
        Path file = dataDir.resolve(Pkcs11UpstreamAuthority.DEFAULT_ROOT_FILE);
        String before = Files.readString(file);
        MemoryKeyManager empty = new MemoryKeyManager(DiskUpstreamAuthorityTest.RANDOM);
        UpstreamAuthorityException error = assertThrows(UpstreamAuthorityException.class, () -> open(empty, clock));
        assertEquals(String.format(Pkcs11UpstreamAuthority.ROOT_KEY_MISSING, file, "upstream-root"),
                error.getMessage());
        assertEquals(before, Files.readString(file));
        assertTrue(empty.getKeys().isEmpty());
    }

    @Test
    void rootFileForAnotherKey_refused() throws Exception {
        open(keyManager, clock);
        keyManager.generateKey("upstream-root", KeyType.EC_P384);
        UpstreamAuthorityException error = assertThrows(UpstreamAuthorityException.class,
                () -> open(keyManager, clock));
        assertEquals(String.format(Pkcs11UpstreamAuthority.ROOT_KEY_MISMATCH,
                dataDir.resolve(Pkcs11UpstreamAuthority.DEFAULT_ROOT_FILE), "upstream-root"), error.getMessage());
    }

    @Test
    void expiredRoot_refused() throws Exception {
        X509Certificate root = open(keyManager, clock).root();
        Clock later = Clock.fixed(root.getNotAfter().toInstant(), java.time.ZoneOffset.UTC);
        UpstreamAuthorityException error = assertThrows(UpstreamAuthorityException.class,
                () -> open(keyManager, later));
        assertEquals(String.format(Pkcs11UpstreamAuthority.ROOT_EXPIRED,
                dataDir.resolve(Pkcs11UpstreamAuthority.DEFAULT_ROOT_FILE), root.getNotAfter().toInstant()),
                error.getMessage());
    }

    @Test
    void existingKeyWithoutRootFile_getsARoot() throws Exception {
        keyManager.generateKey("my-root", KeyType.EC_P256);
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("key_id", "my-root");
        data.put("root_cert_path", dataDir.resolve("pki/root.pem").toString());
        data.put("root_ttl", "8760h");
        data.put("root_common_name", "Example Root");
        Pkcs11UpstreamAuthority upstream = Pkcs11UpstreamAuthority.open(plugin(data), dataDir,
                DiskUpstreamAuthorityTest.TRUST_DOMAIN, keyManager, clock, DiskUpstreamAuthorityTest.RANDOM);
        assertArrayEquals(keyManager.getKey("my-root").orElseThrow().publicKey().getEncoded(),
                upstream.root().getPublicKey().getEncoded());
        assertEquals(NOW.plus(Duration.ofHours(8760)), upstream.notAfterLimit());
        assertEquals("CN=Example Root,O=SPIFFE", upstream.root().getSubjectX500Principal().getName());
        assertTrue(Files.exists(dataDir.resolve("pki/root.pem")));
    }

    @Test
    void badPluginData_allErrorsReported() {
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("key_id", "x509-CA-A");
        data.put("key_type", "ec-p521");
        data.put("root_ttl", "forever");
        data.put("root_common_nme", "x");
        ConfigException error = assertThrows(ConfigException.class, () -> Pkcs11UpstreamAuthority.open(plugin(data),
                dataDir, DiskUpstreamAuthorityTest.TRUST_DOMAIN, keyManager, clock, DiskUpstreamAuthorityTest.RANDOM));
        String key = "server.conf: plugins.UpstreamAuthority.pkcs11.plugin_data.";
        List<String> errors = error.errors().stream().map(ConfigError::toString).toList();
        assertEquals(4, errors.size(), errors.toString());
        assertEquals(key + "key_id: " + String.format(Pkcs11UpstreamAuthority.KEY_ID_IS_SLOT,
                "x509-CA-A, x509-CA-B, JWT-Signer-A, JWT-Signer-B"), errors.get(0));
        assertEquals(key + "key_type: must be one of ec-p256, ec-p384, rsa-2048, rsa-4096, got string \"ec-p521\"",
                errors.get(1));
        assertTrue(errors.get(2).startsWith(key + "root_ttl: invalid duration \"forever\""), errors.get(2));
        assertEquals(key + "root_common_nme: unknown key (did you mean \"root_common_name\"?)", errors.get(3));
        assertTrue(keyManager.getKeys().isEmpty(), "nothing generated for a bad configuration");
    }

    @Test
    void badKeyId_refused() {
        ConfigException error = assertThrows(ConfigException.class, () -> Pkcs11UpstreamAuthority.open(
                plugin(Map.of("key_id", "../etc")), dataDir, DiskUpstreamAuthorityTest.TRUST_DOMAIN, keyManager,
                clock, DiskUpstreamAuthorityTest.RANDOM));
        assertTrue(error.getMessage().contains("plugin_data.key_id: must be 1 to 64 letters"), error.getMessage());
    }
}
