package dev.bourne.appliance.ca;

import dev.bourne.appliance.ca.SvidIssuanceException.Reason;
import dev.bourne.core.internal.Texts;
import java.util.List;

/**
 * The DNS names an X.509-SVID may carry: host names of letter-digit-hyphen labels (RFC 1123 section 2.1, RFC 5280
 * section 4.2.1.6), with a wildcard only as the whole leftmost label. Checked before they go into a certificate, so a
 * registration entry can never make the CA sign a name TLS clients would misread.
 */
public final class DnsNames {
    public static final int MAX_NAMES = 100;
    public static final int MAX_NAME_CHARS = 253;
    public static final int MAX_LABEL_CHARS = 63;
    /** RFC 5280's upper bound for a common name, which holds the first DNS name. */
    public static final int MAX_COMMON_NAME_CHARS = 64;

    public static final String TOO_MANY = "an X.509-SVID carries at most " + MAX_NAMES + " DNS names";
    public static final String EMPTY = "DNS name is empty";
    public static final String TOO_LONG = "DNS name is longer than " + MAX_NAME_CHARS + " characters";
    public static final String EMPTY_LABEL = "DNS name has an empty label";
    public static final String LABEL_TOO_LONG = "DNS name has a label longer than " + MAX_LABEL_CHARS + " characters";
    public static final String BAD_CHARACTER = "DNS name may contain only letters, digits, hyphens and dots";
    public static final String LABEL_HYPHEN = "DNS name has a label that starts or ends with a hyphen";
    public static final String WILDCARD_POSITION = "DNS name wildcard must be the whole leftmost label";
    public static final String WILDCARD_TOO_BROAD = "DNS name wildcard must be followed by at least two labels";
    public static final String COMMON_NAME_TOO_LONG = "the first DNS name becomes the Subject CN and must be at most "
            + MAX_COMMON_NAME_CHARS + " characters";

    private DnsNames() {
    }

    /**
     * Checks every name, and that the first fits a common name.
     *
     * @throws X509SvidIssuanceException with reason {@link Reason#INVALID_DNS_NAME}: the rule, then the quoted name
     */
    public static void check(List<String> names) throws X509SvidIssuanceException {
        if (names.size() > MAX_NAMES) {
            throw new X509SvidIssuanceException(Reason.INVALID_DNS_NAME, TOO_MANY);
        }
        for (String name : names) {
            String problem = problem(name);
            if (problem != null) {
                throw new X509SvidIssuanceException(Reason.INVALID_DNS_NAME, problem + ": " + Texts.quote(name));
            }
        }
        if (!names.isEmpty() && names.get(0).length() > MAX_COMMON_NAME_CHARS) {
            throw new X509SvidIssuanceException(Reason.INVALID_DNS_NAME,
                    COMMON_NAME_TOO_LONG + ": " + Texts.quote(names.get(0)));
        }
    }

    /** The rule {@code name} breaks, or {@code null} when it is a valid SVID DNS name. */
    public static String problem(String name) {
        if (name == null || name.isEmpty()) {
            return EMPTY;
        }
        if (name.length() > MAX_NAME_CHARS) {
            return TOO_LONG;
        }
        int labels = 0;
        int start = 0;
        while (start <= name.length()) {
            int end = name.indexOf('.', start);
            if (end < 0) {
                end = name.length();
            }
            String problem = labelProblem(name, start, end, labels == 0);
            if (problem != null) {
                return problem;
            }
            labels++;
            start = end + 1;
        }
        if (name.charAt(0) == '*' && labels < 3) {
            return WILDCARD_TOO_BROAD;
        }
        return null;
    }

    private static String labelProblem(String name, int start, int end, boolean leftmost) {
        int length = end - start;
        if (length == 0) {
            return EMPTY_LABEL;
        }
        if (length > MAX_LABEL_CHARS) {
            return LABEL_TOO_LONG;
        }
        if (length == 1 && name.charAt(start) == '*') {
            return leftmost ? null : WILDCARD_POSITION;
        }
        for (int i = start; i < end; i++) {
            char c = name.charAt(i);
            if (c == '*') {
                return WILDCARD_POSITION;
            }
            boolean ldh = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
            if (!ldh) {
                return BAD_CHARACTER;
            }
        }
        if (name.charAt(start) == '-' || name.charAt(end - 1) == '-') {
            return LABEL_HYPHEN;
        }
        return null;
    }
}
