package dev.bourne.core.config;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * The {@code federation { bundle_endpoint { ... } }} block: the HTTPS listener on which this server publishes its
 * trust bundle to federated peers, as the SPIFFE Federation API defines it. Peers need no client certificate.
 *
 * @param address IP address to listen on
 * @param port TCP port to listen on
 * @param refreshHint the {@code spiffe_refresh_hint} published with the bundle: how often peers should fetch it
 * @param httpsWeb the certificate and key files of profile {@code https_web}; empty for profile
 *     {@code https_spiffe}, where the listener presents this server's own X.509-SVID
 * @see <a href="https://github.com/spiffe/spiffe/blob/main/standards/SPIFFE_Federation.md#5-serving-and-consuming-a-spiffe-bundle-endpoint">SPIFFE Federation 5</a>
 */
public record BundleEndpointSettings(String address, int port, Duration refreshHint,
        Optional<WebServingCertificate> httpsWeb) {

    public static final String DEFAULT_ADDRESS = "0.0.0.0";
    public static final int DEFAULT_PORT = 8443;
    /** SPIRE's default hint. */
    public static final Duration DEFAULT_REFRESH_HINT = Duration.ofMinutes(5);
    /** Shortest hint: shorter makes every peer poll this server continuously. */
    public static final Duration MIN_REFRESH_HINT = Duration.ofSeconds(10);
    /** Longest hint: longer leaves peers trusting keys this server retired long ago. */
    public static final Duration MAX_REFRESH_HINT = Duration.ofDays(1);

    public static final String PROFILE_HTTPS_SPIFFE = "https_spiffe";
    public static final String PROFILE_HTTPS_WEB = "https_web";

    public BundleEndpointSettings {
        Objects.requireNonNull(address, "address");
        Objects.requireNonNull(refreshHint, "refreshHint");
        Objects.requireNonNull(httpsWeb, "httpsWeb");
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port must be between 0 and 65535");
        }
        if (refreshHint.isNegative() || refreshHint.isZero()) {
            throw new IllegalArgumentException("refreshHint must be positive");
        }
    }

    /** The endpoint profile's name, {@value #PROFILE_HTTPS_SPIFFE} or {@value #PROFILE_HTTPS_WEB}. */
    public String profile() {
        return httpsWeb.isPresent() ? PROFILE_HTTPS_WEB : PROFILE_HTTPS_SPIFFE;
    }

    /** These settings on another port (tests pass 0 for an ephemeral one). */
    public BundleEndpointSettings withPort(int newPort) {
        return new BundleEndpointSettings(address, newPort, refreshHint, httpsWeb);
    }
}
