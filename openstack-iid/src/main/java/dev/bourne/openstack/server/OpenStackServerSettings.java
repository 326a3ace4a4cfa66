package dev.bourne.openstack.server;

import dev.bourne.core.config.ConfigError;
import dev.bourne.core.config.ConfigReader;
import dev.bourne.core.config.ConfigResult;
import dev.bourne.core.config.ConfigSecret;
import dev.bourne.core.config.PluginConfig;
import dev.bourne.core.spiffeid.TrustDomain;
import dev.bourne.openstack.common.IidClaims;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The validated {@code plugin_data} of {@code NodeAttestor "openstack_iid"} on the server:
 *
 * <pre>{@code
 * NodeAttestor "openstack_iid" {
 *     plugin_data {
 *         issuer           = "https://vendordata.example.org"          # required: the documents' exact iss
 *         audience         = "spiffe://example.org/spire/server"       # default: spiffe://<trust domain>/spire/server
 *         jwks_url         = "https://vendordata.example.org/jwks.json" # or jwks_file = "/etc/bourne/iid-jwks.json"
 *         jwks_ca_file     = "/etc/bourne/vendordata-ca.pem"            # optional, for jwks_url
 *         jwks_refresh     = "10m"                                      # default
 *         jwks_min_refresh = "30s"                                      # default
 *         algorithms       = ["ES256", "ES384", "PS256", "RS256"]       # default
 *         projects         = ["4f0c2f6d1e5a4b3c9d8e7f6a5b4c3d2e"]       # required
 *         metadata_keys    = ["role"]                                   # default: none
 *         max_clock_skew   = "30s"                                      # default, at most 5m
 *         nova_check       = true                                       # default false
 *         nova {
 *             identity_url  = "https://keystone.example.org:5000/v3"
 *             auth_method   = "application_credential"                  # or "password"
 *             application_credential_id          = "21dced0fd20347869b93710d2b98aae0"
 *             application_credential_secret_file = "/etc/bourne/nova-credential"   # mode 0600 or 0640
 *         }
 *     }
 * }
 * }</pre>
 *
 * <p>{@link #validate} is pure: it reports every error at once, with its key, and reads no file. The Nova secrets are
 * read by {@link #loadNovaSettings}, the JWK set and its CA by {@link JwksSource#configure}.
 *
 * <p>Security choices: the keys come from a file or a URL the operator names, never from the node; a JWK set URL must
 * be https (plain http only on the loopback interface, for a signing service on the same host), because whoever can
 * change the keys in transit can mint documents; {@code none} and HMAC algorithms are configuration errors (see
 * {@link IidSignatureAlgorithm}); secrets are never accepted inline.
 *
 * @param issuer the exact {@code iss} of accepted documents
 * @param audience a value the documents' {@code aud} must contain
 * @param jwks where the signing service's public keys are read
 * @param jwksCaFile PEM CA certificates to trust for {@code jwks_url} instead of the system's
 * @param jwksRefresh how often cached keys are read again
 * @param jwksMinRefresh the shortest time between two reads (an unknown {@code kid} refetches at most this often)
 * @param algorithms the JWS algorithms accepted
 * @param projects the project IDs whose instances may attest
 * @param metadataKeys the instance metadata keys that become {@code meta:<key>:<value>} selectors
 * @param maxClockSkew the tolerance for {@code iat} in the future and for {@code exp}
 * @param nova the Nova check, when {@code nova_check} is true
 */
public record OpenStackServerSettings(String issuer, String audience, JwksLocation jwks, Optional<Path> jwksCaFile,
        Duration jwksRefresh, Duration jwksMinRefresh, Set<IidSignatureAlgorithm> algorithms, Set<String> projects,
        List<String> metadataKeys, Duration maxClockSkew, Optional<NovaCheck> nova) {

    public static final String ISSUER = "issuer";
    public static final String AUDIENCE = "audience";
    public static final String JWKS_FILE = "jwks_file";
    public static final String JWKS_URL = "jwks_url";
    public static final String JWKS_CA_FILE = "jwks_ca_file";
    public static final String JWKS_REFRESH = "jwks_refresh";
    public static final String JWKS_MIN_REFRESH = "jwks_min_refresh";
    public static final String ALGORITHMS = "algorithms";
    public static final String PROJECTS = "projects";
    public static final String METADATA_KEYS = "metadata_keys";
    public static final String MAX_CLOCK_SKEW = "max_clock_skew";
    public static final String NOVA_CHECK = "nova_check";
    public static final String NOVA = "nova";

    public static final String IDENTITY_URL = "identity_url";
    public static final String AUTH_METHOD = "auth_method";
    public static final String USERNAME = "username";
    public static final String USER_DOMAIN = "user_domain";
    public static final String PASSWORD = "password";
    public static final String PASSWORD_FILE = "password_file";
    public static final String PROJECT = "project";
    public static final String PROJECT_DOMAIN = "project_domain";
    public static final String APPLICATION_CREDENTIAL_ID = "application_credential_id";
    public static final String APPLICATION_CREDENTIAL_SECRET = "application_credential_secret";
    public static final String APPLICATION_CREDENTIAL_SECRET_FILE = "application_credential_secret_file";
    public static final String REGION = "region";
    public static final String INTERFACE = "interface";
    public static final String COMPUTE_URL = "compute_url";
    public static final String CA_FILE = "ca_file";
    public static final String TIMEOUT = "timeout";

    public static final String AUTH_PASSWORD = "password";
    public static final String AUTH_APPLICATION_CREDENTIAL = "application_credential";
    public static final List<String> AUTH_METHODS = List.of(AUTH_PASSWORD, AUTH_APPLICATION_CREDENTIAL);
    public static final List<String> INTERFACES = List.of("public", "internal", "admin");

    public static final Duration DEFAULT_JWKS_REFRESH = Duration.ofMinutes(10);
    public static final Duration MIN_JWKS_REFRESH = Duration.ofMinutes(1);
    public static final Duration MAX_JWKS_REFRESH = Duration.ofHours(24);
    public static final Duration DEFAULT_JWKS_MIN_REFRESH = Duration.ofSeconds(30);
    public static final Duration MIN_JWKS_MIN_REFRESH = Duration.ofSeconds(1);
    public static final Duration DEFAULT_MAX_CLOCK_SKEW = Duration.ofSeconds(30);
    public static final Duration MAX_MAX_CLOCK_SKEW = Duration.ofMinutes(5);
    public static final String DEFAULT_DOMAIN = "Default";
    public static final String DEFAULT_INTERFACE = "internal";
    public static final Duration DEFAULT_NOVA_TIMEOUT = Duration.ofSeconds(5);
    public static final Duration MAX_NOVA_TIMEOUT = Duration.ofSeconds(60);
    /** Most project IDs in the allowlist. */
    public static final int MAX_PROJECTS = 1000;
    /** Most Keystone names (user, project, domain, region, credential ID): Keystone's own column limit. */
    public static final int MAX_NAME_CHARS = 255;

    public static final String TEXT_INVALID = "must be at most 256 characters, without control characters";
    public static final String JWKS_REQUIRED = "one of jwks_file or jwks_url is required";
    public static final String JWKS_BOTH = "set only one of jwks_file and jwks_url";
    public static final String CA_WITHOUT_URL = "applies only to jwks_url";
    public static final String URL_INVALID = "is not a valid absolute URL with a host";
    public static final String URL_NOT_HTTPS = "must be an https URL (http is allowed only for 127.0.0.1, [::1] and "
            + "localhost)";
    public static final String URL_HAS_CREDENTIALS = "must not hold credentials; use a secret file";
    public static final String JWKS_REFRESH_RANGE = "must be from " + MIN_JWKS_REFRESH.toMinutes() + "m to "
            + MAX_JWKS_REFRESH.toHours() + "h";
    public static final String JWKS_MIN_REFRESH_RANGE = "must be at least " + MIN_JWKS_MIN_REFRESH.toSeconds() + "s";
    public static final String JWKS_MIN_REFRESH_LONGER = "must not be longer than jwks_refresh";
    public static final String ALGORITHMS_EMPTY = "must list at least one algorithm";
    public static final String ALGORITHM_FORBIDDEN = "is not allowed: with none or an HMAC algorithm anyone who has "
            + "the published JWK set could forge documents";
    public static final String ALGORITHM_UNKNOWN = "is not a supported algorithm; use ES256, ES384, ES512, PS256, "
            + "PS384, PS512, RS256, RS384 or RS512";
    public static final String PROJECTS_EMPTY = "must list at least one project ID";
    public static final String TOO_MANY_PROJECTS = "lists more than " + MAX_PROJECTS + " projects";
    public static final String PROJECT_INVALID = "must be a project ID: letters, digits, '-' and '_', at most "
            + IidClaims.MAX_PROJECT_ID_CHARS;
    public static final String TOO_MANY_METADATA_KEYS = "lists more than " + IidClaims.MAX_METADATA_ITEMS + " keys";
    public static final String METADATA_KEY_INVALID = "must be a metadata key of 1 to "
            + IidClaims.MAX_METADATA_KEY_CHARS + " characters without control characters";
    public static final String SKEW_TOO_LONG = "must be at most " + MAX_MAX_CLOCK_SKEW.toMinutes() + "m";
    public static final String NOVA_REQUIRED = "a nova block is required when nova_check is true";
    public static final String NOVA_UNUSED = "is ignored: nova_check is false";
    /** {@code %s} is the key that names the file instead. */
    public static final String INLINE_SECRET = "secrets are not accepted inline in the configuration; write it to a "
            + "file only the server can read (mode 0600 or 0640) and set %s";
    public static final String IDENTITY_NOT_V3 = "must be the Keystone v3 base URL, ending in /v3";
    public static final String REQUIRED_FOR_PASSWORD = "is required when auth_method is \"password\"";
    public static final String REQUIRED_FOR_APPLICATION_CREDENTIAL =
            "is required when auth_method is \"application_credential\"";
    public static final String ONLY_FOR_PASSWORD = "applies only to auth_method \"password\"";
    public static final String ONLY_FOR_APPLICATION_CREDENTIAL =
            "applies only to auth_method \"application_credential\"";
    public static final String NAME_INVALID = "must be at most " + MAX_NAME_CHARS
            + " characters, without control characters";
    public static final String NOVA_TIMEOUT_TOO_LONG = "must be at most " + MAX_NOVA_TIMEOUT.toSeconds() + "s";

    private static final Pattern PROJECT_ID = Pattern.compile("[A-Za-z0-9_-]{1," + IidClaims.MAX_PROJECT_ID_CHARS + "}");
    private static final Set<String> LOOPBACK_HOSTS = Set.of("127.0.0.1", "localhost", "[::1]");

    public OpenStackServerSettings {
        Objects.requireNonNull(issuer, "issuer");
        Objects.requireNonNull(audience, "audience");
        Objects.requireNonNull(jwks, "jwks");
        Objects.requireNonNull(jwksCaFile, "jwksCaFile");
        Objects.requireNonNull(jwksRefresh, "jwksRefresh");
        Objects.requireNonNull(jwksMinRefresh, "jwksMinRefresh");
        algorithms = Collections.unmodifiableSet(EnumSet.copyOf(algorithms));
        projects = Collections.unmodifiableSet(new LinkedHashSet<>(projects));
        metadataKeys = List.copyOf(new LinkedHashSet<>(metadataKeys));
        Objects.requireNonNull(maxClockSkew, "maxClockSkew");
        Objects.requireNonNull(nova, "nova");
        if (projects.isEmpty()) {
            throw new IllegalArgumentException(PROJECTS + " " + PROJECTS_EMPTY);
        }
        if (jwksMinRefresh.compareTo(jwksRefresh) > 0 || jwksMinRefresh.isNegative()) {
            throw new IllegalArgumentException(JWKS_MIN_REFRESH + " " + JWKS_MIN_REFRESH_LONGER);
        }
        if (maxClockSkew.isNegative() || maxClockSkew.compareTo(MAX_MAX_CLOCK_SKEW) > 0) {
            throw new IllegalArgumentException(MAX_CLOCK_SKEW + " " + SKEW_TOO_LONG);
        }
    }

    /** Whether attestation asks Nova about the instance. */
    public boolean novaCheck() {
        return nova.isPresent();
    }

    /** The default audience: the server's own SPIFFE ID, {@code spiffe://<trust domain>/spire/server}. */
    public static String defaultAudience(TrustDomain trustDomain) {
        return trustDomain.idString() + "/spire/server";
    }

    /** Where the JWK set is read. */
    public sealed interface JwksLocation permits JwksFile, JwksUrl {
    }

    /** A JWK set file, read again every {@code jwks_refresh}. */
    public record JwksFile(Path path) implements JwksLocation {
        public JwksFile {
            Objects.requireNonNull(path, "path");
        }
    }

    /** A JWK set URL (https, or http on loopback), fetched again every {@code jwks_refresh}. */
    public record JwksUrl(URI url) implements JwksLocation {
        public JwksUrl {
            Objects.requireNonNull(url, "url");
        }
    }

    /**
     * The validated {@code nova} block: {@link NovaSettings} with secret file paths in place of the secrets, which
     * {@link OpenStackServerSettings#loadNovaSettings} reads.
     */
    public record NovaCheck(URI identityUrl, NovaCredentials credentials, Optional<String> region,
            String endpointInterface, Optional<URI> computeUrl, Optional<Path> caFile, Duration timeout) {
        public NovaCheck {
            Objects.requireNonNull(identityUrl, "identityUrl");
            Objects.requireNonNull(credentials, "credentials");
            Objects.requireNonNull(region, "region");
            Objects.requireNonNull(endpointInterface, "endpointInterface");
            Objects.requireNonNull(computeUrl, "computeUrl");
            Objects.requireNonNull(caFile, "caFile");
            Objects.requireNonNull(timeout, "timeout");
        }
    }

    /** How the server authenticates to Keystone, with the secret still in its file. */
    public sealed interface NovaCredentials permits PasswordCredentials, ApplicationCredentials {
    }

    /** {@code auth_method = "password"}. */
    public record PasswordCredentials(String username, String userDomain, Path passwordFile, String project,
            String projectDomain) implements NovaCredentials {
        public PasswordCredentials {
            Objects.requireNonNull(username, "username");
            Objects.requireNonNull(userDomain, "userDomain");
            Objects.requireNonNull(passwordFile, "passwordFile");
            Objects.requireNonNull(project, "project");
            Objects.requireNonNull(projectDomain, "projectDomain");
        }
    }

    /** {@code auth_method = "application_credential"}. */
    public record ApplicationCredentials(String id, Path secretFile) implements NovaCredentials {
        public ApplicationCredentials {
            Objects.requireNonNull(id, "id");
            Objects.requireNonNull(secretFile, "secretFile");
        }
    }

    /**
     * Validates the plugin data, reporting every error at once with its key; reads no file.
     *
     * @param trustDomain the server's trust domain, for the default {@code audience}
     */
    public static ConfigResult<OpenStackServerSettings> validate(PluginConfig plugin, TrustDomain trustDomain) {
        Objects.requireNonNull(trustDomain, "trustDomain");
        ConfigReader data = plugin.pluginDataReader();

        Optional<String> issuer = data.requireString(ISSUER).filter(text -> checkText(data, ISSUER, text));
        String audience = data.optionalString(AUDIENCE).filter(text -> checkText(data, AUDIENCE, text))
                .orElse(defaultAudience(trustDomain));

        Optional<Path> jwksFile = data.optionalPath(JWKS_FILE);
        Optional<URI> jwksUrl = data.optionalString(JWKS_URL).flatMap(text -> webUrl(data, JWKS_URL, text));
        Optional<Path> jwksCaFile = data.optionalPath(JWKS_CA_FILE);
        if (data.contains(JWKS_FILE) && data.contains(JWKS_URL)) {
            data.error(JWKS_URL, JWKS_BOTH);
        } else if (!data.contains(JWKS_FILE) && !data.contains(JWKS_URL)) {
            data.error("", JWKS_REQUIRED);
        }
        if (data.contains(JWKS_CA_FILE) && !data.contains(JWKS_URL)) {
            data.error(JWKS_CA_FILE, CA_WITHOUT_URL);
        }
        Duration refresh = data.optionalDuration(JWKS_REFRESH, DEFAULT_JWKS_REFRESH);
        if (refresh.compareTo(MIN_JWKS_REFRESH) < 0 || refresh.compareTo(MAX_JWKS_REFRESH) > 0) {
            data.error(JWKS_REFRESH, JWKS_REFRESH_RANGE);
            refresh = DEFAULT_JWKS_REFRESH;
        }
        Duration minRefresh = data.optionalDuration(JWKS_MIN_REFRESH, DEFAULT_JWKS_MIN_REFRESH);
        if (minRefresh.compareTo(MIN_JWKS_MIN_REFRESH) < 0) {
            data.error(JWKS_MIN_REFRESH, JWKS_MIN_REFRESH_RANGE);
        } else if (minRefresh.compareTo(refresh) > 0) {
            data.error(JWKS_MIN_REFRESH, JWKS_MIN_REFRESH_LONGER);
        }

        Set<IidSignatureAlgorithm> algorithms = readAlgorithms(data);
        Set<String> projects = readProjects(data);
        List<String> metadataKeys = readMetadataKeys(data);

        Duration skew = data.optionalDuration(MAX_CLOCK_SKEW, DEFAULT_MAX_CLOCK_SKEW);
        if (skew.compareTo(MAX_MAX_CLOCK_SKEW) > 0) {
            data.error(MAX_CLOCK_SKEW, SKEW_TOO_LONG);
        }
        boolean novaCheck = data.optionalBool(NOVA_CHECK, false);
        Optional<ConfigReader> novaBlock = data.section(NOVA);
        Optional<NovaCheck> nova = novaBlock.flatMap(OpenStackServerSettings::readNova);
        if (novaCheck && !data.contains(NOVA)) {
            data.error(NOVA, NOVA_REQUIRED);
        } else if (!novaCheck && data.contains(NOVA)) {
            data.warning(NOVA, NOVA_UNUSED);
        }
        data.rejectUnknownKeys();

        if (!data.errors().isEmpty()) {
            return new ConfigResult.Invalid<>(data.errors());
        }
        JwksLocation jwks = jwksFile.<JwksLocation>map(JwksFile::new)
                .orElseGet(() -> new JwksUrl(jwksUrl.orElseThrow()));
        return new ConfigResult.Valid<>(new OpenStackServerSettings(issuer.orElseThrow(), audience, jwks, jwksCaFile,
                refresh, minRefresh, algorithms, projects, metadataKeys, skew,
                novaCheck ? nova : Optional.empty()), data.warnings());
    }

    /**
     * Reads the Nova check's secret file and returns the settings the Nova client takes; empty when
     * {@code nova_check} is false. A secret file that is missing, too open, empty or too large is an error of its key.
     */
    public ConfigResult<Optional<NovaSettings>> loadNovaSettings(PluginConfig plugin) {
        if (nova.isEmpty()) {
            return new ConfigResult.Valid<>(Optional.empty(), List.of());
        }
        NovaCheck check = nova.get();
        String keyPrefix = plugin.keyPath() + "." + NOVA + ".";
        NovaSettings.Auth auth;
        try {
            if (check.credentials() instanceof PasswordCredentials password) {
                ConfigSecret secret = readSecret(plugin, keyPrefix + PASSWORD_FILE, password.passwordFile());
                auth = new NovaSettings.PasswordAuth(password.username(), password.userDomain(), secret,
                        password.project(), password.projectDomain());
            } else {
                ApplicationCredentials credential = (ApplicationCredentials) check.credentials();
                ConfigSecret secret = readSecret(plugin, keyPrefix + APPLICATION_CREDENTIAL_SECRET_FILE,
                        credential.secretFile());
                auth = new NovaSettings.ApplicationCredentialAuth(credential.id(), secret);
            }
        } catch (SecretError e) {
            return new ConfigResult.Invalid<>(List.of(e.error));
        }
        return new ConfigResult.Valid<>(Optional.of(new NovaSettings(check.identityUrl(), auth, check.region(),
                check.endpointInterface(), check.computeUrl(), check.caFile(), check.timeout())), List.of());
    }

    private static ConfigSecret readSecret(PluginConfig plugin, String key, Path file) throws SecretError {
        try {
            return SecretFiles.read(file);
        } catch (SecretFiles.SecretFileException e) {
            throw new SecretError(new ConfigError(plugin.file(), key, e.getMessage()));
        }
    }

    /** Carries one secret file's error out of {@link #loadNovaSettings}. */
    private static final class SecretError extends Exception {
        private static final long serialVersionUID = 1L;
        private final transient ConfigError error;

        SecretError(ConfigError error) {
            super(error.reason(), null, false, false);
            this.error = error;
        }
    }

    /** The raw list under {@code key}, if it is one; wrong types (of the list or an item) are recorded. */
    private static Optional<List<?>> list(ConfigReader data, String key) {
        data.optionalStringList(key);
        return data.values().get(key) instanceof List<?> list ? Optional.of(list) : Optional.empty();
    }

    private static Set<IidSignatureAlgorithm> readAlgorithms(ConfigReader data) {
        if (!data.contains(ALGORITHMS)) {
            data.raw(ALGORITHMS);
            return IidSignatureAlgorithm.DEFAULTS;
        }
        List<?> names = list(data, ALGORITHMS).orElse(List.of());
        if (names.isEmpty()) {
            if (data.values().get(ALGORITHMS) instanceof List<?>) {
                data.error(ALGORITHMS, ALGORITHMS_EMPTY);
            }
            return IidSignatureAlgorithm.DEFAULTS;
        }
        Set<IidSignatureAlgorithm> out = EnumSet.noneOf(IidSignatureAlgorithm.class);
        for (int i = 0; i < names.size(); i++) {
            if (!(names.get(i) instanceof String name)) {
                continue;
            }
            if (name.equalsIgnoreCase("none") || name.toUpperCase(Locale.ROOT).startsWith("HS")) {
                data.error(ALGORITHMS + "[" + i + "]", ALGORITHM_FORBIDDEN);
                continue;
            }
            Optional<IidSignatureAlgorithm> algorithm = IidSignatureAlgorithm.byName(name);
            if (algorithm.isEmpty()) {
                data.error(ALGORITHMS + "[" + i + "]", ALGORITHM_UNKNOWN);
            } else {
                out.add(algorithm.get());
            }
        }
        return out.isEmpty() ? IidSignatureAlgorithm.DEFAULTS : out;
    }

    private static Set<String> readProjects(ConfigReader data) {
        if (!data.contains(PROJECTS)) {
            data.raw(PROJECTS);
            data.error(PROJECTS, "is required");
            return Set.of();
        }
        List<?> ids = list(data, PROJECTS).orElse(List.of());
        if (ids.isEmpty() && data.values().get(PROJECTS) instanceof List<?>) {
            data.error(PROJECTS, PROJECTS_EMPTY);
        }
        if (ids.size() > MAX_PROJECTS) {
            data.error(PROJECTS, TOO_MANY_PROJECTS);
            return Set.of();
        }
        Set<String> out = new LinkedHashSet<>();
        for (int i = 0; i < ids.size(); i++) {
            if (ids.get(i) instanceof String id) {
                if (PROJECT_ID.matcher(id).matches()) {
                    out.add(id);
                } else {
                    data.error(PROJECTS + "[" + i + "]", PROJECT_INVALID);
                }
            }
        }
        return out;
    }

    private static List<String> readMetadataKeys(ConfigReader data) {
        List<?> keys = list(data, METADATA_KEYS).orElse(List.of());
        if (keys.size() > IidClaims.MAX_METADATA_ITEMS) {
            data.error(METADATA_KEYS, TOO_MANY_METADATA_KEYS);
            return List.of();
        }
        List<String> out = new ArrayList<>();
        for (int i = 0; i < keys.size(); i++) {
            if (keys.get(i) instanceof String key) {
                if (key.isEmpty() || key.length() > IidClaims.MAX_METADATA_KEY_CHARS || hasControl(key)) {
                    data.error(METADATA_KEYS + "[" + i + "]", METADATA_KEY_INVALID);
                } else {
                    out.add(key);
                }
            }
        }
        return out;
    }

    private static Optional<NovaCheck> readNova(ConfigReader nova) {
        Optional<URI> identityUrl = nova.requireString(IDENTITY_URL).flatMap(text -> webUrl(nova, IDENTITY_URL, text))
                .flatMap(uri -> {
                    String path = uri.getPath() == null ? "" : uri.getPath().replaceAll("/+$", "");
                    if (!path.endsWith("/v3") || uri.getRawQuery() != null) {
                        nova.error(IDENTITY_URL, IDENTITY_NOT_V3);
                        return Optional.empty();
                    }
                    return Optional.of(URI.create(uri.getScheme() + "://" + uri.getRawAuthority()
                            + uri.getRawPath().replaceAll("/+$", "")));
                });
        String method = null;
        if (!nova.contains(AUTH_METHOD)) {
            nova.raw(AUTH_METHOD);
            nova.error(AUTH_METHOD, "is required");
        } else {
            method = nova.optionalChoice(AUTH_METHOD, AUTH_METHODS, name -> name, null, false);
        }
        for (String[] inline : new String[][] {{PASSWORD, PASSWORD_FILE},
                {APPLICATION_CREDENTIAL_SECRET, APPLICATION_CREDENTIAL_SECRET_FILE}}) {
            nova.raw(inline[0]);
            if (nova.contains(inline[0])) {
                nova.error(inline[0], String.format(INLINE_SECRET, inline[1]));
            }
        }
        Optional<String> username = name(nova, USERNAME);
        Optional<String> userDomain = name(nova, USER_DOMAIN);
        Optional<Path> passwordFile = nova.optionalPath(PASSWORD_FILE);
        Optional<String> project = name(nova, PROJECT);
        Optional<String> projectDomain = name(nova, PROJECT_DOMAIN);
        Optional<String> credentialId = name(nova, APPLICATION_CREDENTIAL_ID);
        Optional<Path> secretFile = nova.optionalPath(APPLICATION_CREDENTIAL_SECRET_FILE);
        Optional<String> region = name(nova, REGION);
        String endpointInterface = nova.optionalChoice(INTERFACE, INTERFACES, name -> name, DEFAULT_INTERFACE, false);
        Optional<URI> computeUrl = nova.optionalString(COMPUTE_URL).flatMap(text -> webUrl(nova, COMPUTE_URL, text));
        Optional<Path> caFile = nova.optionalPath(CA_FILE);
        Duration timeout = nova.optionalDuration(TIMEOUT, DEFAULT_NOVA_TIMEOUT);
        if (timeout.compareTo(MAX_NOVA_TIMEOUT) > 0) {
            nova.error(TIMEOUT, NOVA_TIMEOUT_TOO_LONG);
        }

        NovaCredentials credentials = null;
        if (AUTH_PASSWORD.equals(method)) {
            for (String key : List.of(USERNAME, PASSWORD_FILE, PROJECT)) {
                if (!nova.contains(key)) {
                    nova.error(key, REQUIRED_FOR_PASSWORD);
                }
            }
            for (String key : List.of(APPLICATION_CREDENTIAL_ID, APPLICATION_CREDENTIAL_SECRET_FILE)) {
                if (nova.contains(key)) {
                    nova.error(key, ONLY_FOR_APPLICATION_CREDENTIAL);
                }
            }
            if (username.isPresent() && passwordFile.isPresent() && project.isPresent()) {
                credentials = new PasswordCredentials(username.get(), userDomain.orElse(DEFAULT_DOMAIN),
                        passwordFile.get(), project.get(), projectDomain.orElse(DEFAULT_DOMAIN));
            }
        } else if (AUTH_APPLICATION_CREDENTIAL.equals(method)) {
            for (String key : List.of(APPLICATION_CREDENTIAL_ID, APPLICATION_CREDENTIAL_SECRET_FILE)) {
                if (!nova.contains(key)) {
                    nova.error(key, REQUIRED_FOR_APPLICATION_CREDENTIAL);
                }
            }
            for (String key : List.of(USERNAME, USER_DOMAIN, PASSWORD_FILE, PROJECT, PROJECT_DOMAIN)) {
                if (nova.contains(key)) {
                    nova.error(key, ONLY_FOR_PASSWORD);
                }
            }
            if (credentialId.isPresent() && secretFile.isPresent()) {
                credentials = new ApplicationCredentials(credentialId.get(), secretFile.get());
            }
        }
        nova.rejectUnknownKeys();
        if (identityUrl.isEmpty() || credentials == null) {
            return Optional.empty();
        }
        return Optional.of(new NovaCheck(identityUrl.get(), credentials, region, endpointInterface, computeUrl,
                caFile, timeout));
    }

    private static Optional<String> name(ConfigReader reader, String key) {
        return reader.optionalString(key).filter(text -> {
            if (text.length() > MAX_NAME_CHARS || hasControl(text)) {
                reader.error(key, NAME_INVALID);
                return false;
            }
            return true;
        });
    }

    private static boolean checkText(ConfigReader data, String key, String text) {
        if (text.length() > IidClaims.MAX_ISSUER_CHARS || hasControl(text)) {
            data.error(key, TEXT_INVALID);
            return false;
        }
        return true;
    }

    /** An https URL, or an http URL on loopback, without credentials or fragment; records why not. */
    private static Optional<URI> webUrl(ConfigReader reader, String key, String text) {
        URI uri;
        try {
            uri = new URI(text);
        } catch (URISyntaxException e) {
            reader.error(key, URL_INVALID);
            return Optional.empty();
        }
        if (!uri.isAbsolute() || uri.isOpaque() || uri.getHost() == null || uri.getRawFragment() != null) {
            reader.error(key, URL_INVALID);
            return Optional.empty();
        }
        if (uri.getRawUserInfo() != null) {
            reader.error(key, URL_HAS_CREDENTIALS);
            return Optional.empty();
        }
        String scheme = uri.getScheme().toLowerCase(Locale.ROOT);
        boolean loopback = LOOPBACK_HOSTS.contains(uri.getHost().toLowerCase(Locale.ROOT));
        if (!scheme.equals("https") && !(scheme.equals("http") && loopback)) {
            reader.error(key, URL_NOT_HTTPS);
            return Optional.empty();
        }
        return Optional.of(uri);
    }

    private static boolean hasControl(String text) {
        return text.chars().anyMatch(Character::isISOControl);
    }
}
