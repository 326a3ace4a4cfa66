package dev.bourne.appliance.datastore;

import java.time.Duration;

/**
 * The sizes the datastore accepts, and the reasons it gives when input breaks them. Every bound keeps one request
 * from filling the database or a page of results from filling the heap; every reason is a constant so tests and
 * callers can match {@link InvalidArgumentException#reason()} exactly.
 */
public final class Limits {
    /** Longest entry ID; SPIRE's limit, so IDs chosen for SPIRE move over. */
    public static final int MAX_ENTRY_ID_LENGTH = 255;
    /** Longest SPIFFE ID, in UTF-8 bytes (SPIFFE-ID 2.3). */
    public static final int MAX_SPIFFE_ID_BYTES = 2048;
    public static final int MAX_SELECTORS = 128;
    public static final int MAX_DNS_NAMES = 64;
    /** Longest DNS name (RFC 1035 2.3.4). */
    public static final int MAX_DNS_NAME_LENGTH = 253;
    public static final int MAX_DNS_LABEL_LENGTH = 63;
    public static final int MAX_FEDERATES_WITH = 64;
    public static final int MAX_HINT_LENGTH = 1024;
    /** Longest SVID lifetime an entry may ask for; the CA still caps it at its own lifetime. */
    public static final Duration MAX_TTL = Duration.ofDays(3650);
    public static final int MAX_ATTESTATION_TYPE_LENGTH = 64;
    /** A certificate serial number is at most 20 octets (RFC 5280 4.1.2.2): at most 49 decimal digits. */
    public static final int MAX_SERIAL_NUMBER_LENGTH = 64;
    public static final int MAX_JOIN_TOKEN_LENGTH = 256;
    public static final int MAX_SERVER_ID_LENGTH = 255;
    public static final int MAX_JOURNAL_BYTES = 4 * 1024 * 1024;
    public static final int MAX_PAGE_SIZE = 1000;
    public static final int MAX_PAGE_TOKEN_LENGTH = 4096;
    public static final int MAX_EVENTS_PER_CALL = 10_000;

    public static final String REQUIRED = "is required";
    public static final String ENTRY_ID_INVALID = "must be 1 to " + MAX_ENTRY_ID_LENGTH
            + " characters of letters, digits, '-', '_', '.' and '~'";
    public static final String SPIFFE_ID_TOO_LONG = "is longer than " + MAX_SPIFFE_ID_BYTES + " bytes";
    public static final String SPIFFE_ID_NO_PATH = "must have a path: a trust domain ID cannot be a workload or node";
    public static final String SELECTORS_EMPTY = "at least one selector is required";
    public static final String TOO_MANY_SELECTORS = "more than " + MAX_SELECTORS + " selectors";
    public static final String TOO_MANY_DNS_NAMES = "more than " + MAX_DNS_NAMES + " DNS names";
    public static final String DNS_NAME_TOO_LONG = "is longer than " + MAX_DNS_NAME_LENGTH + " characters";
    public static final String DNS_NAME_INVALID = "must be a DNS name: labels of 1 to " + MAX_DNS_LABEL_LENGTH
            + " letters, digits and inner '-', separated by '.', optionally starting with \"*.\"";
    public static final String DNS_NAME_DUPLICATE = "is listed twice";
    public static final String TOO_MANY_FEDERATES_WITH = "more than " + MAX_FEDERATES_WITH + " trust domains";
    public static final String HINT_TOO_LONG = "is longer than " + MAX_HINT_LENGTH + " characters";
    public static final String CONTROL_CHARACTER = "cannot contain control characters";
    public static final String TTL_NEGATIVE = "cannot be negative";
    public static final String TTL_TOO_LONG = "is longer than " + MAX_TTL.toDays() + " days";
    public static final String TTL_SUBSECOND = "must be a whole number of seconds";
    public static final String ATTESTATION_TYPE_INVALID = "must be 1 to " + MAX_ATTESTATION_TYPE_LENGTH
            + " characters of lowercase letters, digits and '_'";
    public static final String SERIAL_NUMBER_INVALID = "must be 1 to " + MAX_SERIAL_NUMBER_LENGTH
            + " decimal digits";
    public static final String JOIN_TOKEN_INVALID = "must be 1 to " + MAX_JOIN_TOKEN_LENGTH
            + " printable ASCII characters";
    public static final String SERVER_ID_INVALID = "must be 1 to " + MAX_SERVER_ID_LENGTH
            + " printable ASCII characters";
    public static final String JOURNAL_TOO_LARGE = "is larger than " + MAX_JOURNAL_BYTES + " bytes";
    public static final String JOURNAL_VERSION_NEGATIVE = "cannot be negative";
    public static final String PAGE_SIZE_INVALID = "must be 0 (everything) to " + MAX_PAGE_SIZE;
    public static final String PAGE_TOKEN_INVALID = "is not a token returned by this datastore";
    public static final String EVENT_LIMIT_INVALID = "must be 1 to " + MAX_EVENTS_PER_CALL;
    public static final String EVENT_ID_NEGATIVE = "cannot be negative";
    public static final String MASK_EMPTY = "names no field to update";
    public static final String BUNDLE_INVALID = "is not a valid SPIFFE bundle";

    private Limits() {
    }

    /**
     * Whether {@code name} is a DNS name an entry may list: dot-separated labels of 1 to {@link #MAX_DNS_LABEL_LENGTH}
     * ASCII letters, digits and inner hyphens, optionally led by {@code *.} for a wildcard. The one syntax check the
     * datastore and the admin API share; the overall length ({@link #MAX_DNS_NAME_LENGTH}) is checked by the callers.
     */
    public static boolean isDnsName(String name) {
        String rest = name.startsWith("*.") ? name.substring(2) : name;
        if (rest.isEmpty()) {
            return false;
        }
        for (String label : rest.split("\\.", -1)) {
            if (label.isEmpty() || label.length() > MAX_DNS_LABEL_LENGTH || label.startsWith("-")
                    || label.endsWith("-")) {
                return false;
            }
            for (int i = 0; i < label.length(); i++) {
                char c = label.charAt(i);
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-')) {
                    return false;
                }
            }
        }
        return true;
    }
}
