package dev.bourne.core.selector;

import java.util.Objects;

/**
 * A selector: a fact about a node or workload, {@code type:value}, such as {@code unix:uid:1000} or
 * {@code tpm:pcr_policy:prod}.
 *
 * <p>The type is the name of the attestor plugin that produced the value. Plugins return values only and the catalog
 * stamps the type (see {@link #stamped}), so no plugin can forge another plugin's selectors. The value may contain
 * colons ({@code tpm:label:rack:r12} has type {@code tpm} and value {@code label:rack:r12}).
 *
 * @param type the plugin name: lowercase letters, digits and {@code _}, at most {@value #MAX_TYPE_LENGTH} chars
 * @param value the fact: printable, no control characters, at most {@value #MAX_VALUE_LENGTH} chars
 */
public record Selector(String type, String value) implements Comparable<Selector> {
    public static final int MAX_TYPE_LENGTH = 64;
    /** Long enough for a file path (PATH_MAX is 4096) plus a prefix such as {@code path:}. */
    public static final int MAX_VALUE_LENGTH = 4200;

    public static final String EMPTY = "selector cannot be empty";
    public static final String MISSING_SEPARATOR = "selector must be written type:value";
    public static final String EMPTY_TYPE = "selector type cannot be empty";
    public static final String TYPE_TOO_LONG = "selector type is longer than " + MAX_TYPE_LENGTH + " characters";
    public static final String TYPE_BAD_CHAR =
            "selector type characters are limited to lowercase letters, numbers, and underscores";
    public static final String EMPTY_VALUE = "selector value cannot be empty";
    public static final String VALUE_TOO_LONG = "selector value is longer than " + MAX_VALUE_LENGTH + " characters";
    public static final String VALUE_CONTROL_CHAR = "selector value cannot contain control characters";

    public Selector {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(value, "value");
        String problem = typeProblem(type);
        if (problem == null) {
            problem = valueProblem(value);
        }
        if (problem != null) {
            throw new InvalidSelectorException(type + ":" + value, problem);
        }
    }

    /** Parses {@code type:value}, splitting at the first colon. */
    public static Selector parse(String selector) {
        if (selector == null || selector.isEmpty()) {
            throw new InvalidSelectorException(selector, EMPTY);
        }
        int colon = selector.indexOf(':');
        if (colon < 0) {
            throw new InvalidSelectorException(selector, MISSING_SEPARATOR);
        }
        return new Selector(selector.substring(0, colon), selector.substring(colon + 1));
    }

    /** The selector a plugin named {@code pluginName} produced with {@code value}; used only by plugin catalogs. */
    public static Selector stamped(String pluginName, String value) {
        return new Selector(pluginName, value);
    }

    private static String typeProblem(String type) {
        if (type.isEmpty()) {
            return EMPTY_TYPE;
        }
        if (type.length() > MAX_TYPE_LENGTH) {
            return TYPE_TOO_LONG;
        }
        for (int i = 0; i < type.length(); i++) {
            char c = type.charAt(i);
            if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
                return TYPE_BAD_CHAR;
            }
        }
        return null;
    }

    private static String valueProblem(String value) {
        if (value.isEmpty()) {
            return EMPTY_VALUE;
        }
        if (value.length() > MAX_VALUE_LENGTH) {
            return VALUE_TOO_LONG;
        }
        for (int i = 0; i < value.length(); i++) {
            if (Character.isISOControl(value.charAt(i))) {
                // Newlines and escapes in a selector would forge lines in logs and CLI output.
                return VALUE_CONTROL_CHAR;
            }
        }
        return null;
    }

    @Override
    public int compareTo(Selector other) {
        int byType = type.compareTo(other.type);
        return byType != 0 ? byType : value.compareTo(other.value);
    }

    @Override
    public String toString() {
        return type + ":" + value;
    }
}
