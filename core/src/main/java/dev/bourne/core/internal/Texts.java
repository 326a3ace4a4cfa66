package dev.bourne.core.internal;

/**
 * Text helpers for error messages that quote untrusted input, and the JSON string writer of the JSON that Bourne
 * writes by hand. Not an API: may change without notice.
 */
public final class Texts {
    /** Input longer than this is cut in error messages: a hostile 1 MB value must not become a 1 MB log line. */
    public static final int MAX_QUOTED_CHARS = 128;

    private Texts() {
    }

    /**
     * The input double-quoted, with quotes, backslashes and control characters escaped and its length bounded, so
     * it can be put in a log line or an error sent to a caller without forging lines or flooding the log.
     */
    public static String quote(String input) {
        if (input == null) {
            return "null";
        }
        int limit = Math.min(input.length(), MAX_QUOTED_CHARS);
        StringBuilder out = new StringBuilder(limit + 24).append('"');
        for (int i = 0; i < limit; i++) {
            char c = input.charAt(i);
            if (c == '"' || c == '\\') {
                out.append('\\').append(c);
            } else if (Character.isISOControl(c)) {
                out.append(String.format("\\u%04x", (int) c));
            } else {
                out.append(c);
            }
        }
        out.append('"');
        if (input.length() > limit) {
            out.append("... (").append(input.length()).append(" chars)");
        }
        return out.toString();
    }

    /**
     * Appends {@code value} as a JSON string (RFC 8259 section 7): quotes, backslashes, control characters, DEL and
     * the line and paragraph separators escaped, anything else as it is; {@code null} as the JSON literal null.
     */
    public static void appendJsonString(StringBuilder out, String value) {
        if (value == null) {
            out.append("null");
            return;
        }
        out.append('"');
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    if (c < 0x20 || c == 0x7f || c == '\u2028' || c == '\u2029') {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }

    /** {@code value} as a JSON string: see {@link #appendJsonString}. */
    public static String jsonString(String value) {
        StringBuilder out = new StringBuilder(value == null ? 4 : value.length() + 2);
        appendJsonString(out, value);
        return out.toString();
    }
}
