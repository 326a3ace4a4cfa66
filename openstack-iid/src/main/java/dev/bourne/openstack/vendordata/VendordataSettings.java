package dev.bourne.openstack.vendordata;

import dev.bourne.core.config.ConfigError;
import dev.bourne.core.config.ConfigException;
import dev.bourne.core.config.ConfigFile;
import dev.bourne.core.config.ConfigReader;
import dev.bourne.core.config.ConfigResult;
import dev.bourne.core.config.LogLevel;
import dev.bourne.core.config.PluginConfig;
import dev.bourne.core.config.PluginRules;
import dev.bourne.core.config.ServerSettings;
import dev.bourne.core.keymanager.KeyType;
import dev.bourne.openstack.common.IidClaims;
import dev.bourne.openstack.common.OpenStackIid;
import dev.bourne.keymanager.KeyManagers;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * A validated configuration of the IID signing service ({@code bourne-vendordata}): the {@code vendordata} block and
 * its one {@code KeyManager} plugin.
 *
 * <pre>{@code
 * vendordata {
 *     bind_address    = "0.0.0.0"                                # default
 *     bind_port       = 8443                                     # default
 *     data_dir        = "/var/lib/bourne/vendordata"             # required: the key journal lives here
 *     issuer          = "https://vendordata.example.org"         # required: the iss claim
 *     audience        = ["spiffe://example.org/spire/server"]    # required: the aud claim
 *     document_ttl    = "5m"                                     # default; at most 10m
 *     key_type        = "ec-p256"                                # default; ec-p384, rsa-2048, rsa-4096
 *     key_lifetime    = "24h"                                    # default; at least 1h
 *     tls_cert_file   = "/etc/bourne/vendordata/tls.crt"         # required
 *     tls_key_file    = "/etc/bourne/vendordata/tls.key"         # required; mode 0600 or 0640
 *     client_ca_file  = "/etc/bourne/vendordata/nova-ca.crt"     # optional: require Nova's client certificate
 *     auth_token_file = "/etc/bourne/vendordata/token"           # required unless client_ca_file is set
 *     log_level       = "INFO"
 * }
 * plugins {
 *     KeyManager "pkcs11" { plugin_data { ... } }                # exactly one: pkcs11, disk or memory
 * }
 * }</pre>
 *
 * <p>{@link #validate} is pure (it reads no file and contacts no HSM) and reports every error at once, the key
 * manager's plugin data included; the files it names are read and checked by {@link VendordataTls#load} and
 * {@link CallerAuthenticator#load}. A signing service without any caller authentication is refused here: anyone who
 * could reach it could mint identity documents for any instance.
 *
 * @param bindAddress IP address the HTTPS listener binds
 * @param bindPort its TCP port (0 picks a free port: tests only, a configuration file needs 1 to 65535)
 * @param dataDir the service's state directory (the signing key journal)
 * @param issuer the {@code iss} claim of every document
 * @param audience the {@code aud} claim of every document
 * @param documentTtl how long a document is valid ({@code exp - iat})
 * @param keyType the type of newly generated signing keys
 * @param keyLifetime how long a signing key signs before the next one takes over
 * @param tlsCertFile PEM certificate chain of the listener, leaf first
 * @param tlsKeyFile PEM private key of the listener
 * @param clientCaFile PEM CA certificates Nova's client certificate must chain to, when client certificates are required
 * @param authTokenFile file holding the token Nova sends, when tokens are required
 * @param logLevel the log level
 * @param keyManager the enabled {@code KeyManager} plugin
 */
public record VendordataSettings(String bindAddress, int bindPort, Path dataDir, String issuer, List<String> audience,
        Duration documentTtl, KeyType keyType, Duration keyLifetime, Path tlsCertFile, Path tlsKeyFile,
        Optional<Path> clientCaFile, Optional<Path> authTokenFile, LogLevel logLevel, PluginConfig keyManager) {

    public static final String BLOCK = "vendordata";
    public static final String BIND_ADDRESS = "bind_address";
    public static final String BIND_PORT = "bind_port";
    public static final String DATA_DIR = "data_dir";
    public static final String ISSUER = "issuer";
    public static final String AUDIENCE = "audience";
    public static final String DOCUMENT_TTL = "document_ttl";
    public static final String KEY_TYPE = "key_type";
    public static final String KEY_LIFETIME = "key_lifetime";
    public static final String TLS_CERT_FILE = "tls_cert_file";
    public static final String TLS_KEY_FILE = "tls_key_file";
    public static final String CLIENT_CA_FILE = "client_ca_file";
    public static final String AUTH_TOKEN_FILE = "auth_token_file";
    public static final String LOG_LEVEL = "log_level";

    public static final String DEFAULT_BIND_ADDRESS = "0.0.0.0";
    public static final int DEFAULT_BIND_PORT = 8443;
    public static final Duration DEFAULT_DOCUMENT_TTL = Duration.ofMinutes(5);
    /** The protocol's ceiling ({@link OpenStackIid#MAX_TTL}): verifiers refuse longer-lived documents. */
    public static final Duration MAX_DOCUMENT_TTL = OpenStackIid.MAX_TTL;
    public static final KeyType DEFAULT_KEY_TYPE = KeyType.EC_P256;
    public static final Duration DEFAULT_KEY_LIFETIME = Duration.ofHours(24);
    /**
     * Shortest key lifetime: the next key is published half a lifetime before it signs, and verifiers cache the JWK
     * set; half an hour of publication leaves them ample time to see it.
     */
    public static final Duration MIN_KEY_LIFETIME = Duration.ofHours(1);
    /** Longest key lifetime: a year; a signing key that never rotates is one that is never known to rotate safely. */
    public static final Duration MAX_KEY_LIFETIME = Duration.ofDays(365);

    /** The plugins this process has: one key manager, nothing else. */
    public static final List<PluginRules.Kind> PLUGIN_KINDS = List.of(new PluginRules.Kind(KeyManagers.PLUGIN_TYPE,
            PluginRules.Cardinality.EXACTLY_ONE, KeyManagers.NAMES));

    public static final String BLOCK_REQUIRED = "is required";
    public static final String BIND_ADDRESS_NOT_IP = "must be an IP address such as \"0.0.0.0\" or \"::\"";
    public static final String ISSUER_BOUNDS = "must be at most " + IidClaims.MAX_ISSUER_CHARS
            + " characters without control characters";
    public static final String AUDIENCE_REQUIRED = "must list at least one audience, such as "
            + "[\"spiffe://example.org/spire/server\"]";
    public static final String AUDIENCE_TOO_MANY = "lists more than " + IidClaims.MAX_AUDIENCES + " audiences";
    public static final String AUDIENCE_BOUNDS = "must be 1 to " + IidClaims.MAX_AUDIENCE_CHARS
            + " characters without control characters";
    public static final String AUDIENCE_DUPLICATE = "lists the same audience twice";
    public static final String DOCUMENT_TTL_BOUNDS = "must be a whole number of seconds from 1s to "
            + MAX_DOCUMENT_TTL.toMinutes() + "m";
    public static final String KEY_LIFETIME_BOUNDS = "must be from " + MIN_KEY_LIFETIME.toHours() + "h to "
            + MAX_KEY_LIFETIME.toHours() + "h";
    public static final String AUTHENTICATION_REQUIRED = "is required unless client_ca_file is set: a signing "
            + "service that does not authenticate Nova would sign documents for anyone who can reach it";

    public VendordataSettings {
        Objects.requireNonNull(bindAddress, "bindAddress");
        if (bindPort < 0 || bindPort > 65535) {
            throw new IllegalArgumentException("bindPort must be between 0 and 65535");
        }
        Objects.requireNonNull(dataDir, "dataDir");
        Objects.requireNonNull(issuer, "issuer");
        audience = List.copyOf(audience);
        if (audience.isEmpty()) {
            throw new IllegalArgumentException("audience " + AUDIENCE_REQUIRED);
        }
        Objects.requireNonNull(documentTtl, "documentTtl");
        if (!validTtl(documentTtl)) {
            throw new IllegalArgumentException("documentTtl " + DOCUMENT_TTL_BOUNDS);
        }
        Objects.requireNonNull(keyType, "keyType");
        Objects.requireNonNull(keyLifetime, "keyLifetime");
        if (keyLifetime.compareTo(MIN_KEY_LIFETIME) < 0 || keyLifetime.compareTo(MAX_KEY_LIFETIME) > 0) {
            throw new IllegalArgumentException("keyLifetime " + KEY_LIFETIME_BOUNDS);
        }
        Objects.requireNonNull(tlsCertFile, "tlsCertFile");
        Objects.requireNonNull(tlsKeyFile, "tlsKeyFile");
        Objects.requireNonNull(clientCaFile, "clientCaFile");
        Objects.requireNonNull(authTokenFile, "authTokenFile");
        if (clientCaFile.isEmpty() && authTokenFile.isEmpty()) {
            throw new IllegalArgumentException("authTokenFile " + AUTHENTICATION_REQUIRED);
        }
        Objects.requireNonNull(logLevel, "logLevel");
        Objects.requireNonNull(keyManager, "keyManager");
    }

    /** Reads, parses and validates {@code file}; an unreadable or malformed file gives an invalid result too. */
    public static ConfigResult<VendordataSettings> load(Path file) {
        try {
            return validate(ConfigFile.load(file), file);
        } catch (ConfigException e) {
            return new ConfigResult.Invalid<>(e.errors());
        }
    }

    /**
     * Validates a parsed configuration, collecting every error, the key manager's plugin data included. Pure: reads
     * no files and resolves no names.
     *
     * @param file names the file in errors
     */
    public static ConfigResult<VendordataSettings> validate(ConfigFile raw, Path file) {
        ConfigReader root = ConfigReader.of(file.toString(), "", raw.root());
        if (!root.contains(BLOCK)) {
            root.error(BLOCK, BLOCK_REQUIRED + (root.contains("server") || root.contains("agent")
                    ? " (this file has a server or agent block: is it the server's or the agent's configuration?)"
                    : ""));
        }
        // Without the block there is nothing to check field by field; read an empty one and drop its findings.
        ConfigReader block = root.section(BLOCK).orElseGet(() -> ConfigReader.of(file.toString(), BLOCK, Map.of()));

        String bindAddress = block.optionalString(BIND_ADDRESS, DEFAULT_BIND_ADDRESS);
        if (block.contains(BIND_ADDRESS) && !ServerSettings.isIpLiteral(bindAddress)) {
            block.error(BIND_ADDRESS, BIND_ADDRESS_NOT_IP);
        }
        int bindPort = block.optionalPort(BIND_PORT, DEFAULT_BIND_PORT);
        Optional<Path> dataDir = block.requirePath(DATA_DIR);
        Optional<String> issuer = block.requireString(ISSUER);
        issuer.ifPresent(value -> {
            if (value.length() > IidClaims.MAX_ISSUER_CHARS || hasControl(value)) {
                block.error(ISSUER, ISSUER_BOUNDS);
            }
        });
        List<String> audience = audience(block);
        Duration documentTtl = block.optionalDuration(DOCUMENT_TTL, DEFAULT_DOCUMENT_TTL);
        if (!validTtl(documentTtl)) {
            block.error(DOCUMENT_TTL, DOCUMENT_TTL_BOUNDS);
        }
        KeyType keyType = block.optionalChoice(KEY_TYPE, Arrays.asList(KeyType.values()), KeyType::configName,
                DEFAULT_KEY_TYPE, false);
        Duration keyLifetime = block.optionalDuration(KEY_LIFETIME, DEFAULT_KEY_LIFETIME);
        if (keyLifetime.compareTo(MIN_KEY_LIFETIME) < 0 || keyLifetime.compareTo(MAX_KEY_LIFETIME) > 0) {
            block.error(KEY_LIFETIME, KEY_LIFETIME_BOUNDS);
        }
        Optional<Path> tlsCertFile = block.requirePath(TLS_CERT_FILE);
        Optional<Path> tlsKeyFile = block.requirePath(TLS_KEY_FILE);
        Optional<Path> clientCaFile = block.optionalPath(CLIENT_CA_FILE);
        Optional<Path> authTokenFile = block.optionalPath(AUTH_TOKEN_FILE);
        if (!block.contains(CLIENT_CA_FILE) && !block.contains(AUTH_TOKEN_FILE) && root.contains(BLOCK)) {
            block.error(AUTH_TOKEN_FILE, AUTHENTICATION_REQUIRED);
        }
        LogLevel logLevel = block.optionalChoice(LOG_LEVEL, Arrays.asList(LogLevel.values()), LogLevel::name,
                LogLevel.INFO, true);
        block.rejectUnknownKeys();

        List<PluginConfig> plugins = PluginRules.read(root, PLUGIN_KINDS, "vendordata service");
        root.rejectUnknownKeys();

        List<ConfigError> errors = new ArrayList<>(root.errors());
        if (plugins.size() == 1 && dataDir.isPresent()) {
            errors.addAll(KeyManagers.validate(plugins.get(0), dataDir.get()));
        }
        if (!errors.isEmpty()) {
            return new ConfigResult.Invalid<>(errors);
        }
        return new ConfigResult.Valid<>(new VendordataSettings(bindAddress, bindPort, dataDir.orElseThrow(),
                issuer.orElseThrow(), audience, documentTtl, keyType, keyLifetime, tlsCertFile.orElseThrow(),
                tlsKeyFile.orElseThrow(), clientCaFile, authTokenFile, logLevel, plugins.get(0)), root.warnings());
    }

    private static List<String> audience(ConfigReader block) {
        if (!block.contains(AUDIENCE)) {
            block.error(AUDIENCE, BLOCK_REQUIRED);
            block.raw(AUDIENCE);
            return List.of();
        }
        int errorsBefore = block.errors().size();
        List<String> audience = block.optionalStringList(AUDIENCE);
        if (block.errors().size() > errorsBefore) {
            return audience;
        }
        if (audience.isEmpty()) {
            block.error(AUDIENCE, AUDIENCE_REQUIRED);
        } else if (audience.size() > IidClaims.MAX_AUDIENCES) {
            block.error(AUDIENCE, AUDIENCE_TOO_MANY);
        }
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < audience.size(); i++) {
            String value = audience.get(i);
            if (value.isEmpty() || value.length() > IidClaims.MAX_AUDIENCE_CHARS || hasControl(value)) {
                block.error(AUDIENCE + "[" + i + "]", AUDIENCE_BOUNDS);
            } else if (!seen.add(value)) {
                block.error(AUDIENCE + "[" + i + "]", AUDIENCE_DUPLICATE);
            }
        }
        return audience;
    }

    private static boolean validTtl(Duration ttl) {
        return ttl.getNano() == 0 && ttl.getSeconds() >= 1 && ttl.compareTo(MAX_DOCUMENT_TTL) <= 0;
    }

    private static boolean hasControl(String text) {
        return text.chars().anyMatch(Character::isISOControl);
    }
}
