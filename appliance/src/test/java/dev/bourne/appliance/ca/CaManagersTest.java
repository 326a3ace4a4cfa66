package dev.bourne.appliance.ca;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bourne.appliance.ca.journal.FileCaJournal;
import dev.bourne.appliance.ca.upstream.UpstreamAuthorities;
import dev.bourne.core.config.ConfigError;
import dev.bourne.core.config.ConfigException;
import dev.bourne.core.config.ServerSettings;
import dev.bourne.keymanager.memory.MemoryKeyManager;
import dev.bourne.testing.Exec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** From a configuration file to a running CA, as the composition root does it. */
class CaManagersTest {
    @TempDir
    Path dir;

    private final MemoryKeyManager keyManager = new MemoryKeyManager(CaFixtures.RANDOM);
    private final Clock clock = Clock.fixed(java.time.Instant.now().plusSeconds(5), ZoneOffset.UTC);

    private ServerSettings settings(String serverExtra, String upstream) throws Exception {
        Path data = dir.resolve("data");
        String text = "server {\n  trust_domain = \"example.org\"\n  data_dir = \"" + data + "\"\n"
                + "  ca_ttl = \"12h\"\n" + serverExtra + "}\n"
                + "plugins {\n"
                + "  DataStore \"sql\" {\n    plugin_data {\n      database_type = \"sqlite3\"\n"
                + "      connection_string = \"" + data.resolve("ds.sqlite3") + "\"\n    }\n  }\n"
                + "  KeyManager \"memory\" {\n    plugin_data {}\n  }\n"
                + "  NodeAttestor \"join_token\" {\n    plugin_data {}\n  }\n"
                + upstream
                + "}\n";
        Path file = Files.writeString(dir.resolve("server.conf"), text);
        return ServerSettings.load(file).orElseThrow();
    }

    @Test
    void selfSigned_fromSettings() throws Exception {
        ServerSettings settings = settings("  ca_subject {\n    country = [\"FR\"]\n    organization = [\"Acme\"]\n"
                + "    common_name = \"Acme CA\"\n  }\n", "");
        CaManager manager = CaManagers.start(settings, keyManager, Duration.ofMinutes(2), clock, CaFixtures.RANDOM);
        assertTrue(manager.activeX509Authority().selfSigned());
        assertEquals("CN=Acme CA,O=Acme,C=FR",
                manager.activeX509Authority().certificate().getSubjectX500Principal().getName());
        assertEquals(clock.instant().plus(Duration.ofHours(12)), manager.activeJwtAuthority().notAfter());
        assertEquals(Duration.ofMinutes(2), manager.bundle().refreshHint().orElseThrow());
        assertTrue(Files.exists(settings.dataDir().resolve(FileCaJournal.FILE_NAME)));
    }

    @Test
    void diskUpstream_fromSettings() throws Exception {
        Path key = dir.resolve("root.key");
        Path cert = dir.resolve("root.pem");
        Exec.run(List.of("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", key.toString(), "-out", cert.toString(), "-subj", "/CN=Operator Root", "-days", "10",
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign"),
                Map.of(), Duration.ofSeconds(30)).requireSuccess();
        Files.setPosixFilePermissions(key, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        ServerSettings settings = settings("", "  UpstreamAuthority \"disk\" {\n    plugin_data {\n"
                + "      cert_file_path = \"" + cert + "\"\n      key_file_path = \"" + key + "\"\n    }\n  }\n");
        CaManager manager = CaManagers.start(settings, keyManager, clock, CaFixtures.RANDOM);
        assertEquals("CN=Operator Root",
                manager.activeX509Authority().certificate().getIssuerX500Principal().getName());
        assertEquals(1, manager.bundle().x509Authorities().size());
        assertEquals(CaOptions.DEFAULT_REFRESH_HINT, manager.bundle().refreshHint().orElseThrow());
    }

    @Test
    void diskUpstream_badPluginData_reportedAsConfigErrors() throws Exception {
        ServerSettings settings = settings("", "  UpstreamAuthority \"disk\" {\n    plugin_data {\n"
                + "      key_file_path = \"/nonexistent/key.pem\"\n    }\n  }\n");
        ConfigException error = assertThrows(ConfigException.class,
                () -> CaManagers.start(settings, keyManager, clock, CaFixtures.RANDOM));
        assertEquals(List.of(dir.resolve("server.conf")
                        + ": plugins.UpstreamAuthority.disk.plugin_data.cert_file_path: is required"),
                error.errors().stream().map(ConfigError::toString).toList());
        assertTrue(keyManager.getKeys().isEmpty());
    }

    @Test
    void pkcs11Upstream_needsPkcs11KeyManager() throws Exception {
        ServerSettings settings = settings("", "  UpstreamAuthority \"pkcs11\" {\n    plugin_data {}\n  }\n");
        ConfigException error = assertThrows(ConfigException.class,
                () -> CaManagers.start(settings, keyManager, clock, CaFixtures.RANDOM));
        assertEquals(dir.resolve("server.conf") + ": plugins.UpstreamAuthority.pkcs11: "
                + String.format(UpstreamAuthorities.PKCS11_NEEDS_PKCS11_KEY_MANAGER, "memory"), error.getMessage());
    }

    @Test
    void jwtSvidTtlNotBelowCaTtl_refusedNamingBoth() throws Exception {
        ServerSettings settings = settings("  default_jwt_svid_ttl = \"12h\"\n", "");
        CaException error = assertThrows(CaException.class,
                () -> CaManagers.start(settings, keyManager, clock, CaFixtures.RANDOM));
        assertEquals(String.format(CaOptions.SVID_TTL_TOO_LONG, "default_jwt_svid_ttl", "12h", "12h"),
                error.getMessage());
    }
}
