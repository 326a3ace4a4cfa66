package dev.bourne.core.config;

import dev.bourne.core.keymanager.KeyType;
import dev.bourne.core.spiffeid.InvalidSpiffeIdException;
import dev.bourne.core.spiffeid.TrustDomain;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/** Reading rules the server and agent configurations share. */
final class SharedSections {

    /** {@code sun_path} holds 108 bytes including the terminating NUL. */
    static final int MAX_SOCKET_PATH_BYTES = 107;


    private SharedSections() {
    }

    /** The trust domain, validated by {@link TrustDomain} so configuration and IDs follow the same rules. */
    static Optional<TrustDomain> trustDomain(ConfigReader block) {
        Optional<String> value = block.requireString("trust_domain");
        if (value.isEmpty()) {
            return Optional.empty();
        }
        String name = value.get();
        if (name.startsWith("spiffe://")) {
            block.error("trust_domain", "must be a trust domain name such as \"example.org\", not a SPIFFE ID");
            return Optional.empty();
        }
        try {
            return Optional.of(new TrustDomain(name));
        } catch (InvalidSpiffeIdException e) {
            block.error("trust_domain", "is not a valid trust domain name: " + e.reason());
            return Optional.empty();
        }
    }

    static LogLevel logLevel(ConfigReader block) {
        return block.optionalChoice("log_level", Arrays.asList(LogLevel.values()), LogLevel::name, LogLevel.INFO, true);
    }

    static LogFormat logFormat(ConfigReader block) {
        return block.optionalChoice("log_format", Arrays.asList(LogFormat.values()), LogFormat::configName,
                LogFormat.TEXT, true);
    }

    static KeyType keyType(ConfigReader block, String key) {
        return block.optionalChoice(key, Arrays.asList(KeyType.values()), KeyType::configName, KeyType.EC_P256, false);
    }

    /** A Unix socket path, checked against the kernel's {@code sun_path} limit as written (relative paths too). */
    static Path socketPath(ConfigReader block, String key, Path fallback) {
        Optional<Path> path = block.optionalPath(key);
        if (path.isPresent() && path.get().toString().getBytes(StandardCharsets.UTF_8).length > MAX_SOCKET_PATH_BYTES) {
            block.error(key, "is longer than the " + MAX_SOCKET_PATH_BYTES + " bytes a Unix socket path may have");
        }
        return path.orElse(fallback);
    }

    static HealthCheckSettings healthChecks(ConfigReader root) {
        Optional<ConfigReader> section = root.section("health_checks");
        if (section.isEmpty()) {
            return HealthCheckSettings.DEFAULTS;
        }
        ConfigReader block = section.get();
        HealthCheckSettings d = HealthCheckSettings.DEFAULTS;
        HealthCheckSettings settings = new HealthCheckSettings(
                block.optionalBool("listener_enabled", d.listenerEnabled()),
                block.optionalString("bind_address", d.bindAddress()),
                block.optionalPort("bind_port", d.bindPort()),
                httpPath(block, "live_path", d.livePath()),
                httpPath(block, "ready_path", d.readyPath()));
        block.rejectUnknownKeys();
        return settings;
    }

    /** {@code telemetry { Prometheus { host, port } }}; SPIRE's other sinks are not supported. */
    static Optional<PrometheusSettings> prometheus(ConfigReader root) {
        Optional<ConfigReader> telemetry = root.section("telemetry");
        if (telemetry.isEmpty()) {
            return Optional.empty();
        }
        Optional<PrometheusSettings> prometheus = telemetry.get().section("Prometheus").map(block -> {
            String host = block.optionalString("host", "localhost");
            if (!block.contains("port")) {
                block.error("port", "is required");
            }
            int port = block.optionalPort("port", 9988);
            block.rejectUnknownKeys();
            return new PrometheusSettings(host, port);
        });
        telemetry.get().rejectUnknownKeys();
        return prometheus;
    }

    private static String httpPath(ConfigReader block, String key, String fallback) {
        Optional<String> path = block.optionalString(key);
        if (path.isPresent() && !path.get().startsWith("/")) {
            block.error(key, "must start with \"/\"");
            return fallback;
        }
        return path.orElse(fallback);
    }

    /** Top-level keys every configuration may have besides its own process block. */
    static final List<String> COMMON_TOP_LEVEL = List.of("plugins", "health_checks", "telemetry");
}
