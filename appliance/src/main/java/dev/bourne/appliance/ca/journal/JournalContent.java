package dev.bourne.appliance.ca.journal;

import java.util.List;
import java.util.Objects;

/**
 * Everything the CA persists between restarts: every local authority that is still published (X.509 and JWT), and
 * the bundle's last {@code spiffe_sequence}, so the sequence keeps increasing across restarts.
 */
public record JournalContent(long bundleSequence, List<X509AuthorityRecord> x509Authorities,
        List<JwtAuthorityRecord> jwtAuthorities) {

    public JournalContent {
        if (bundleSequence < 0) {
            throw new IllegalArgumentException("bundle sequence must not be negative");
        }
        x509Authorities = List.copyOf(Objects.requireNonNull(x509Authorities, "x509Authorities"));
        jwtAuthorities = List.copyOf(Objects.requireNonNull(jwtAuthorities, "jwtAuthorities"));
    }

    public static JournalContent empty() {
        return new JournalContent(0, List.of(), List.of());
    }
}
