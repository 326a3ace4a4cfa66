package dev.bourne.core.spiffeid;

import java.util.Objects;

/**
 * A SPIFFE trust domain: the authority component of a SPIFFE ID, such as {@code example.org}.
 *
 * <p>Names are compared exactly: the specification requires lowercase, so a name is never case-folded on the way in,
 * it is rejected instead.
 *
 * @param name the trust domain name, without scheme
 * @see <a href="https://github.com/spiffe/spiffe/blob/main/standards/SPIFFE-ID.md#21-trust-domain">SPIFFE-ID 2.1</a>
 */
public record TrustDomain(String name) implements Comparable<TrustDomain> {

    public TrustDomain {
        Objects.requireNonNull(name, "name");
        String problem = SpiffeIdRules.trustDomainProblem(name);
        if (problem != null) {
            throw new InvalidSpiffeIdException("invalid trust domain", name, problem);
        }
    }

    /**
     * Parses a trust domain from its name ({@code example.org}) or from the SPIFFE ID of the trust domain itself
     * ({@code spiffe://example.org}), the two forms operators write in configuration.
     *
     * @throws InvalidSpiffeIdException naming the rule the input breaks
     */
    public static TrustDomain parse(String nameOrId) {
        if (nameOrId == null || nameOrId.isEmpty()) {
            throw new InvalidSpiffeIdException("invalid trust domain", nameOrId, SpiffeIdRules.EMPTY);
        }
        if (nameOrId.regionMatches(true, 0, SpiffeIdRules.SCHEME_PREFIX, 0, SpiffeIdRules.SCHEME_PREFIX.length())) {
            SpiffeId id = SpiffeId.parse(nameOrId);
            if (!id.isTrustDomainId()) {
                throw new InvalidSpiffeIdException("invalid trust domain", nameOrId,
                        SpiffeIdRules.TRUST_DOMAIN_HAS_PATH);
            }
            return id.trustDomain();
        }
        return new TrustDomain(nameOrId);
    }

    /** The SPIFFE ID naming the trust domain itself, {@code spiffe://<name>}. */
    public SpiffeId id() {
        return new SpiffeId(this, "");
    }

    /** The URI form, {@code spiffe://<name>}, used for name constraints and bundle keys. */
    public String idString() {
        return SpiffeIdRules.SCHEME_PREFIX + name;
    }

    @Override
    public int compareTo(TrustDomain other) {
        return name.compareTo(other.name);
    }

    @Override
    public String toString() {
        return name;
    }
}
