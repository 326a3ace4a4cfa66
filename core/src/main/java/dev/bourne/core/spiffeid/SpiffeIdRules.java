package dev.bourne.core.spiffeid;

import java.nio.charset.StandardCharsets;

/**
 * The rules of the SPIFFE ID specification (section 2, "SPIFFE Identity"), and the reasons given when input breaks
 * them.
 *
 * <p>The checks are written against the specification rather than {@link java.net.URI}: {@code URI} accepts ports,
 * userinfo, percent-encoding, queries and fragments, and normalises case, all of which a SPIFFE ID must reject as
 * they are written. Every reason is a constant so tests can assert it exactly.
 *
 * @see <a href="https://github.com/spiffe/spiffe/blob/main/standards/SPIFFE-ID.md">SPIFFE-ID.md</a>
 */
public final class SpiffeIdRules {
    /** The scheme prefix, lowercase, as the specification requires. */
    public static final String SCHEME_PREFIX = "spiffe://";
    /** Maximum length of a whole SPIFFE ID in bytes (SPIFFE-ID 2.3). */
    public static final int MAX_ID_BYTES = 2048;
    /** Maximum length of a trust domain name in bytes (SPIFFE-ID 2.1). */
    public static final int MAX_TRUST_DOMAIN_BYTES = 255;

    public static final String EMPTY = "cannot be empty";
    public static final String ID_TOO_LONG = "SPIFFE ID is longer than " + MAX_ID_BYTES + " bytes";
    public static final String WRONG_SCHEME = "scheme is missing or invalid: a SPIFFE ID starts with \"spiffe://\"";
    public static final String SCHEME_NOT_LOWERCASE = "scheme must be lowercase \"spiffe\"";
    public static final String MISSING_TRUST_DOMAIN = "trust domain is missing";
    public static final String TRUST_DOMAIN_TOO_LONG =
            "trust domain is longer than " + MAX_TRUST_DOMAIN_BYTES + " bytes";
    public static final String TRUST_DOMAIN_UPPERCASE = "trust domain must be lowercase";
    public static final String TRUST_DOMAIN_PORT = "trust domain must not contain a port";
    public static final String TRUST_DOMAIN_USERINFO = "trust domain must not contain userinfo";
    public static final String TRUST_DOMAIN_BAD_CHAR =
            "trust domain characters are limited to lowercase letters, numbers, dots, dashes, and underscores";
    public static final String TRUST_DOMAIN_HAS_PATH = "a trust domain has no path";
    public static final String PERCENT_ENCODED = "percent-encoding is not allowed";
    public static final String QUERY = "a SPIFFE ID must not contain a query";
    public static final String FRAGMENT = "a SPIFFE ID must not contain a fragment";
    public static final String PATH_BAD_CHAR =
            "path segment characters are limited to letters, numbers, dots, dashes, and underscores";
    public static final String PATH_DOT_SEGMENT = "path cannot contain dot segments";
    public static final String PATH_EMPTY_SEGMENT = "path cannot contain empty segments";
    public static final String PATH_TRAILING_SLASH = "path cannot have a trailing slash";
    public static final String PATH_NO_LEADING_SLASH = "path must have a leading slash";
    public static final String SEGMENT_EMPTY = "path segment cannot be empty";
    public static final String SEGMENT_DOT = "path segment cannot be \".\" or \"..\"";
    public static final String SEGMENT_SLASH = "path segment cannot contain \"/\"";

    private SpiffeIdRules() {
    }

    /**
     * Returns why {@code name} is not a valid trust domain name, or {@code null} when it is valid. The name is the
     * authority part only: no scheme and no path.
     */
    static String trustDomainProblem(String name) {
        if (name.isEmpty()) {
            return MISSING_TRUST_DOMAIN;
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (isTrustDomainChar(c)) {
                continue;
            }
            if (c >= 'A' && c <= 'Z') {
                return TRUST_DOMAIN_UPPERCASE;
            }
            switch (c) {
                case ':':
                    return TRUST_DOMAIN_PORT;
                case '@':
                    return TRUST_DOMAIN_USERINFO;
                case '%':
                    return PERCENT_ENCODED;
                case '?':
                    return QUERY;
                case '#':
                    return FRAGMENT;
                case '/':
                    return TRUST_DOMAIN_HAS_PATH;
                default:
                    return TRUST_DOMAIN_BAD_CHAR;
            }
        }
        // Every accepted character is ASCII, so the length in chars is the length in bytes.
        if (name.length() > MAX_TRUST_DOMAIN_BYTES) {
            return TRUST_DOMAIN_TOO_LONG;
        }
        return null;
    }

    /**
     * Returns why {@code path} is not a valid SPIFFE ID path, or {@code null} when it is valid. The empty path is valid
     * (it names the trust domain itself); any other path starts with {@code /}.
     */
    static String pathProblem(String path) {
        if (path.isEmpty()) {
            return null;
        }
        if (path.charAt(0) != '/') {
            return PATH_NO_LEADING_SLASH;
        }
        int segmentStart = 1;
        for (int i = 1; i <= path.length(); i++) {
            if (i == path.length() || path.charAt(i) == '/') {
                String problem = segmentProblem(path, segmentStart, i, i == path.length());
                if (problem != null) {
                    return problem;
                }
                segmentStart = i + 1;
                continue;
            }
            char c = path.charAt(i);
            if (!isPathChar(c)) {
                switch (c) {
                    case '%':
                        return PERCENT_ENCODED;
                    case '?':
                        return QUERY;
                    case '#':
                        return FRAGMENT;
                    default:
                        return PATH_BAD_CHAR;
                }
            }
        }
        return null;
    }

    /** Returns why a single segment given on its own (not a path) is invalid, or {@code null}. */
    static String standaloneSegmentProblem(String segment) {
        if (segment.isEmpty()) {
            return SEGMENT_EMPTY;
        }
        if (segment.equals(".") || segment.equals("..")) {
            return SEGMENT_DOT;
        }
        for (int i = 0; i < segment.length(); i++) {
            char c = segment.charAt(i);
            if (c == '/') {
                return SEGMENT_SLASH;
            }
            if (!isPathChar(c)) {
                return c == '%' ? PERCENT_ENCODED : PATH_BAD_CHAR;
            }
        }
        return null;
    }

    private static String segmentProblem(String path, int start, int end, boolean last) {
        int length = end - start;
        if (length == 0) {
            return last ? PATH_TRAILING_SLASH : PATH_EMPTY_SEGMENT;
        }
        if (length == 1 && path.charAt(start) == '.') {
            return PATH_DOT_SEGMENT;
        }
        if (length == 2 && path.charAt(start) == '.' && path.charAt(start + 1) == '.') {
            return PATH_DOT_SEGMENT;
        }
        return null;
    }

    static boolean isTrustDomainChar(char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
    }

    static boolean isPathChar(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                || c == '.' || c == '-' || c == '_';
    }

    static int utf8Length(String s) {
        // Counting without encoding would be faster, but IDs are short and this runs once per parse.
        return s.getBytes(StandardCharsets.UTF_8).length;
    }
}
