package dev.bourne.appliance.admin;

import dev.bourne.appliance.datastore.Limits;
import dev.bourne.appliance.datastore.RegistrationEntry;
import dev.bourne.core.selector.Selector;
import dev.bourne.core.spiffeid.SpiffeId;
import dev.bourne.core.spiffeid.TrustDomain;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The admin API's rules for registration entries, after SPIRE's: IDs in the server's trust domain, the reserved
 * {@code /spire/} namespace kept for the server and agents, well-formed selectors of the built-in plugins, valid DNS
 * names, TTLs below the CA's lifetime, foreign federated trust domains and bounded lengths. Each failure names the
 * request field.
 */
final class EntryValidator {
    static final String REQUIRED = "is required";
    static final String NOT_IN_TRUST_DOMAIN = "must be in trust domain %s";
    static final String NO_PATH = "must have a path: a trust domain ID cannot be a workload or node";
    static final String RESERVED = "is in the reserved /spire/ namespace (kept for the server and agents)";
    static final String PARENT_RESERVED = "under /spire/ only the server ID or an agent ID (/spire/agent/...) can be a"
            + " parent";
    static final String SELECTORS_EMPTY = "at least one selector is required";
    static final String TOO_MANY_SELECTORS = "more than " + Limits.MAX_SELECTORS + " selectors";
    static final String SELECTOR_DUPLICATE = "is listed twice";
    static final String SELECTOR_UNKNOWN_KEY = "a %s selector must start with one of %s";
    static final String SELECTOR_NOT_NUMBER = "%s must be a decimal number";
    static final String SELECTOR_NOT_SHA256 = "sha256 must be 64 hexadecimal characters";
    static final String SELECTOR_NOT_SPIFFE_ID = "a spiffe_id selector's value must be a SPIFFE ID";
    static final String TTL_NEGATIVE = "cannot be negative";
    static final String TTL_NOT_BELOW_CA = "must be less than ca_ttl (%d seconds)";
    static final String EXPIRY_UNSUPPORTED = "entry expiry is not supported; leave it 0";
    static final String FEDERATES_OWN = "cannot be the server's own trust domain";
    static final String FEDERATES_DUPLICATE = "is listed twice";
    static final String TOO_MANY_FEDERATES_WITH = "more than " + Limits.MAX_FEDERATES_WITH + " trust domains";
    static final String TOO_MANY_DNS_NAMES = "more than " + Limits.MAX_DNS_NAMES + " DNS names";
    static final String DNS_NAME_TOO_LONG = "is longer than " + Limits.MAX_DNS_NAME_LENGTH + " characters";
    static final String DNS_NAME_INVALID = "must be a DNS name: labels of 1 to 63 letters, digits and hyphens, not"
            + " starting or ending with a hyphen, optionally led by *.";
    static final String DNS_NAME_DUPLICATE = "is listed twice";
    static final String HINT_TOO_LONG = "is longer than " + Limits.MAX_HINT_LENGTH + " characters";
    static final String CONTROL_CHARACTER = "cannot contain control characters";
    static final String ENTRY_ID_INVALID = "must be 1 to " + Limits.MAX_ENTRY_ID_LENGTH
            + " characters of letters, digits, '-', '_', '.' and '~'";

    /** Built-in selector types and the keys their values start with ({@code uid:1000}). */
    static final Map<String, List<String>> KNOWN_SELECTORS = Map.of(
            "unix", List.of("uid", "user", "gid", "group", "supplementary_gid", "supplementary_group", "path",
                    "sha256"),
            "systemd", List.of("id", "fragment_path"),
            "tpm", List.of("pub_hash", "label", "pcr_policy"),
            "openstack_iid", List.of("project_id", "instance_id", "image_id", "hostname", "meta"),
            "join_token", List.of("token"));

    private static final Pattern DIGITS = Pattern.compile("[0-9]{1,10}");
    private static final Pattern SHA256 = Pattern.compile("[0-9a-fA-F]{64}");
    private static final Pattern ENTRY_ID = Pattern.compile("[A-Za-z0-9._~-]{1," + Limits.MAX_ENTRY_ID_LENGTH + "}");

    private final TrustDomain trustDomain;
    private final Duration caTtl;
    private final SpiffeId serverId;

    EntryValidator(TrustDomain trustDomain, Duration caTtl) {
        this.trustDomain = trustDomain;
        this.caTtl = caTtl;
        this.serverId = SpiffeId.of(trustDomain, "spire", "server");
    }

    TrustDomain trustDomain() {
        return trustDomain;
    }

    SpiffeId serverId() {
        return serverId;
    }

    /** Checks a whole entry, as created or as it will be after an update. */
    void validate(RegistrationEntry entry) throws InvalidRequestException {
        if (!entry.id().isEmpty()) {
            entryId("id", entry.id());
        }
        workloadId("spiffe_id", entry.spiffeId());
        parentId("parent_id", entry.parentId());
        selectors("selectors", entry.selectors());
        ttl("x509_svid_ttl", entry.x509SvidTtl());
        ttl("jwt_svid_ttl", entry.jwtSvidTtl());
        federatesWith(entry.federatesWith());
        dnsNames(entry.dnsNames());
        hint(entry.hint());
    }

    void entryId(String field, String id) throws InvalidRequestException {
        if (id.isEmpty()) {
            throw new InvalidRequestException(field, REQUIRED);
        }
        if (!ENTRY_ID.matcher(id).matches()) {
            throw new InvalidRequestException(field, ENTRY_ID_INVALID);
        }
    }

