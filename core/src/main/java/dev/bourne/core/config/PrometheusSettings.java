package dev.bourne.core.config;

/** The {@code telemetry { Prometheus { host, port } }} block: where metrics are served for scraping. */
public record PrometheusSettings(String host, int port) {
}
