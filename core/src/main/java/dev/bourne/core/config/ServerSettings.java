package dev.bourne.core.config;

import dev.bourne.core.keymanager.KeyType;
import dev.bourne.core.spiffeid.TrustDomain;

import dev.bourne.core.config.internal.GoDuration;
import dev.bourne.core.config.internal.Values;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A validated server configuration: the {@code server} block with SPIRE's names and defaults, the enabled plugins,
 * health checks and Prometheus telemetry, federation and OIDC discovery. Built by {@link #validate}, the one function
 * {@code bourne-server run} and {@code bourne-server validate} share (tests adjust it with the {@code with*} copies).
 *
 * @param bindAddress IP address the agent API listens on
 * @param bindPort TCP port of the agent API
 * @param socketPath Unix socket of the admin API
 * @param trustDomain the trust domain name, such as {@code example.org}
 * @param dataDir directory for the server's state
 * @param caTtl lifetime of the X.509 CA and JWT signing key
 * @param defaultX509SvidTtl X.509-SVID lifetime when an entry sets none
 * @param defaultJwtSvidTtl JWT-SVID lifetime when the request sets none
 * @param agentTtl lifetime of agent SVIDs
 * @param jwtIssuer {@code iss} claim of JWT-SVIDs, if set
 * @param caSubject subject of the CA certificate, if set
 * @param plugins enabled plugins, grouped by type in the order DataStore, KeyManager, NodeAttestor, UpstreamAuthority
 * @param federation the {@code federation} block: bundle endpoint and refresh bounds (defaults when absent)
 * @param oidcDiscovery the {@code oidc_discovery} listener, if configured (then {@code jwtIssuer} is an https URL)
 */
public record ServerSettings(
        String bindAddress,
        int bindPort,
        Path socketPath,
        TrustDomain trustDomain,
        Path dataDir,
        LogLevel logLevel,
        LogFormat logFormat,
        Duration caTtl,
        Duration defaultX509SvidTtl,
        Duration defaultJwtSvidTtl,
        Duration agentTtl,
        KeyType caKeyType,
        KeyType jwtKeyType,
        Optional<URI> jwtIssuer,
        Optional<CaSubject> caSubject,
        boolean auditLogEnabled,
        HealthCheckSettings healthChecks,
        Optional<PrometheusSettings> prometheus,
        List<PluginConfig> plugins,
        FederationSettings federation,
        Optional<OidcDiscoverySettings> oidcDiscovery) {

    public static final String DEFAULT_BIND_ADDRESS = "0.0.0.0";
    public static final int DEFAULT_BIND_PORT = 8081;
    public static final Path DEFAULT_SOCKET_PATH = Path.of("/tmp/bourne-server/private/api.sock");
    public static final Duration DEFAULT_CA_TTL = Duration.ofHours(24);
    public static final Duration DEFAULT_X509_SVID_TTL = Duration.ofHours(1);
    public static final Duration DEFAULT_JWT_SVID_TTL = Duration.ofMinutes(5);
    public static final Duration DEFAULT_AGENT_TTL = Duration.ofHours(1);

    /** SPIRE warns when the CA lives less than this many default X.509-SVID lifetimes. */
    static final int CA_TTL_SVID_RATIO = 6;

    private static final Pattern IPV4 = Pattern.compile(
            "((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])");
    private static final Pattern IPV6_CHARS = Pattern.compile("[0-9A-Fa-f:][0-9A-Fa-f:.]*");

    public ServerSettings {
        Objects.requireNonNull(bindAddress, "bindAddress");
        Objects.requireNonNull(socketPath, "socketPath");
        Objects.requireNonNull(trustDomain, "trustDomain");
        Objects.requireNonNull(dataDir, "dataDir");
        plugins = List.copyOf(plugins);
        Objects.requireNonNull(federation, "federation");
        Objects.requireNonNull(oidcDiscovery, "oidcDiscovery");
    }

    /** These settings with another {@code federation} block (for tests and tools that build settings in code). */
    public ServerSettings withFederation(FederationSettings newFederation) {
        return new ServerSettings(bindAddress, bindPort, socketPath, trustDomain, dataDir, logLevel, logFormat, caTtl,
                defaultX509SvidTtl, defaultJwtSvidTtl, agentTtl, caKeyType, jwtKeyType, jwtIssuer, caSubject,
                auditLogEnabled, healthChecks, prometheus, plugins, newFederation, oidcDiscovery);
    }

    /**
     * These settings with another {@code jwt_issuer} and {@code oidc_discovery} listener (for tests and tools that
     * build settings in code).
     */
    public ServerSettings withOidcDiscovery(Optional<URI> newJwtIssuer, Optional<OidcDiscoverySettings> newOidc) {
        return new ServerSettings(bindAddress, bindPort, socketPath, trustDomain, dataDir, logLevel, logFormat, caTtl,
                defaultX509SvidTtl, defaultJwtSvidTtl, agentTtl, caKeyType, jwtKeyType, newJwtIssuer, caSubject,
                auditLogEnabled, healthChecks, prometheus, plugins, federation, newOidc);
    }

    /** Reads, parses and validates {@code file}; unreadable or malformed files give an invalid result too. */
    public static ConfigResult<ServerSettings> load(Path file) {
        try {
            return validate(ServerConfig.of(ConfigFile.load(file)), file);
        } catch (ConfigException e) {
            return new ConfigResult.Invalid<>(e.errors());
        }
    }

    /**
     * Validates a parsed server configuration, collecting every error. Pure: reads no files and resolves no names.
     *
     * @param file names the file in errors
     */
    public static ConfigResult<ServerSettings> validate(ServerConfig raw, Path file) {
        ConfigReader root = ConfigReader.of(file.toString(), "", raw.root());
        if (!root.contains("server")) {
            root.error("server", "is required" + (root.contains("agent")
                    ? " (this file has an agent block: is it an agent configuration?)" : ""));
        }
        // Without a server block there is nothing to check field by field; read an empty one and drop its findings.
        ConfigReader server = root.section("server")
                .orElseGet(() -> ConfigReader.of(file.toString(), "server", Map.of()));

        String bindAddress = server.optionalString("bind_address", DEFAULT_BIND_ADDRESS);
        if (server.contains("bind_address") && !isIpLiteral(bindAddress)) {
            server.error("bind_address", "must be an IP address such as \"0.0.0.0\" or \"::\", got string "
                    + Values.quote(bindAddress));
        }
        int bindPort = server.optionalPort("bind_port", DEFAULT_BIND_PORT);
        Path socketPath = SharedSections.socketPath(server, "socket_path", DEFAULT_SOCKET_PATH);
        Optional<TrustDomain> trustDomain = SharedSections.trustDomain(server);
        Optional<Path> dataDir = server.requirePath("data_dir");
        LogLevel logLevel = SharedSections.logLevel(server);
        LogFormat logFormat = SharedSections.logFormat(server);
        int errorsBeforeTtls = server.errors().size();
        Duration caTtl = server.optionalDuration("ca_ttl", DEFAULT_CA_TTL);
        Duration x509SvidTtl = server.optionalDuration("default_x509_svid_ttl", DEFAULT_X509_SVID_TTL);
        boolean ttlsValid = server.errors().size() == errorsBeforeTtls;
        Duration jwtSvidTtl = server.optionalDuration("default_jwt_svid_ttl", DEFAULT_JWT_SVID_TTL);
        Duration agentTtl = server.optionalDuration("agent_ttl", DEFAULT_AGENT_TTL);
        KeyType caKeyType = SharedSections.keyType(server, "ca_key_type");
        KeyType jwtKeyType = SharedSections.keyType(server, "jwt_key_type");
        Optional<URI> jwtIssuer = server.optionalString("jwt_issuer").flatMap(s -> issuer(server, s));
        Optional<CaSubject> caSubject = server.section("ca_subject").map(ServerSettings::caSubject);
        boolean auditLogEnabled = server.optionalBool("audit_log_enabled", false);
        FederationSettings federation = FederationSections.federation(server);
        Optional<OidcDiscoverySettings> oidcDiscovery = FederationSections.oidcDiscovery(server,
                server.contains("jwt_issuer"), jwtIssuer);
        FederationSections.checkPorts(server, bindPort, federation, oidcDiscovery);
        server.rejectUnknownKeys();

        if (ttlsValid) {
            if (x509SvidTtl.compareTo(caTtl) >= 0) {
                server.error("default_x509_svid_ttl", "must be less than ca_ttl (" + GoDuration.format(caTtl) + "), got "
                        + GoDuration.format(x509SvidTtl));
            } else if (caTtl.compareTo(x509SvidTtl.multipliedBy(CA_TTL_SVID_RATIO)) < 0) {
                server.warning("ca_ttl", "is less than " + CA_TTL_SVID_RATIO + " times default_x509_svid_ttl ("
                        + GoDuration.format(x509SvidTtl) + "): SVIDs issued near a CA rotation get shorter lifetimes; set ca_ttl"
                        + " to " + GoDuration.format(x509SvidTtl.multipliedBy(CA_TTL_SVID_RATIO)) + " or more");
            }
        }

        for (String key : SharedSections.COMMON_TOP_LEVEL) {
            root.raw(key);
        }
        HealthCheckSettings healthChecks = SharedSections.healthChecks(root);
        Optional<PrometheusSettings> prometheus = SharedSections.prometheus(root);
        List<PluginConfig> plugins = PluginRules.read(root, PluginRules.SERVER, "server");
        plugins.stream()
                .filter(p -> p.type().equals("DataStore") && p.name().equals("sql"))
                .forEach(p -> checkSqlDataStore(root, p));
        root.rejectUnknownKeys();

        List<ConfigError> errors = root.errors();
        if (!errors.isEmpty()) {
            return new ConfigResult.Invalid<>(errors);
        }
        return new ConfigResult.Valid<>(new ServerSettings(bindAddress, bindPort, socketPath, trustDomain.orElseThrow(),
                dataDir.orElseThrow(), logLevel, logFormat, caTtl, x509SvidTtl, jwtSvidTtl, agentTtl, caKeyType, jwtKeyType,
                jwtIssuer, caSubject, auditLogEnabled, healthChecks, prometheus, plugins, federation, oidcDiscovery),
                root.warnings());
    }

    /** The sql DataStore's two settings every server needs; the datastore itself reads the rest. */
    private static void checkSqlDataStore(ConfigReader root, PluginConfig plugin) {
        ConfigReader data = root.child(plugin.keyPath(), plugin.pluginData());
        if (!data.contains("database_type")) {
            data.error("database_type", "is required");
        }
        data.optionalChoice("database_type", List.of("sqlite3", "postgres"), s -> s, "sqlite3", false);
        data.requireString("connection_string");
    }

    private static CaSubject caSubject(ConfigReader block) {
        List<String> country = block.optionalStringList("country");
        List<String> organization = block.optionalStringList("organization");
        // SPIRE's sample writes common_name = "", so an empty string is allowed here.
        Object commonName = block.raw("common_name").orElse("");
        if (!(commonName instanceof String)) {
            block.error("common_name", "expected a string, got " + Values.describe(commonName, false));
            commonName = "";
        }
        CaSubject subject = new CaSubject(country, organization, (String) commonName);
        block.rejectUnknownKeys();
        return subject;
    }

    private static Optional<URI> issuer(ConfigReader server, String text) {
        try {
            URI uri = new URI(text);
            String scheme = uri.getScheme();
            if (("https".equals(scheme) || "http".equals(scheme)) && uri.getHost() != null && !uri.getHost().isEmpty()) {
                return Optional.of(uri);
            }
        } catch (URISyntaxException e) {
            // reported below
        }
        server.error("jwt_issuer", "must be an https or http URL with a host, such as \"https://oidc.example.org\"");
        return Optional.empty();
    }

    /** True for an IPv4 or IPv6 literal; never resolves a name. Public for other listeners' bind addresses. */
    public static boolean isIpLiteral(String text) {
        if (IPV4.matcher(text).matches()) {
            return true;
        }
        if (!text.contains(":") || !IPV6_CHARS.matcher(text).matches()) {
            return false;
        }
        try {
            // Safe: a string containing ':' that starts with a hex digit or ':' is parsed as an IPv6 literal or rejected,
            // never looked up.
            InetAddress.getByName(text);
            return true;
        } catch (UnknownHostException e) {
            return false;
        }
    }
}
