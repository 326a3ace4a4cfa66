package dev.bourne.keymanager.internal;

import java.util.regex.Pattern;

/** Key identifiers as callers choose them ({@code x509-CA-A}); restricted so they are safe as labels and file names. */
public final class KeyIds {
    private static final Pattern VALID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

    private KeyIds() {
    }

    /** Rejects ids that are empty, longer than 64 characters, or contain anything but letters, digits, . _ and -. */
    public static String check(String id) {
        if (id == null || !VALID.matcher(id).matches()) {
            throw new IllegalArgumentException("invalid key id " + (id == null ? "null" : "\"" + id.replaceAll(
                    "[^\\x20-\\x7e]", "?") + "\"") + ": 1 to 64 letters, digits, '.', '_' or '-', starting with a"
                    + " letter or digit");
        }
        return id;
    }
}
