package dev.bourne.core.config;

import dev.bourne.core.keymanager.KeyType;
import dev.bourne.core.spiffeid.TrustDomain;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A validated agent configuration: the {@code agent} block with SPIRE's names and defaults, the enabled plugins,
 * health checks and Prometheus telemetry. Built only by {@link #validate}, shared by {@code bourne-agent run} and
 * {@code bourne-agent validate}. The join token is a {@link ConfigSecret}, so printing these settings never shows it.
 *
 * @param serverAddress host name or IP address of the server's agent API
 * @param serverPort its TCP port
 * @param socketPath Unix socket of the Workload API
 * @param trustBundlePath PEM bundle used to authenticate the server on first contact, if set
 * @param trustBundleUrl HTTPS URL of that bundle, if set
 * @param insecureBootstrap trust the first server reached (development only)
 * @param joinToken one-time token for join_token node attestation, if set here rather than with {@code -joinToken}
 * @param workloadX509SvidKeyType key type of workload X.509-SVIDs
 * @param adminSocketPath Unix socket of the agent's admin API, if enabled
 * @param plugins enabled plugins, grouped by type in the order KeyManager, NodeAttestor, WorkloadAttestor
 */
public record AgentSettings(
        Path dataDir,
        LogLevel logLevel,
        LogFormat logFormat,
        String serverAddress,
        int serverPort,
        Path socketPath,
        Optional<Path> trustBundlePath,
        Optional<URI> trustBundleUrl,
        boolean insecureBootstrap,
        TrustDomain trustDomain,
        Optional<ConfigSecret> joinToken,
        KeyType workloadX509SvidKeyType,
        Optional<Path> adminSocketPath,
        HealthCheckSettings healthChecks,
        Optional<PrometheusSettings> prometheus,
        List<PluginConfig> plugins) {

    public static final int DEFAULT_SERVER_PORT = 8081;
    public static final Path DEFAULT_SOCKET_PATH = Path.of("/tmp/bourne-agent/public/api.sock");

    public AgentSettings {
        Objects.requireNonNull(dataDir, "dataDir");
        Objects.requireNonNull(serverAddress, "serverAddress");
        Objects.requireNonNull(socketPath, "socketPath");
        Objects.requireNonNull(trustDomain, "trustDomain");
        plugins = List.copyOf(plugins);
    }

    /** Reads, parses and validates {@code file}; unreadable or malformed files give an invalid result too. */
    public static ConfigResult<AgentSettings> load(Path file) {
        try {
            return validate(AgentConfig.of(ConfigFile.load(file)), file);
        } catch (ConfigException e) {
            return new ConfigResult.Invalid<>(e.errors());
        }
    }

    /**
     * Validates a parsed agent configuration, collecting every error. Pure: reads no files and resolves no names.
     *
     * @param file names the file in errors
     */
    public static ConfigResult<AgentSettings> validate(AgentConfig raw, Path file) {
        ConfigReader root = ConfigReader.of(file.toString(), "", raw.root());
        if (!root.contains("agent")) {
            root.error("agent", "is required" + (root.contains("server")
                    ? " (this file has a server block: is it a server configuration?)" : ""));
        }
        // Without an agent block there is nothing to check field by field; read an empty one and drop its findings.
        ConfigReader agent = root.section("agent").orElseGet(() -> ConfigReader.of(file.toString(), "agent", Map.of()));

        Optional<Path> dataDir = agent.requirePath("data_dir");
        LogLevel logLevel = SharedSections.logLevel(agent);
        LogFormat logFormat = SharedSections.logFormat(agent);
        Optional<String> serverAddress = agent.requireString("server_address");
        if (serverAddress.isPresent() && (serverAddress.get().contains("://") || serverAddress.get().isBlank()
                || serverAddress.get().chars().anyMatch(Character::isWhitespace))) {
            agent.error("server_address", "must be a host name or IP address, not a URL");
        }
        int serverPort = agent.optionalPort("server_port", DEFAULT_SERVER_PORT);
        Path socketPath = SharedSections.socketPath(agent, "socket_path", DEFAULT_SOCKET_PATH);
        Optional<Path> trustBundlePath = agent.optionalPath("trust_bundle_path");
        Optional<URI> trustBundleUrl = agent.optionalString("trust_bundle_url").flatMap(s -> httpsUrl(agent, s));
        boolean insecureBootstrap = agent.optionalBool("insecure_bootstrap", false);
        Optional<TrustDomain> trustDomain = SharedSections.trustDomain(agent);
        Optional<ConfigSecret> joinToken = agent.optionalSecret("join_token");
        KeyType workloadKeyType = SharedSections.keyType(agent, "workload_x509_svid_key_type");
        Optional<Path> adminSocketPath = agent.optionalPath("admin_socket_path");
        agent.rejectUnknownKeys();

        long bootstrapChoices = (agent.contains("trust_bundle_path") ? 1 : 0) + (agent.contains("trust_bundle_url") ? 1 : 0)
                + (insecureBootstrap ? 1 : 0);
        if (bootstrapChoices > 1) {
            agent.error("", "only one of trust_bundle_path, trust_bundle_url and insecure_bootstrap = true may be set");
        } else if (bootstrapChoices == 0 && root.contains("agent")) {
            agent.error("trust_bundle_path", "is required unless trust_bundle_url is set or insecure_bootstrap = true");
        }
        if (insecureBootstrap) {
            agent.warning("insecure_bootstrap", "the agent will trust the first server it reaches; use only for "
                    + "development");
        }
        if (adminSocketPath.isPresent() && Objects.equals(parentOf(adminSocketPath.get()), parentOf(socketPath))) {
            // The Workload API directory is open to every local process; the admin socket must not sit beside it.
            agent.error("admin_socket_path", "must not be in the same directory as socket_path");
        }

        for (String key : SharedSections.COMMON_TOP_LEVEL) {
            root.raw(key);
        }
        HealthCheckSettings healthChecks = SharedSections.healthChecks(root);
        Optional<PrometheusSettings> prometheus = SharedSections.prometheus(root);
        List<PluginConfig> plugins = PluginRules.read(root, PluginRules.AGENT, "agent");
        root.rejectUnknownKeys();

        if (!root.errors().isEmpty()) {
            return new ConfigResult.Invalid<>(root.errors());
        }
        return new ConfigResult.Valid<>(new AgentSettings(dataDir.orElseThrow(), logLevel, logFormat,
                serverAddress.orElseThrow(), serverPort, socketPath, trustBundlePath, trustBundleUrl, insecureBootstrap,
                trustDomain.orElseThrow(), joinToken, workloadKeyType, adminSocketPath, healthChecks, prometheus, plugins),
                root.warnings());
    }

    private static Path parentOf(Path path) {
        Path parent = path.toAbsolutePath().normalize().getParent();
        return parent == null ? path : parent;
    }

    private static Optional<URI> httpsUrl(ConfigReader agent, String text) {
        try {
            URI uri = new URI(text);
            if ("https".equals(uri.getScheme()) && uri.getHost() != null && !uri.getHost().isEmpty()) {
                return Optional.of(uri);
            }
        } catch (URISyntaxException e) {
            // reported below
        }
        agent.error("trust_bundle_url", "must be an https URL with a host");
        return Optional.empty();
    }
}
