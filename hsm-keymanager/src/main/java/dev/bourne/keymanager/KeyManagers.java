package dev.bourne.keymanager;

import dev.bourne.core.config.ConfigError;
import dev.bourne.core.config.ConfigException;
import dev.bourne.core.config.ConfigReader;
import dev.bourne.core.config.PluginConfig;
import dev.bourne.core.keymanager.KeyManager;
import dev.bourne.core.keymanager.KeyManagerException;
import dev.bourne.keymanager.disk.DiskKeyManager;
import dev.bourne.keymanager.disk.DiskSettings;
import dev.bourne.keymanager.memory.MemoryKeyManager;
import dev.bourne.keymanager.pkcs11.KeyIdentifiers;
import dev.bourne.keymanager.pkcs11.Pkcs11KeyManager;
import dev.bourne.keymanager.pkcs11.Pkcs11Settings;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.List;
import java.util.Objects;

/**
 * The composition root's way to a {@link KeyManager}: validates the configured {@code KeyManager} plugin (every error
 * at once, in the configuration's own format) and opens it. Built-ins: {@code pkcs11}, {@code disk}, {@code memory}.
 */
public final class KeyManagers {

    /** The plugin names this factory opens. */
    public static final List<String> NAMES = List.of(DiskKeyManager.NAME, MemoryKeyManager.NAME,
            Pkcs11KeyManager.NAME);
    public static final String PLUGIN_TYPE = "KeyManager";

    private KeyManagers() {
    }

    /**
     * Every problem in {@code plugin}'s data; empty when it can be opened. Pure: reads no file, contacts no HSM.
     *
     * @param dataDir the server's {@code data_dir}, where defaults live (key identifier file, keys directory)
     */
    public static List<ConfigError> validate(PluginConfig plugin, Path dataDir) {
        Objects.requireNonNull(plugin, "plugin");
        Objects.requireNonNull(dataDir, "dataDir");
        if (!plugin.type().equals(PLUGIN_TYPE) || !NAMES.contains(plugin.name())) {
            return List.of(new ConfigError(plugin.file(), "plugins." + plugin.type() + "." + plugin.name(),
                    "not a key manager; known: " + String.join(", ", NAMES)));
        }
        return switch (plugin.name()) {
            case Pkcs11KeyManager.NAME -> Pkcs11Settings.validate(plugin, dataDir).errors();
            case DiskKeyManager.NAME -> DiskSettings.validate(plugin, dataDir).errors();
            default -> memoryErrors(plugin);
        };
    }

    /**
     * Opens the key manager {@code plugin} configures. A {@code pkcs11} key manager is returned even when the HSM is
     * down (it connects on first use and reports why through {@link KeyManager#status()}).
     *
     * @throws ConfigException when the plugin data is invalid, with every error
     * @throws KeyManagerException when a local file it needs cannot be used (keys directory, key identifier file)
     */
    public static KeyManager open(PluginConfig plugin, Path dataDir, SecureRandom random, Clock clock)
            throws ConfigException, KeyManagerException {
        Objects.requireNonNull(random, "random");
        Objects.requireNonNull(clock, "clock");
        List<ConfigError> errors = validate(plugin, dataDir);
        if (!errors.isEmpty()) {
            throw new ConfigException(errors);
        }
        switch (plugin.name()) {
            case Pkcs11KeyManager.NAME: {
                Pkcs11Settings settings = Pkcs11Settings.validate(plugin, dataDir).orElseThrow();
                String keyIdentifier = KeyIdentifiers.resolve(settings.keyIdentifier(), random);
                return new Pkcs11KeyManager(settings, keyIdentifier, clock, random);
            }
            case DiskKeyManager.NAME: {
                DiskSettings settings = DiskSettings.validate(plugin, dataDir).orElseThrow();
                return DiskKeyManager.open(settings.keysPath(), random);
            }
            default:
                return new MemoryKeyManager(random);
        }
    }

    private static List<ConfigError> memoryErrors(PluginConfig plugin) {
        ConfigReader data = plugin.pluginDataReader();
        data.rejectUnknownKeys();
        return data.errors();
    }
}
