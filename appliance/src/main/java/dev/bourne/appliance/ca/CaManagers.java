package dev.bourne.appliance.ca;

import dev.bourne.appliance.ca.journal.CaJournal;
import dev.bourne.appliance.ca.journal.FileCaJournal;
import dev.bourne.appliance.ca.upstream.UpstreamAuthorities;
import dev.bourne.core.config.ConfigException;
import dev.bourne.core.config.PluginConfig;
import dev.bourne.core.config.ServerSettings;
import dev.bourne.core.keymanager.KeyManager;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;

/**
 * The composition root's way to a running CA: from validated settings and the server's key manager to a started
 * {@link CaManager}, with the configured upstream authority (if any) and the journal in {@code data_dir}.
 */
public final class CaManagers {
    private CaManagers() {
    }

    /**
     * Starts the CA of {@code settings} with the default bundle refresh hint.
     *
     * @throws ConfigException when the UpstreamAuthority plugin's configuration or files are wrong
     * @throws CaException when the CA cannot start (journal damaged, key manager or upstream failing)
     */
    public static CaManager start(ServerSettings settings, KeyManager keyManager, Clock clock, SecureRandom random)
            throws ConfigException, CaException {
        return start(settings, keyManager, CaOptions.DEFAULT_REFRESH_HINT, clock, random);
    }

    /** As {@link #start(ServerSettings, KeyManager, Clock, SecureRandom)}, with a chosen bundle refresh hint. */
    public static CaManager start(ServerSettings settings, KeyManager keyManager, Duration refreshHint, Clock clock,
            SecureRandom random) throws ConfigException, CaException {
        return start(settings, keyManager, refreshHint, FileCaJournal.inDataDir(settings.dataDir()), clock, random);
    }

    /** As {@link #start(ServerSettings, KeyManager, Duration, Clock, SecureRandom)}, with the journal given. */
    public static CaManager start(ServerSettings settings, KeyManager keyManager, Duration refreshHint,
            CaJournal journal, Clock clock, SecureRandom random) throws ConfigException, CaException {
        CaOptions options;
        try {
            options = CaOptions.from(settings).withRefreshHint(refreshHint);
        } catch (IllegalArgumentException e) {
            throw new CaException(e.getMessage(), e);
        }
        Optional<PluginConfig> plugin = settings.plugins().stream()
                .filter(p -> p.type().equals(UpstreamAuthorities.PLUGIN_TYPE)).findFirst();
        Optional<UpstreamAuthority> upstream = Optional.empty();
        if (plugin.isPresent()) {
            try {
                upstream = Optional.of(UpstreamAuthorities.open(plugin.get(), settings, keyManager, clock, random));
            } catch (UpstreamAuthorityException e) {
                throw new CaException("upstream authority " + plugin.get().name() + ": " + e.getMessage(), e);
            }
        }
        try {
            return CaManager.start(options, keyManager, upstream, journal, clock, random);
        } catch (CaException | RuntimeException e) {
            upstream.ifPresent(UpstreamAuthority::close);
            throw e;
        }
    }
}
