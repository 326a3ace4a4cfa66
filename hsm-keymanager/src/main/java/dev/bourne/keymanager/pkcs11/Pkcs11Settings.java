package dev.bourne.keymanager.pkcs11;

import dev.bourne.core.config.ConfigReader;
import dev.bourne.core.config.ConfigResult;
import dev.bourne.core.config.PluginConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The validated {@code plugin_data} of {@code KeyManager "pkcs11"}. Holds where the PIN is, never the PIN itself.
 *
 * @param library absolute path of the vendor's PKCS#11 module
 * @param tokenLabel the label of the token holding this server's keys, resolved to a slot at connect time
 * @param pinSource where the user PIN is read from when connecting
 * @param keyIdentifier the value or the file naming this server's keys on a shared token
 * @param maxSessions how many signatures may run at once (and so how many PKCS#11 sessions signing uses)
 */
public record Pkcs11Settings(Path library, String tokenLabel, PinSource pinSource, KeyIdentifierSource keyIdentifier,
        int maxSessions) {

    public static final String LIBRARY = "library";
    public static final String TOKEN_LABEL = "token_label";
    public static final String PIN_FILE = "pin_file";
    public static final String PIN_ENV = "pin_env";
    public static final String KEY_IDENTIFIER_VALUE = "key_identifier_value";
    public static final String KEY_IDENTIFIER_FILE = "key_identifier_file";
    public static final String MAX_SESSIONS = "max_sessions";
    public static final int DEFAULT_MAX_SESSIONS = 8;
    public static final int MAX_MAX_SESSIONS = 1024;
    /** File name of the generated key identifier under {@code data_dir} when neither key_identifier option is set. */
    public static final String DEFAULT_KEY_IDENTIFIER_FILE = "pkcs11-key-identifier";

    public static final String INLINE_PIN = "is not allowed: a PIN in the configuration file ends up in backups and "
            + "config dumps; put it in a file readable only by the server (pin_file) or in an environment variable "
            + "(pin_env)";
    public static final String PIN_SOURCE_REQUIRED = "set exactly one of pin_file and pin_env";
    public static final String KEY_IDENTIFIER_BOTH = "set at most one of key_identifier_value and key_identifier_file";
    public static final String LIBRARY_NOT_ABSOLUTE = "must be an absolute path to the PKCS#11 module (.so)";
    public static final String LIBRARY_CHARACTERS = "may contain only letters, digits and / . _ + - (SunPKCS11's "
            + "configuration syntax)";
    public static final String TOKEN_LABEL_TOO_LONG = "is longer than the 32 characters a PKCS#11 token label has";
    public static final String KEY_IDENTIFIER_INVALID = "must be 1 to 64 letters, digits, '.', '_' or '-'";
    public static final String ENV_NAME_INVALID = "must be an environment variable name (letters, digits, '_')";

    /** Characters SunPKCS11's configuration parser reads as one word in an unquoted {@code library} value. */
    private static final Pattern LIBRARY_PATH = Pattern.compile("[A-Za-z0-9/._+-]+");
    private static final Pattern KEY_IDENTIFIER = Pattern.compile("[A-Za-z0-9._-]{1,64}");
    private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,127}");

    public Pkcs11Settings {
        Objects.requireNonNull(library, "library");
        Objects.requireNonNull(tokenLabel, "tokenLabel");
        Objects.requireNonNull(pinSource, "pinSource");
        Objects.requireNonNull(keyIdentifier, "keyIdentifier");
        if (maxSessions < 1 || maxSessions > MAX_MAX_SESSIONS) {
            throw new IllegalArgumentException("maxSessions must be between 1 and " + MAX_MAX_SESSIONS);
        }
    }

    /** Where the user PIN comes from. */
    public sealed interface PinSource permits PinFile, PinEnvironment {
    }

    /** A file holding the PIN alone (a trailing newline is ignored), mode 0600 or stricter. */
    public record PinFile(Path path) implements PinSource {
        public PinFile {
            Objects.requireNonNull(path, "path");
        }
    }

    /** An environment variable of the server process holding the PIN. */
    public record PinEnvironment(String variable) implements PinSource {
        public PinEnvironment {
            Objects.requireNonNull(variable, "variable");
        }
    }

    /** The name that sets this server's keys apart on a shared token. */
    public sealed interface KeyIdentifierSource permits KeyIdentifierValue, KeyIdentifierFile {
    }

    /** A name given in the configuration. */
    public record KeyIdentifierValue(String value) implements KeyIdentifierSource {
        public KeyIdentifierValue {
            if (value == null || !KEY_IDENTIFIER.matcher(value).matches()) {
                throw new IllegalArgumentException("key identifier " + KEY_IDENTIFIER_INVALID);
            }
        }
    }

    /** A file holding the name, created with a random UUID (mode 0600) when missing. */
    public record KeyIdentifierFile(Path path) implements KeyIdentifierSource {
        public KeyIdentifierFile {
            Objects.requireNonNull(path, "path");
        }
    }

    /** Whether {@code value} is a valid key identifier. */
    public static boolean isValidKeyIdentifier(String value) {
        return value != null && KEY_IDENTIFIER.matcher(value).matches();
    }

    /**
     * Validates the plugin data, reporting every error at once.
     *
     * @param dataDir the server's data directory: home of the generated key identifier file by default
     */
    public static ConfigResult<Pkcs11Settings> validate(PluginConfig plugin, Path dataDir) {
        ConfigReader data = plugin.pluginDataReader();
        Optional<Path> library = data.requirePath(LIBRARY);
        library.ifPresent(path -> {
            if (!path.isAbsolute()) {
                data.error(LIBRARY, LIBRARY_NOT_ABSOLUTE);
            } else if (!LIBRARY_PATH.matcher(path.toString()).matches()) {
                data.error(LIBRARY, LIBRARY_CHARACTERS);
            }
        });
        Optional<String> tokenLabel = data.requireString(TOKEN_LABEL);
        tokenLabel.ifPresent(label -> {
            if (label.length() > 32) {
                data.error(TOKEN_LABEL, TOKEN_LABEL_TOO_LONG);
            }
        });

        for (String inline : List.of("pin", "user_pin")) {
            data.raw(inline);
            if (data.contains(inline)) {
                data.error(inline, INLINE_PIN);
            }
        }
        Optional<Path> pinFile = data.optionalPath(PIN_FILE);
        Optional<String> pinEnv = data.optionalString(PIN_ENV);
        pinEnv.ifPresent(name -> {
            if (!ENV_NAME.matcher(name).matches()) {
                data.error(PIN_ENV, ENV_NAME_INVALID);
            }
        });
        boolean pinFileSet = data.contains(PIN_FILE);
        boolean pinEnvSet = data.contains(PIN_ENV);
        if (pinFileSet == pinEnvSet) {
            data.error("", PIN_SOURCE_REQUIRED);
        }

        Optional<String> identifierValue = data.optionalString(KEY_IDENTIFIER_VALUE);
        identifierValue.ifPresent(value -> {
            if (!KEY_IDENTIFIER.matcher(value).matches()) {
                data.error(KEY_IDENTIFIER_VALUE, KEY_IDENTIFIER_INVALID);
            }
        });
        Optional<Path> identifierFile = data.optionalPath(KEY_IDENTIFIER_FILE);
        if (data.contains(KEY_IDENTIFIER_VALUE) && data.contains(KEY_IDENTIFIER_FILE)) {
            data.error("", KEY_IDENTIFIER_BOTH);
        }
        int maxSessions = data.optionalInt(MAX_SESSIONS, DEFAULT_MAX_SESSIONS, 1, MAX_MAX_SESSIONS);
        data.rejectUnknownKeys();

        if (!data.errors().isEmpty()) {
            return new ConfigResult.Invalid<>(data.errors());
        }
        PinSource pin = pinFile.<PinSource>map(PinFile::new).orElseGet(() -> new PinEnvironment(pinEnv.orElseThrow()));
        KeyIdentifierSource identifier = identifierValue.<KeyIdentifierSource>map(KeyIdentifierValue::new)
                .orElseGet(() -> new KeyIdentifierFile(identifierFile
                        .orElseGet(() -> dataDir.resolve(DEFAULT_KEY_IDENTIFIER_FILE))));
        return new ConfigResult.Valid<>(new Pkcs11Settings(library.orElseThrow(), tokenLabel.orElseThrow(), pin,
                identifier, maxSessions), data.warnings());
    }
}
