package dev.bourne.core.config;

import dev.bourne.core.config.internal.GoDuration;
import dev.bourne.core.config.internal.Suggestions;
import dev.bourne.core.config.internal.Values;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Typed access to one block of a parsed configuration that records problems instead of throwing, so that one pass
 * reports every error in a file. Each getter returns the default (or an empty value) when the key is missing or
 * wrong, after recording why; callers build settings only when {@link #errors()} is empty. Every key a getter asks
 * for becomes known, and {@link #rejectUnknownKeys()} reports the rest, with a "did you mean" hint.
 *
 * <p>Readers made by {@link #section} share their parent's error list. Values under keys that look secret (see
 * {@link #isSecretKey}) are never quoted in errors.
 */
public final class ConfigReader {

    private static final Pattern INTEGER = Pattern.compile("-?[0-9]{1,18}");

    private final String file;
    private final String path;
    private final Map<String, Object> map;
    private final Findings findings;
    private final Set<String> known = new LinkedHashSet<>();

    private ConfigReader(String file, String path, Map<String, Object> map, Findings findings) {
        this.file = file;
        this.path = path;
        this.map = map;
        this.findings = findings;
    }

    /**
     * A reader over {@code map}, the block at dotted {@code path} ("" for the whole file) of the file named {@code file},
     * with an error list of its own.
     */
    public static ConfigReader of(String file, String path, Map<String, ?> map) {
        Map<String, Object> copy = new LinkedHashMap<>();
        map.forEach(copy::put);
        return new ConfigReader(file, path, Collections.unmodifiableMap(copy), new Findings());
    }

    /**
     * True when the value under {@code key} must never be printed: its name contains pin, password, secret or token,
     * or it is a {@code connection_string} (PostgreSQL URLs carry passwords).
     */
    public static boolean isSecretKey(String key) {
        return Values.isSecretKey(key);
    }

    public String file() {
        return file;
    }

    /** This block's dotted path, such as {@code server} or {@code plugins.DataStore.sql.plugin_data}. */
    public String path() {
        return path;
    }

    /** The dotted path of {@code key} in this block. */
    public String keyPath(String key) {
        return path.isEmpty() ? key : path + "." + key;
    }

    /** Keys present in this block, in file order. */
    public Set<String> keys() {
        return map.keySet();
    }

    /** This block's raw values, unmodifiable, in file order; marks nothing known. */
    public Map<String, Object> values() {
        return map;
    }

    /** True when {@code key} is present; does not make it known. */
    public boolean contains(String key) {
        return map.containsKey(key);
    }

    /** The raw value of {@code key}, marking it known. */
    public Optional<Object> raw(String key) {
        known.add(key);
        return Optional.ofNullable(map.get(key));
    }

    /** Records an error at {@code key} of this block ("" for the block itself). */
    public void error(String key, String reason) {
        findings.errors.add(new ConfigError(file, Values.printableKey(key.isEmpty() ? path : keyPath(key)), reason));
    }

    /** Records a warning at {@code key} of this block. */
    public void warning(String key, String reason) {
        findings.warnings.add(new ConfigError(file, Values.printableKey(key.isEmpty() ? path : keyPath(key)), reason));
    }

    /** Errors recorded so far by this reader and every reader sharing its list. */
    public List<ConfigError> errors() {
        return List.copyOf(findings.errors);
    }

    public List<ConfigError> warnings() {
        return List.copyOf(findings.warnings);
    }

    /** The nested block {@code key}, if present and a single block; otherwise records why not. */
    public Optional<ConfigReader> section(String key) {
        known.add(key);
        if (!map.containsKey(key)) {
            return Optional.empty();
        }
        Object value = map.get(key);
        if (value instanceof Map<?, ?> block) {
            return Optional.of(child(key, block));
        }
        if (value instanceof List<?> list && !list.isEmpty() && list.stream().allMatch(Map.class::isInstance)) {
            error(key, "is declared " + list.size() + " times; write it once");
        } else {
            error(key, "expected a block, got " + describe(key, value));
        }
        return Optional.empty();
    }

    /** A reader over {@code block}, found at {@code key} of this one, sharing this reader's error list. */
    public ConfigReader child(String key, Map<?, ?> block) {
        Map<String, Object> copy = new LinkedHashMap<>();
        block.forEach((k, v) -> copy.put(String.valueOf(k), v));
        return new ConfigReader(file, keyPath(key), Collections.unmodifiableMap(copy), findings);
    }

    /** A non-empty string that must be present. */
    public Optional<String> requireString(String key) {
        if (!map.containsKey(key)) {
            known.add(key);
            error(key, "is required");
            return Optional.empty();
        }
        return optionalString(key);
    }

    /** A non-empty string, if present. */
    public Optional<String> optionalString(String key) {
        Optional<Object> value = raw(key);
        if (!map.containsKey(key)) {
            return Optional.empty();
        }
        if (!(value.orElse(null) instanceof String s)) {
            error(key, "expected a string, got " + describe(key, value.orElse(null)));
            return Optional.empty();
        }
        if (s.isEmpty()) {
            error(key, "must not be empty");
            return Optional.empty();
        }
        return Optional.of(s);
    }

    /** A string, or {@code fallback} when absent or wrong. */
    public String optionalString(String key, String fallback) {
        return optionalString(key).orElse(fallback);
    }

    /** A secret string (never printed), if present. */
    public Optional<ConfigSecret> optionalSecret(String key) {
        return optionalString(key).map(ConfigSecret::new);
    }

    /**
     * A Go-style duration string ({@code 1h30m}, {@code 500ms}) that must be positive. Numbers are rejected, as in
     * SPIRE: a bare 3600 could mean seconds or nanoseconds.
     */
    public Duration optionalDuration(String key, Duration fallback) {
        Optional<Object> value = raw(key);
        if (!map.containsKey(key)) {
            return fallback;
        }
        if (!(value.orElse(null) instanceof String s)) {
            error(key, "expected a duration string such as \"1h30m\", got " + describe(key, value.orElse(null)));
            return fallback;
        }
        if (s.isEmpty()) {
            error(key, "must not be empty");
            return fallback;
        }
        Duration parsed;
        try {
            parsed = GoDuration.parse(s);
        } catch (IllegalArgumentException e) {
            // The reason can quote part of the value (an unknown unit), so secrets get no reason.
            error(key, isSecretKey(key) ? "invalid duration " + Values.REDACTED
                    : "invalid duration " + quote(key, s) + ": " + e.getMessage());
            return fallback;
        }
        if (parsed.isNegative() || parsed.isZero()) {
            error(key, "must be positive, got " + quote(key, s));
            return fallback;
        }
        return parsed;
    }

    /**
     * A whole number in {@code [min, max]}. A quoted decimal ({@code "8081"}) is accepted too, because SPIRE's own
     * sample configurations quote ports and HCL1 converts them.
     */
    public int optionalInt(String key, int fallback, int min, int max) {
        Optional<Object> value = raw(key);
        if (!map.containsKey(key)) {
            return fallback;
        }
        Object v = value.orElse(null);
        long number;
        if (v instanceof Double d) {
            if (d != Math.rint(d) || Double.isInfinite(d)) {
                error(key, "expected a whole number, got " + describe(key, v));
                return fallback;
            }
            number = d < Long.MIN_VALUE || d > Long.MAX_VALUE ? (d < 0 ? Long.MIN_VALUE : Long.MAX_VALUE) : d.longValue();
        } else if (v instanceof String s && INTEGER.matcher(s).matches()) {
            number = Long.parseLong(s);
        } else {
            error(key, "expected a number, got " + describe(key, v));
            return fallback;
        }
        if (number < min || number > max) {
            error(key, "must be between " + min + " and " + max + ", got " + (isSecretKey(key) ? Values.REDACTED
                    : Long.toString(number)));
            return fallback;
        }
        return (int) number;
    }

    /** A TCP port, 1 to 65535. */
    public int optionalPort(String key, int fallback) {
        return optionalInt(key, fallback, 1, 65535);
    }

    /** {@code true} or {@code false} (quoted forms accepted, as HCL1 does). */
    public boolean optionalBool(String key, boolean fallback) {
        Optional<Object> value = raw(key);
        if (!map.containsKey(key)) {
            return fallback;
        }
        Object v = value.orElse(null);
        if (v instanceof Boolean b) {
            return b;
        }
        if ("true".equals(v) || "false".equals(v)) {
            return Boolean.parseBoolean((String) v);
        }
        error(key, "expected true or false, got " + describe(key, v));
        return fallback;
    }

    /** A file system path, if present; relative paths stay relative (to the working directory, as in SPIRE). */
    public Optional<Path> optionalPath(String key) {
        Optional<String> text = optionalString(key);
        if (text.isEmpty()) {
            return Optional.empty();
        }
        try {
            return Optional.of(Path.of(text.get()));
        } catch (InvalidPathException e) {
            error(key, "is not a valid path: " + e.getReason());
            return Optional.empty();
        }
    }

    /** A file system path that must be present. */
    public Optional<Path> requirePath(String key) {
        if (!map.containsKey(key)) {
            known.add(key);
            error(key, "is required");
            return Optional.empty();
        }
        return optionalPath(key);
    }

    /** A list of strings, empty when absent; each wrong element is reported at {@code key[i]}. */
    public List<String> optionalStringList(String key) {
        Optional<Object> value = raw(key);
        if (!map.containsKey(key)) {
            return List.of();
        }
        if (!(value.orElse(null) instanceof List<?> list)) {
            error(key, "expected a list of strings, got " + describe(key, value.orElse(null)));
            return List.of();
        }
        List<String> out = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            if (list.get(i) instanceof String s) {
                out.add(s);
            } else {
                error(key + "[" + i + "]", "expected a string, got " + describe(key, list.get(i)));
            }
        }
        return List.copyOf(out);
    }

    /**
     * One of a closed set of names, such as {@code KeyType}'s config names.
     *
     * @param names the name each choice is written as in a file
     * @param ignoreCase whether {@code INFO} and {@code info} are the same (true for log levels, as in SPIRE)
     */
    public <T> T optionalChoice(String key, List<T> choices, Function<T, String> names, T fallback,
            boolean ignoreCase) {
        Optional<String> text = optionalString(key);
        if (text.isEmpty()) {
            return fallback;
        }
        for (T choice : choices) {
            String name = names.apply(choice);
            if (ignoreCase ? name.equalsIgnoreCase(text.get()) : name.equals(text.get())) {
                return choice;
            }
        }
        error(key, "must be one of " + choices.stream().map(names).collect(Collectors.joining(", ")) + ", got "
                + describe(key, text.get()));
        return fallback;
    }

    /** Records an error for every key of this block that no getter asked for. */
    public void rejectUnknownKeys() {
        for (String key : map.keySet()) {
            if (!known.contains(key)) {
                String hint = Suggestions.closest(key, known).map(s -> " (did you mean \"" + s + "\"?)").orElse("");
                error(key, "unknown key" + hint);
            }
        }
    }

    private static String describe(String key, Object value) {
        return Values.describe(value, isSecretKey(key));
    }

    private static String quote(String key, String value) {
        return isSecretKey(key) ? Values.REDACTED : Values.quote(value);
    }

    /** Errors and warnings shared by a reader and its sections. */
    private static final class Findings {
        final List<ConfigError> errors = new ArrayList<>();
        final List<ConfigError> warnings = new ArrayList<>();
    }

    @Override
    public String toString() {
        return "ConfigReader[" + file + ": " + (path.isEmpty() ? "(top level)" : path) + ", keys="
                + map.keySet() + "]";
    }
}
