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
    /** The most labels one TPM enrolment carries; each becomes a {@code tpm:label:<k>:<v>} selector. */
    public static final int MAX_TPM_LABELS = 32;
    public static final int MAX_TPM_LABEL_KEY_LENGTH = 64;
    public static final int MAX_TPM_LABEL_VALUE_LENGTH = 256;
    public static final int MAX_PCR_POLICY_NAME_LENGTH = 64;
    /** An EK certificate is at most 16 KiB of DER (real ones are 1 to 2 KiB); its PEM form is at most this long. */
    public static final int MAX_EK_CERTIFICATE_PEM_LENGTH = 24 * 1024;
    /** A TPMT_PUBLIC of the largest key a TPM makes (RSA 16384 would be about 2.1 KiB) fits, with room to spare. */
    public static final int MAX_AK_PUBLIC_BYTES = 4096;
    /** A TPM name: a 2-byte hash algorithm then its digest (SHA-1 to SHA-512): 22 to 66 bytes. */
    public static final int MIN_AK_NAME_BYTES = 22;
    public static final int MAX_AK_NAME_BYTES = 66;
    /** Longest IID issuer and jti stored: the bounds {@code IidClaims} enforces on the claims. */
    public static final int MAX_IID_ISSUER_LENGTH = 256;
    public static final int MAX_IID_JTI_LENGTH = 128;

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
    public static final String BUNDLE_TRUST_DOMAIN_MISMATCH = "is the bundle of another trust domain";
    public static final String TOO_MANY_TPM_LABELS = "more than " + MAX_TPM_LABELS + " labels";
    public static final String TPM_LABEL_KEY_INVALID = "label keys must be 1 to " + MAX_TPM_LABEL_KEY_LENGTH
            + " characters of lowercase letters, digits, '_', '.' and '-'";
    public static final String TPM_LABEL_VALUE_INVALID = "must be 1 to " + MAX_TPM_LABEL_VALUE_LENGTH
            + " characters without control characters";
    public static final String PCR_POLICY_NAME_INVALID = "must be 1 to " + MAX_PCR_POLICY_NAME_LENGTH
            + " letters, digits, '.', '_' or '-', starting with a letter or digit";
    public static final String EK_CERTIFICATE_PEM_INVALID = "must be one PEM CERTIFICATE block of at most "
            + MAX_EK_CERTIFICATE_PEM_LENGTH + " characters";
    public static final String AK_PUBLIC_INVALID = "must be 1 to " + MAX_AK_PUBLIC_BYTES + " bytes";
    public static final String IID_ISSUER_INVALID = "must be 1 to " + MAX_IID_ISSUER_LENGTH
            + " characters without control characters";
    public static final String IID_JTI_INVALID = "must be 1 to " + MAX_IID_JTI_LENGTH
            + " characters without control characters";
    public static final String AK_NAME_INVALID = "must be a TPM name of " + MIN_AK_NAME_BYTES + " to "
            + MAX_AK_NAME_BYTES + " bytes";

    private Limits() {
    }

    /**
     * Whether {@code key} may name a TPM enrolment label: 1 to {@link #MAX_TPM_LABEL_KEY_LENGTH} of
     * {@code [a-z0-9_.-]}. No ':' (the key ends at the first one in {@code tpm:label:<k>:<v>}) and no '=' (the
     * CLI's {@code key=value}). Shared by the datastore, the admin API and the CLI.
     */
    public static boolean isTpmLabelKey(String key) {
        if (key == null || key.isEmpty() || key.length() > MAX_TPM_LABEL_KEY_LENGTH) {
            return false;
        }
        for (int i = 0; i < key.length(); i++) {
            char c = key.charAt(i);
            if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-')) {
                return false;
            }
        }
        return true;
    }

    /**
     * Whether {@code value} may be a TPM label's value: 1 to {@link #MAX_TPM_LABEL_VALUE_LENGTH} characters, none a
     * control character (a newline or escape would forge lines in logs and CLI output).
     */
    public static boolean isTpmLabelValue(String value) {
        if (value == null || value.isEmpty() || value.length() > MAX_TPM_LABEL_VALUE_LENGTH) {
            return false;
        }
        for (int i = 0; i < value.length(); i++) {
            if (Character.isISOControl(value.charAt(i))) {
                return false;
            }
        }
        return true;
    }

    /**
     * Whether {@code name} may name a PCR policy: 1 to {@link #MAX_PCR_POLICY_NAME_LENGTH} letters, digits, '.', '_'
     * or '-', the first a letter or digit (the names the server configuration may define).
     */
    public static boolean isPcrPolicyName(String name) {
        if (name == null || name.isEmpty() || name.length() > MAX_PCR_POLICY_NAME_LENGTH) {
            return false;
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            boolean alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
            if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-'))) {
                return false;
            }
        }
        return true;
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
