package dev.bourne.core.config;

/**
 * The {@code health_checks} block: an HTTP listener answering liveness and readiness probes. Defaults are SPIRE's:
 * disabled, {@code localhost:80}, {@code /live} and {@code /ready}.
 */
public record HealthCheckSettings(boolean listenerEnabled, String bindAddress, int bindPort, String livePath,
        String readyPath) {

    /** The settings when the block is absent. */
    public static final HealthCheckSettings DEFAULTS = new HealthCheckSettings(false, "localhost", 80, "/live", "/ready");
}
