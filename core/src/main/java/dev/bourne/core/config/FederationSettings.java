package dev.bourne.core.config;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * The {@code server { federation { ... } }} block: whether this server serves its bundle to federated trust domains
 * (the bundle endpoint), and the bounds within which it polls its peers' bundle endpoints. The relationships themselves
 * (which peers, at which URLs) are managed with {@code bourne-server federation}, not in the file.
 *
 * @param bundleEndpoint this server's bundle endpoint, when it serves one
 * @param minRefreshInterval the shortest time between two fetches of one peer's bundle, whatever its refresh hint
 *     says: a peer asking for a refresh every second must not make us poll it every second
 * @param maxRefreshInterval the longest time between two fetches, whatever the peer's hint: a peer announcing a
 *     hint of a week would otherwise leave us trusting retired keys for a week
 * @see <a href="https://github.com/spiffe/spiffe/blob/main/standards/SPIFFE_Federation.md">SPIFFE Federation</a>
 */
public record FederationSettings(Optional<BundleEndpointSettings> bundleEndpoint, Duration minRefreshInterval,
        Duration maxRefreshInterval) {

    public static final Duration DEFAULT_MIN_REFRESH_INTERVAL = Duration.ofSeconds(30);
    public static final Duration DEFAULT_MAX_REFRESH_INTERVAL = Duration.ofHours(1);
    /** Lowest accepted refresh interval: below a second a server would be hammering its peers. */
    public static final Duration REFRESH_INTERVAL_FLOOR = Duration.ofSeconds(1);
    /** Highest accepted refresh interval: with the default 24h CA lifetime, a day means missing a rotation. */
    public static final Duration REFRESH_INTERVAL_CEILING = Duration.ofHours(24);

    /** The settings when the block is absent: no bundle endpoint, default refresh bounds. */
    public static final FederationSettings DEFAULTS = new FederationSettings(Optional.empty(),
            DEFAULT_MIN_REFRESH_INTERVAL, DEFAULT_MAX_REFRESH_INTERVAL);

    public FederationSettings {
        Objects.requireNonNull(bundleEndpoint, "bundleEndpoint");
        Objects.requireNonNull(minRefreshInterval, "minRefreshInterval");
        Objects.requireNonNull(maxRefreshInterval, "maxRefreshInterval");
        if (minRefreshInterval.isNegative() || minRefreshInterval.isZero()) {
            throw new IllegalArgumentException("minRefreshInterval must be positive");
        }
        if (minRefreshInterval.compareTo(maxRefreshInterval) > 0) {
            throw new IllegalArgumentException("minRefreshInterval must not exceed maxRefreshInterval");
        }
    }

    /** These settings with another bundle endpoint (for tests and tools that build settings in code). */
    public FederationSettings withBundleEndpoint(Optional<BundleEndpointSettings> endpoint) {
        return new FederationSettings(endpoint, minRefreshInterval, maxRefreshInterval);
    }

    /** {@code hint} clamped to {@code [minRefreshInterval, maxRefreshInterval]}; the maximum when there is none. */
    public Duration clampRefresh(Optional<Duration> hint) {
        Duration wanted = Objects.requireNonNull(hint, "hint").orElse(maxRefreshInterval);
        if (wanted.compareTo(minRefreshInterval) < 0) {
            return minRefreshInterval;
        }
        return wanted.compareTo(maxRefreshInterval) > 0 ? maxRefreshInterval : wanted;
    }
}
