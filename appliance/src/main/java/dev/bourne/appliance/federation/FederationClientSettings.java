package dev.bourne.appliance.federation;

import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * The federation client's settings: how often bundles are fetched and how long one fetch may take.
 *
 * @param minRefreshInterval the shortest time between two fetches from one endpoint, whatever its refresh hint says
 *     (protects the peer and us from a hint of one second); also the first backoff step after an error
 * @param maxRefreshInterval the longest time between two fetches, whatever the hint says, and the backoff's bound
 * @param fetchTimeout the longest one fetch may take, connect to last byte
 * @param extraWebRoots CA certificates trusted for {@code https_web} endpoints besides the system's (a private PKI)
 */
public record FederationClientSettings(Duration minRefreshInterval, Duration maxRefreshInterval, Duration fetchTimeout,
        List<X509Certificate> extraWebRoots) {
    public static final Duration DEFAULT_MIN_REFRESH_INTERVAL = Duration.ofSeconds(30);
    public static final Duration DEFAULT_MAX_REFRESH_INTERVAL = Duration.ofHours(1);
    public static final FederationClientSettings DEFAULTS = new FederationClientSettings(
            DEFAULT_MIN_REFRESH_INTERVAL, DEFAULT_MAX_REFRESH_INTERVAL, BundleFetcher.DEFAULT_TIMEOUT, List.of());

    public FederationClientSettings {
        Objects.requireNonNull(minRefreshInterval, "minRefreshInterval");
        Objects.requireNonNull(maxRefreshInterval, "maxRefreshInterval");
        Objects.requireNonNull(fetchTimeout, "fetchTimeout");
        extraWebRoots = List.copyOf(extraWebRoots);
        if (minRefreshInterval.isNegative() || minRefreshInterval.isZero()) {
            throw new IllegalArgumentException("the minimum refresh interval must be positive");
        }
        if (maxRefreshInterval.compareTo(minRefreshInterval) < 0) {
            throw new IllegalArgumentException("the maximum refresh interval is shorter than the minimum");
        }
        if (fetchTimeout.isNegative() || fetchTimeout.isZero()) {
            throw new IllegalArgumentException("the fetch timeout must be positive");
        }
    }

    /** These settings with other refresh bounds. */
    public FederationClientSettings withRefreshIntervals(Duration min, Duration max) {
        return new FederationClientSettings(min, max, fetchTimeout, extraWebRoots);
    }
}
