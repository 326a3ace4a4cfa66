package dev.bourne.core.config.internal;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Describes, copies and redacts the values hcl4j produces: String, Double, Boolean, List, Map or null. */
public final class Values {

    /** What a redacted value prints as. */
    public static final String REDACTED = "[redacted]";

    /** Longest string quoted in an error message before it is cut. */
    static final int MAX_QUOTED = 64;

    /**
     * Key fragments that mark a value as secret. {@code connection_string} is there because PostgreSQL connection
     * strings carry passwords ({@code postgres://user:password@host/db}).
     */
    private static final List<String> SECRET_FRAGMENTS = List.of("pin", "password", "secret", "token",
            "connection_string");

    private Values() {
    }

    /** True when the value under {@code key} must never be printed (PINs, passwords, secrets, tokens). */
    public static boolean isSecretKey(String key) {
        String lower = key.toLowerCase(Locale.ROOT);
        for (String fragment : SECRET_FRAGMENTS) {
            if (lower.contains(fragment)) {
                return true;
            }
        }
        return false;
    }

    /** Describes a value for an error message: {@code string "abc"}, {@code number 8081}, {@code block}. */
    public static String describe(Object value, boolean secret) {
        if (value == null) {
            return "null";
        }
        if (value instanceof String s) {
            return "string " + (secret ? REDACTED : quote(s));
        }
        if (value instanceof Double d) {
            return "number " + (secret ? REDACTED : formatNumber(d));
        }
        if (value instanceof Boolean b) {
            return "bool " + (secret ? REDACTED : b);
        }
        if (value instanceof List<?>) {
            return "list";
        }
        if (value instanceof Map<?, ?>) {
            return "block";
        }
        // hcl4j leaves unquoted words (example.org, sqlite3) as variable references it could not resolve.
        return "unquoted expression " + (secret ? REDACTED : quote(String.valueOf(value))) + " (quote strings)";
    }

    /** Quotes {@code text} with escapes for quotes and control characters, cut after {@value #MAX_QUOTED} chars. */
    public static String quote(String text) {
        StringBuilder out = new StringBuilder("\"");
        int limit = Math.min(text.length(), MAX_QUOTED);
        for (int i = 0; i < limit; i++) {
            char c = text.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\t' -> out.append("\\t");
                case '\r' -> out.append("\\r");
                default -> {
                    if (Character.isISOControl(c)) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        if (text.length() > MAX_QUOTED) {
            out.append("...");
        }
        return out.append('"').toString();
    }

    /** A key as written in the file, with control characters escaped so that each error stays on one line. */
    public static String printableKey(String key) {
        StringBuilder out = new StringBuilder(key.length());
        for (int i = 0; i < key.length(); i++) {
            char c = key.charAt(i);
            out.append(Character.isISOControl(c) ? String.format("\\u%04x", (int) c) : String.valueOf(c));
        }
        return out.toString();
    }

    /** Prints whole numbers without hcl4j's ".0": {@code 8081}, not {@code 8081.0}. */
    public static String formatNumber(double d) {
        if (d == Math.rint(d) && Math.abs(d) < 1e15) {
            return Long.toString((long) d);
        }
        return Double.toString(d);
    }

    /** Deep, unmodifiable, order-preserving copy of a parsed value (nulls kept: HCL's {@code null} parses to one). */
    public static Object immutableCopy(Object value) {
        if (value instanceof Map<?, ?> map) {
            Map<String, Object> copy = new LinkedHashMap<>();
            map.forEach((k, v) -> copy.put(String.valueOf(k), immutableCopy(v)));
            return Collections.unmodifiableMap(copy);
        }
        if (value instanceof List<?> list) {
            List<Object> copy = new ArrayList<>(list.size());
            list.forEach(v -> copy.add(immutableCopy(v)));
            return Collections.unmodifiableList(copy);
        }
        if (value == null || value instanceof String || value instanceof Double || value instanceof Boolean) {
            return value;
        }
        // Unresolved expressions are kept as their text so the typed reader can report them.
        return new UnquotedExpression(String.valueOf(value));
    }

    /** Renders a map for {@code toString}, replacing every value under a secret key by {@value #REDACTED}. */
    public static String redactedToString(Map<String, ?> map) {
        StringBuilder out = new StringBuilder("{");
        boolean first = true;
        for (Map.Entry<String, ?> e : map.entrySet()) {
            if (!first) {
                out.append(", ");
            }
            first = false;
            out.append(e.getKey()).append('=');
            out.append(isSecretKey(e.getKey()) ? REDACTED : redactedValue(e.getValue()));
        }
        return out.append('}').toString();
    }

    private static String redactedValue(Object value) {
        if (value instanceof Map<?, ?> map) {
            Map<String, Object> typed = new LinkedHashMap<>();
            map.forEach((k, v) -> typed.put(String.valueOf(k), v));
            return redactedToString(typed);
        }
        if (value instanceof List<?> list) {
            List<String> items = new ArrayList<>();
            list.forEach(v -> items.add(redactedValue(v)));
            return items.toString();
        }
        if (value instanceof String s) {
            return quote(s);
        }
        if (value instanceof Double d) {
            return formatNumber(d);
        }
        return String.valueOf(value);
    }

    /** An unquoted word hcl4j could not resolve, such as {@code trust_domain = example.org}. */
    public record UnquotedExpression(String text) {
        @Override
        public String toString() {
            return text;
        }
    }
}
