package dev.bourne.keymanager.disk;

import dev.bourne.core.config.ConfigReader;
import dev.bourne.core.config.ConfigResult;
import dev.bourne.core.config.PluginConfig;
import java.nio.file.Path;
import java.util.Objects;

/**
 * The validated {@code plugin_data} of {@code KeyManager "disk"}.
 *
 * @param keysPath the directory of key files; {@code <data_dir>/keys} when not set
 */
public record DiskSettings(Path keysPath) {

    public static final String KEYS_PATH = "keys_path";
    public static final String DEFAULT_DIRECTORY = "keys";
    public static final String NOT_A_DIRECTORY_NAME = "must name a directory (one file per key), not a .json file";

    public DiskSettings {
        Objects.requireNonNull(keysPath, "keysPath");
    }

    /** Validates the plugin data, reporting every error at once. Pure: touches no file. */
    public static ConfigResult<DiskSettings> validate(PluginConfig plugin, Path dataDir) {
        ConfigReader data = plugin.pluginDataReader();
        Path keysPath = data.optionalPath(KEYS_PATH).orElse(dataDir.resolve(DEFAULT_DIRECTORY));
        if (keysPath.getFileName() != null && keysPath.getFileName().toString().endsWith(".json")) {
            // SPIRE's disk key manager keeps one JSON file; this one keeps a directory. Say so instead of creating a
            // directory named keys.json.
            data.error(KEYS_PATH, NOT_A_DIRECTORY_NAME);
        }
        data.rejectUnknownKeys();
        if (!data.errors().isEmpty()) {
            return new ConfigResult.Invalid<>(data.errors());
        }
        return new ConfigResult.Valid<>(new DiskSettings(keysPath), data.warnings());
    }
}
