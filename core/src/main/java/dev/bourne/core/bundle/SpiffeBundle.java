package dev.bourne.core.bundle;

import dev.bourne.core.spiffeid.TrustDomain;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * A SPIFFE bundle: everything a relying party needs to validate SVIDs of one trust domain, with the publication
 * metadata of the SPIFFE bundle format. Immutable; a new sequence number means a new value.
 *
 * @param trustDomain the domain the bundle belongs to (bundles do not name it themselves: it comes from context)
 * @param x509Authorities CA certificates for X.509-SVIDs
 * @param jwtAuthorities public keys for JWT-SVIDs, by key ID
 * @param sequence {@code spiffe_sequence}, when the publisher set one
 * @param refreshHint {@code spiffe_refresh_hint}, when the publisher set one
 * @see <a href="https://github.com/spiffe/spiffe/blob/main/standards/SPIFFE_Trust_Domain_and_Bundle.md#4-spiffe-bundle-format">Trust Domain and Bundle 4</a>
 */
public record SpiffeBundle(
        TrustDomain trustDomain,
        List<X509Certificate> x509Authorities,
        Map<String, PublicKey> jwtAuthorities,
        OptionalLong sequence,
        Optional<Duration> refreshHint) {

    public SpiffeBundle {
        Objects.requireNonNull(trustDomain, "trustDomain");
        Objects.requireNonNull(sequence, "sequence");
        Objects.requireNonNull(refreshHint, "refreshHint");
        // Normalise through the typed bundles so their invariants hold here too.
        x509Authorities = new X509Bundle(trustDomain, x509Authorities).authorities();
        jwtAuthorities = new JwtBundle(trustDomain, jwtAuthorities).authorities();
        if (sequence.isPresent() && sequence.getAsLong() < 0) {
            throw new IllegalArgumentException("spiffe_sequence must not be negative");
        }
        if (refreshHint.isPresent() && (refreshHint.get().isNegative() || refreshHint.get().isZero())) {
            throw new IllegalArgumentException("spiffe_refresh_hint must be positive");
        }
    }

    /** A bundle without sequence number or refresh hint. */
    public static SpiffeBundle of(TrustDomain trustDomain, List<X509Certificate> x509Authorities,
            Map<String, PublicKey> jwtAuthorities) {
        return new SpiffeBundle(trustDomain, x509Authorities, jwtAuthorities, OptionalLong.empty(), Optional.empty());
    }

    public X509Bundle x509Bundle() {
        return new X509Bundle(trustDomain, x509Authorities);
    }

    public JwtBundle jwtBundle() {
        return new JwtBundle(trustDomain, jwtAuthorities);
    }

    /** This bundle with another sequence number. */
    public SpiffeBundle withSequence(long newSequence) {
        return new SpiffeBundle(trustDomain, x509Authorities, jwtAuthorities, OptionalLong.of(newSequence),
                refreshHint);
    }

    /** This bundle with another refresh hint. */
    public SpiffeBundle withRefreshHint(Duration hint) {
        return new SpiffeBundle(trustDomain, x509Authorities, jwtAuthorities, sequence, Optional.of(hint));
    }
}
