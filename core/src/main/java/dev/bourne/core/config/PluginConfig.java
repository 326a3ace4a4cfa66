package dev.bourne.core.config;

import dev.bourne.core.config.internal.Values;
import java.util.Map;
import java.util.Objects;

/**
 * One enabled built-in plugin from the {@code plugins} block: {@code KeyManager "pkcs11" { plugin_data { ... } }}.
 * The plugin itself validates {@link #pluginData()}, reading it through {@link #pluginDataReader()} so its errors
 * look like the rest. {@code toString} redacts values under secret keys (pin, password, secret, token).
 *
 * @param file the configuration file, for error messages
 * @param type the plugin type, such as {@code KeyManager}
 * @param name the plugin name, such as {@code pkcs11}
 * @param enabled always true for plugins in settings ({@code enabled = false} plugins are dropped)
 * @param pluginData the raw {@code plugin_data} values, deeply unmodifiable: String, Double, Boolean, List, Map
 */
public record PluginConfig(String file, String type, String name, boolean enabled, Map<String, Object> pluginData) {

    public PluginConfig {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(name, "name");
        @SuppressWarnings("unchecked")
        Map<String, Object> copy = (Map<String, Object>) Values.immutableCopy(Objects.requireNonNull(pluginData));
        pluginData = copy;
    }

    /** The dotted key of the plugin data, such as {@code plugins.KeyManager.pkcs11.plugin_data}. */
    public String keyPath() {
        return "plugins." + type + "." + name + ".plugin_data";
    }

    /** A fresh reader over the plugin data, reporting errors at {@link #keyPath()}. */
    public ConfigReader pluginDataReader() {
        return ConfigReader.of(file, keyPath(), pluginData);
    }

    @Override
    public String toString() {
        return "PluginConfig[" + type + " \"" + name + "\", enabled=" + enabled + ", plugin_data="
                + Values.redactedToString(pluginData) + "]";
    }
}
