package dev.bourne.keymanager;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bourne.core.config.ConfigError;
import dev.bourne.core.config.ConfigException;
import dev.bourne.core.config.ConfigResult;
import dev.bourne.core.config.PluginConfig;
import dev.bourne.core.keymanager.KeyManager;
import dev.bourne.core.keymanager.KeyManagerStatus;
import dev.bourne.keymanager.disk.DiskKeyManager;
import dev.bourne.keymanager.disk.DiskSettings;
import dev.bourne.keymanager.memory.MemoryKeyManager;
import dev.bourne.keymanager.pkcs11.KeyIdentifiers;
import dev.bourne.keymanager.pkcs11.Pkcs11KeyManager;
import dev.bourne.keymanager.pkcs11.Pkcs11Settings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class KeyManagersTest {

    private static final String FILE = "server.conf";
    private static final String PKCS11_DATA = "plugins.KeyManager.pkcs11.plugin_data";
    private static final Path DATA_DIR = Path.of("/var/lib/bourne/server");

    private static PluginConfig plugin(String name, Map<String, Object> data) {
        return new PluginConfig(FILE, "KeyManager", name, true, data);
    }

    private static Map<String, Object> pkcs11(Object... keyValues) {
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("library", "/usr/lib/softhsm/libsofthsm2.so");
        data.put("token_label", "bourne");
        data.put("pin_file", "/etc/bourne/hsm.pin");
        for (int i = 0; i < keyValues.length; i += 2) {
            if (keyValues[i + 1] == null) {
                data.remove((String) keyValues[i]);
            } else {
                data.put((String) keyValues[i], keyValues[i + 1]);
            }
        }
        return data;
    }

    private static ConfigError error(String key, String reason) {
        return new ConfigError(FILE, key.isEmpty() ? PKCS11_DATA : PKCS11_DATA + "." + key, reason);
    }

    static Stream<Arguments> invalidPkcs11() {
        return Stream.of(
                Arguments.of(pkcs11("library", null), List.of(error("library", "is required"))),
                Arguments.of(pkcs11("library", "libsofthsm2.so"),
                        List.of(error("library", Pkcs11Settings.LIBRARY_NOT_ABSOLUTE))),
                Arguments.of(pkcs11("library", "/opt/vendor lib/p11.so"),
                        List.of(error("library", Pkcs11Settings.LIBRARY_CHARACTERS))),
                Arguments.of(pkcs11("token_label", null), List.of(error("token_label", "is required"))),
                Arguments.of(pkcs11("token_label", "x".repeat(33)),
                        List.of(error("token_label", Pkcs11Settings.TOKEN_LABEL_TOO_LONG))),
                Arguments.of(pkcs11("pin", "1234"), List.of(error("pin", Pkcs11Settings.INLINE_PIN))),
                Arguments.of(pkcs11("user_pin", "1234"), List.of(error("user_pin", Pkcs11Settings.INLINE_PIN))),
                Arguments.of(pkcs11("pin_file", null), List.of(error("", Pkcs11Settings.PIN_SOURCE_REQUIRED))),
                Arguments.of(pkcs11("pin_env", "HSM_PIN"), List.of(error("", Pkcs11Settings.PIN_SOURCE_REQUIRED))),
                Arguments.of(pkcs11("pin_file", null, "pin_env", "HSM PIN"),
                        List.of(error("pin_env", Pkcs11Settings.ENV_NAME_INVALID))),
                Arguments.of(pkcs11("key_identifier_value", "a/b"),
                        List.of(error("key_identifier_value", Pkcs11Settings.KEY_IDENTIFIER_INVALID))),
                Arguments.of(pkcs11("key_identifier_value", "a", "key_identifier_file", "/x"),
                        List.of(error("", Pkcs11Settings.KEY_IDENTIFIER_BOTH))),
                Arguments.of(pkcs11("max_sessions", 0.0),
                        List.of(error("max_sessions", "must be between 1 and 1024, got 0"))),
                Arguments.of(pkcs11("max_sessions", 1025.0),
                        List.of(error("max_sessions", "must be between 1 and 1024, got 1025"))),
                Arguments.of(pkcs11("slot", 0.0), List.of(error("slot", "unknown key"))),
                Arguments.of(Map.of(), List.of(error("library", "is required"), error("token_label", "is required"),
                        error("", Pkcs11Settings.PIN_SOURCE_REQUIRED))));
    }

    @ParameterizedTest
    @MethodSource("invalidPkcs11")
    void validate_invalidPkcs11_everyErrorReported(Map<String, Object> data, List<ConfigError> expected) {
        assertEquals(expected, KeyManagers.validate(plugin("pkcs11", data), DATA_DIR));
    }

    @Test
    void validate_inlinePin_neverQuotesIt() {
        List<ConfigError> errors = KeyManagers.validate(plugin("pkcs11", pkcs11("pin", "s3cret-pin")), DATA_DIR);

        assertTrue(errors.stream().noneMatch(e -> e.toString().contains("s3cret-pin")), errors.toString());
    }

    @Test
    void validate_minimalPkcs11_defaults() {
        ConfigResult<Pkcs11Settings> result = Pkcs11Settings.validate(plugin("pkcs11", pkcs11()), DATA_DIR);

        Pkcs11Settings settings = ((ConfigResult.Valid<Pkcs11Settings>) result).settings();
        assertEquals(new Pkcs11Settings(Path.of("/usr/lib/softhsm/libsofthsm2.so"), "bourne",
                new Pkcs11Settings.PinFile(Path.of("/etc/bourne/hsm.pin")),
                new Pkcs11Settings.KeyIdentifierFile(DATA_DIR.resolve("pkcs11-key-identifier")), 8), settings);
    }

    @Test
    void validate_fullPkcs11() {
        ConfigResult<Pkcs11Settings> result = Pkcs11Settings.validate(plugin("pkcs11", pkcs11("pin_file", null,
                "pin_env", "BOURNE_HSM_PIN", "key_identifier_value", "server-a", "max_sessions", 32.0)), DATA_DIR);

        assertEquals(new Pkcs11Settings(Path.of("/usr/lib/softhsm/libsofthsm2.so"), "bourne",
                new Pkcs11Settings.PinEnvironment("BOURNE_HSM_PIN"), new Pkcs11Settings.KeyIdentifierValue("server-a"),
                32), result.errors().isEmpty() ? ((ConfigResult.Valid<Pkcs11Settings>) result).settings() : null);
    }

    @Test
    void validate_diskAndMemory() {
        assertEquals(List.of(), KeyManagers.validate(plugin("disk", Map.of("keys_path", "./.data/keys")), DATA_DIR));
        assertEquals(List.of(new ConfigError(FILE, "plugins.KeyManager.disk.plugin_data.keys_path",
                DiskSettings.NOT_A_DIRECTORY_NAME)),
                KeyManagers.validate(plugin("disk", Map.of("keys_path", "./.data/keys.json")), DATA_DIR));
        assertEquals(List.of(new ConfigError(FILE, "plugins.KeyManager.disk.plugin_data.key_path",
                "unknown key (did you mean \"keys_path\"?)")),
                KeyManagers.validate(plugin("disk", Map.of("key_path", "x")), DATA_DIR));
        assertEquals(List.of(), KeyManagers.validate(plugin("memory", Map.of()), DATA_DIR));
        assertEquals(List.of(new ConfigError(FILE, "plugins.KeyManager.memory.plugin_data.keys_path",
                "unknown key")), KeyManagers.validate(plugin("memory", Map.of("keys_path", "x")), DATA_DIR));
        assertEquals(List.of(new ConfigError(FILE, "plugins.KeyManager.aws_kms",
                "not a key manager; known: disk, memory, pkcs11")),
                KeyManagers.validate(plugin("aws_kms", Map.of()), DATA_DIR));
    }

    @Test
    void open_eachName(@TempDir Path dataDir) throws Exception {
        try (KeyManager memory = KeyManagers.open(plugin("memory", Map.of()), dataDir, new SecureRandom(),
                Clock.systemUTC())) {
            assertInstanceOf(MemoryKeyManager.class, memory);
        }
        try (KeyManager disk = KeyManagers.open(plugin("disk", Map.of()), dataDir, new SecureRandom(),
                Clock.systemUTC())) {
            assertInstanceOf(DiskKeyManager.class, disk);
            assertEquals(dataDir.resolve("keys"), ((DiskKeyManager) disk).directory());
            assertTrue(Files.isDirectory(dataDir.resolve("keys")));
        }
        // The HSM need not be reachable to open: the pkcs11 key manager connects on first use.
        Map<String, Object> data = pkcs11("library", dataDir.resolve("absent.so").toString());
        try (KeyManager pkcs11 = KeyManagers.open(plugin("pkcs11", data), dataDir, new SecureRandom(),
                Clock.systemUTC())) {
            assertInstanceOf(Pkcs11KeyManager.class, pkcs11);
            assertEquals(KeyManagerStatus.State.UNAVAILABLE, pkcs11.status().state());
            Path identifierFile = dataDir.resolve("pkcs11-key-identifier");
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(identifierFile)));
            String identifier = Files.readString(identifierFile).strip();
            assertTrue(identifier.matches("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"),
                    identifier);
            assertEquals(identifier, ((Pkcs11KeyManager) pkcs11).keyIdentifier());
            assertEquals(identifier, KeyIdentifiers.resolve(new Pkcs11Settings.KeyIdentifierFile(identifierFile),
                    new SecureRandom()), "the file is read, not regenerated");
        }
    }

    @Test
    void sampleServerConfig_keyManagerValidates() throws Exception {
        // Surefire runs in the module directory; the sample lives at the repository root.
        dev.bourne.core.config.ServerSettings settings = dev.bourne.core.config.ServerSettings.load(
                Path.of("../conf/server/server.conf")).orElseThrow();
        PluginConfig keyManager = settings.plugins().stream().filter(p -> p.type().equals("KeyManager")).findFirst()
                .orElseThrow();

        assertEquals("disk", keyManager.name());
        assertEquals(List.of(), KeyManagers.validate(keyManager, settings.dataDir()));
        assertEquals(Path.of("./.data/server/keys"),
                ((ConfigResult.Valid<DiskSettings>) DiskSettings.validate(keyManager, settings.dataDir())).settings()
                        .keysPath());
    }

    @Test
    void open_invalid_throwsEveryError(@TempDir Path dataDir) {
        ConfigException e = assertThrows(ConfigException.class, () -> KeyManagers.open(plugin("pkcs11", Map.of()),
                dataDir, new SecureRandom(), Clock.systemUTC()));
        assertEquals(3, e.errors().size());
    }

    @Test
    void keyIdentifierFile_invalidContent_refusedNamingTheFile(@TempDir Path dataDir) throws Exception {
        Path file = dataDir.resolve("id");
        Files.writeString(file, "../../etc\n");

        Exception e = assertThrows(Exception.class, () -> KeyIdentifiers.resolve(
                new Pkcs11Settings.KeyIdentifierFile(file), new SecureRandom()));
        assertTrue(e.getMessage().contains(String.format(KeyIdentifiers.FILE_INVALID, file)), e.getMessage());
    }
}
