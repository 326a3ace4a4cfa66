package dev.bourne.appliance.ca.upstream;

import dev.bourne.appliance.ca.UpstreamAuthority;
import dev.bourne.appliance.ca.UpstreamAuthorityException;
import dev.bourne.core.config.ConfigError;
import dev.bourne.core.config.ConfigException;
import dev.bourne.core.config.PluginConfig;
import dev.bourne.core.config.ServerSettings;
import dev.bourne.core.keymanager.KeyManager;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.List;

/** Builds the configured {@code UpstreamAuthority} plugin, by name. */
public final class UpstreamAuthorities {
    public static final String PLUGIN_TYPE = "UpstreamAuthority";
    /** Format argument: the configured key manager's name. */
    public static final String PKCS11_NEEDS_PKCS11_KEY_MANAGER = "needs the pkcs11 KeyManager, so the root key"
            + " lives on the HSM and survives restarts; the configured KeyManager is \"%s\"";

    private UpstreamAuthorities() {
    }

    /**
     * Opens {@code plugin} ({@code disk} or {@code pkcs11}) for the server of {@code settings}. The {@code pkcs11}
     * upstream keeps its root key in {@code keyManager}, the server's own.
     *
     * @throws ConfigException when the plugin data or the files it names are wrong (every error, with its key)
     * @throws UpstreamAuthorityException when the upstream cannot be opened (key manager failure, lost root key)
     */
    public static UpstreamAuthority open(PluginConfig plugin, ServerSettings settings, KeyManager keyManager,
            Clock clock, SecureRandom random) throws ConfigException, UpstreamAuthorityException {
        if (!plugin.type().equals(PLUGIN_TYPE)) {
            throw new IllegalArgumentException("not an UpstreamAuthority plugin: " + plugin);
        }
        return switch (plugin.name()) {
            case DiskUpstreamAuthority.NAME -> DiskUpstreamAuthority.open(plugin, clock, random);
            case Pkcs11UpstreamAuthority.NAME -> {
                if (!keyManager.name().equals(Pkcs11UpstreamAuthority.NAME)) {
                    throw new ConfigException(List.of(new ConfigError(plugin.file(), "plugins." + PLUGIN_TYPE + "."
                            + plugin.name(), String.format(PKCS11_NEEDS_PKCS11_KEY_MANAGER, keyManager.name()))));
                }
                yield Pkcs11UpstreamAuthority.open(plugin, settings.dataDir(), settings.trustDomain(), keyManager,
                        clock, random);
            }
            default -> throw new ConfigException(List.of(new ConfigError(plugin.file(), "plugins." + PLUGIN_TYPE
                    + "." + plugin.name(), "unknown UpstreamAuthority plugin; known: disk, pkcs11")));
        };
    }
}
