package dev.bourne.bench;

/** What every suite's runner does with its command-line arguments: each mistake named, in printable text. */
public final class BenchArguments {
    /** Appended to a flag given without its value. */
    public static final String NEEDS_VALUE = " needs a value";

    private BenchArguments() {
    }

    /** {@code args[i]}, the value of {@code flag}; refused when missing or when it is the next flag. */
    public static String value(String[] args, int i, String flag) {
        if (i >= args.length || args[i].startsWith("--")) {
            throw new IllegalArgumentException(flag + NEEDS_VALUE);
        }
        return args[i];
    }

    /** {@code text} as a whole number in {@code min..max}, or an error naming {@code flag}. */
    public static int number(String text, String flag, int min, int max) {
        int value;
        try {
            value = Integer.parseInt(text.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(flag + " takes a whole number, got '" + printable(text) + "'");
        }
        if (value < min || value > max) {
            throw new IllegalArgumentException(flag + " must be " + min + ".." + max + ", got " + value);
        }
        return value;
    }

    /** A user's text for an error message: at most 64 characters, anything unprintable as '?'. */
    public static String printable(String text) {
        String clipped = text.length() > 64 ? text.substring(0, 64) + "..." : text;
        return clipped.replaceAll("[^\\x20-\\x7e]", "?");
    }
}
