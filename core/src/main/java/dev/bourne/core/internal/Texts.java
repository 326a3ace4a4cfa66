package dev.bourne.core.internal;

/** Text helpers for error messages that quote untrusted input. Not an API: may change without notice. */
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
}