    /** A workload (or node alias) ID: in the trust domain, with a path, outside {@code /spire/}. */
    void workloadId(String field, SpiffeId id) throws InvalidRequestException {
        inTrustDomain(field, id);
        if (id.hasPathPrefix("spire")) {
            throw new InvalidRequestException(field, RESERVED);
        }
    }

    /** A parent: the server ID (node alias), an agent ID, or any workload ID of the trust domain. */
    void parentId(String field, SpiffeId id) throws InvalidRequestException {
        inTrustDomain(field, id);
        if (id.hasPathPrefix("spire") && !id.equals(serverId)
                && !(id.hasPathPrefix("spire", "agent") && id.segments().size() > 2)) {
            throw new InvalidRequestException(field, PARENT_RESERVED);
        }
    }

    void inTrustDomain(String field, SpiffeId id) throws InvalidRequestException {
        if (!id.memberOf(trustDomain)) {
            throw new InvalidRequestException(field, String.format(NOT_IN_TRUST_DOMAIN, trustDomain.name()));
        }
        if (id.isTrustDomainId()) {
            throw new InvalidRequestException(field, NO_PATH);
        }
    }

    void selectors(String field, List<Selector> selectors) throws InvalidRequestException {
        if (selectors.isEmpty()) {
            throw new InvalidRequestException(field, SELECTORS_EMPTY);
        }
        if (selectors.size() > Limits.MAX_SELECTORS) {
            throw new InvalidRequestException(field, TOO_MANY_SELECTORS);
        }
        for (int i = 0; i < selectors.size(); i++) {
            selector(field + "[" + i + "]", selectors.get(i));
        }
    }

    /**
     * A selector of a built-in plugin must have one of its keys; a selector of another type (a plugin Bourne does not
     * ship, kept so SPIRE entries move over) needs only the generic {@code type:value} shape.
     */
    static void selector(String field, Selector selector) throws InvalidRequestException {
        if (selector.type().equals("spiffe_id")) {
            try {
                SpiffeId.parse(selector.value());
            } catch (IllegalArgumentException e) {
                throw new InvalidRequestException(field, SELECTOR_NOT_SPIFFE_ID);
            }
            return;
        }
        List<String> keys = KNOWN_SELECTORS.get(selector.type());
        if (keys == null) {
            return;
        }
        String value = selector.value();
        int colon = value.indexOf(':');
        String key = colon < 0 ? "" : value.substring(0, colon);
        String rest = colon < 0 ? "" : value.substring(colon + 1);
        if (!keys.contains(key) || rest.isEmpty()) {
            throw new InvalidRequestException(field, String.format(SELECTOR_UNKNOWN_KEY, selector.type(),
                    String.join(", ", keys.stream().map(k -> k + ":").toList())));
        }
        if (selector.type().equals("unix")) {
            if ((key.equals("uid") || key.equals("gid") || key.equals("supplementary_gid"))
                    && !DIGITS.matcher(rest).matches()) {
                throw new InvalidRequestException(field, String.format(SELECTOR_NOT_NUMBER, key));
            }
            if (key.equals("sha256") && !SHA256.matcher(rest).matches()) {
                throw new InvalidRequestException(field, SELECTOR_NOT_SHA256);
            }
        }
    }

    void ttl(String field, Duration ttl) throws InvalidRequestException {
        if (ttl.isNegative()) {
            throw new InvalidRequestException(field, TTL_NEGATIVE);
        }
        if (ttl.compareTo(caTtl) >= 0) {
            throw new InvalidRequestException(field, String.format(TTL_NOT_BELOW_CA, caTtl.getSeconds()));
        }
    }

    void federatesWith(List<TrustDomain> domains) throws InvalidRequestException {
        if (domains.size() > Limits.MAX_FEDERATES_WITH) {
            throw new InvalidRequestException("federates_with", TOO_MANY_FEDERATES_WITH);
        }
        for (int i = 0; i < domains.size(); i++) {
            if (domains.get(i).equals(trustDomain)) {
                throw new InvalidRequestException("federates_with[" + i + "]", FEDERATES_OWN);
            }
        }
    }

    static void dnsNames(List<String> names) throws InvalidRequestException {
        if (names.size() > Limits.MAX_DNS_NAMES) {
            throw new InvalidRequestException("dns_names", TOO_MANY_DNS_NAMES);
        }
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < names.size(); i++) {
            String field = "dns_names[" + i + "]";
            String name = names.get(i);
            if (name.isEmpty()) {
                throw new InvalidRequestException(field, REQUIRED);
            }
            if (name.length() > Limits.MAX_DNS_NAME_LENGTH) {
                throw new InvalidRequestException(field, DNS_NAME_TOO_LONG);
            }
            if (!Limits.isDnsName(name)) {
                throw new InvalidRequestException(field, DNS_NAME_INVALID);
            }
            if (!seen.add(name.toLowerCase(Locale.ROOT))) {
                throw new InvalidRequestException(field, DNS_NAME_DUPLICATE);
            }
        }
    }

    static void hint(String hint) throws InvalidRequestException {
        if (hint.length() > Limits.MAX_HINT_LENGTH) {
            throw new InvalidRequestException("hint", HINT_TOO_LONG);
        }
        for (int i = 0; i < hint.length(); i++) {
            if (Character.isISOControl(hint.charAt(i))) {
                // A newline or escape would forge lines in logs and in the CLI's output.
                throw new InvalidRequestException("hint", CONTROL_CHARACTER);
            }
        }
    }
}
