package dev.bourne.appliance.ca;

import dev.bourne.appliance.ca.journal.JwtAuthorityRecord;
import dev.bourne.appliance.ca.journal.X509AuthorityRecord;
import dev.bourne.core.bundle.SpiffeBundle;
import java.util.List;
import java.util.Objects;

/**
 * One consistent view of the CA, swapped atomically on every change: the authorities that sign now, the bundle
 * relying parties must trust, and every local authority with its state (what {@code localauthority show} prints).
 * An SVID signed by {@link #activeX509()} validates against {@link #bundle()} of the same snapshot.
 */
public record CaSnapshot(X509Authority activeX509, JwtAuthority activeJwt, SpiffeBundle bundle,
        List<X509AuthorityRecord> x509Authorities, List<JwtAuthorityRecord> jwtAuthorities) {

    public CaSnapshot {
        Objects.requireNonNull(activeX509, "activeX509");
        Objects.requireNonNull(activeJwt, "activeJwt");
        Objects.requireNonNull(bundle, "bundle");
        x509Authorities = List.copyOf(x509Authorities);
        jwtAuthorities = List.copyOf(jwtAuthorities);
    }

    /** The bundle's {@code spiffe_sequence}. */
    public long sequence() {
        return bundle.sequence().orElseThrow();
    }
}
