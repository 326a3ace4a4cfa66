package dev.bourne.appliance.ca;

import dev.bourne.core.config.CaSubject;
import dev.bourne.core.config.ServerSettings;
import dev.bourne.core.config.internal.GoDuration;
import dev.bourne.core.keymanager.KeyType;
import dev.bourne.core.spiffeid.TrustDomain;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * What the CA manager needs from the server configuration, checked: the trust domain, the CA and JWT key lifetime
 * ({@code ca_ttl}) and key types, the CA subject, the bundle's refresh hint, and the default SVID lifetimes the CA must
 * be able to honour.
 *
 * @param refreshHint the bundle's {@code spiffe_refresh_hint}; SPIRE's default is 5 minutes
 * @param x509SvidTtl the longest X.509-SVID lifetime the server hands out by default ({@code default_x509_svid_ttl})
 * @param jwtSvidTtl the longest JWT-SVID lifetime the server hands out by default ({@code default_jwt_svid_ttl})
 */
public record CaOptions(TrustDomain trustDomain, Duration caTtl, KeyType caKeyType, KeyType jwtKeyType,
        Optional<CaSubject> caSubject, Duration refreshHint, Duration x509SvidTtl, Duration jwtSvidTtl) {

    public static final Duration DEFAULT_REFRESH_HINT = Duration.ofMinutes(5);

    /** Format arguments: the SVID TTL's config key, its value, ca_ttl. */
    public static final String SVID_TTL_TOO_LONG = "%s (%s) must be less than ca_ttl (%s): an SVID cannot outlive"
            + " the authority that signs it";

    public CaOptions {
        Objects.requireNonNull(trustDomain, "trustDomain");
        Objects.requireNonNull(caKeyType, "caKeyType");
        Objects.requireNonNull(jwtKeyType, "jwtKeyType");
        Objects.requireNonNull(caSubject, "caSubject");
        positive(caTtl, "ca_ttl");
        positive(refreshHint, "refresh hint");
        positive(x509SvidTtl, "default_x509_svid_ttl");
        positive(jwtSvidTtl, "default_jwt_svid_ttl");
        if (x509SvidTtl.compareTo(caTtl) >= 0) {
            throw new IllegalArgumentException(String.format(SVID_TTL_TOO_LONG, "default_x509_svid_ttl",
                    GoDuration.format(x509SvidTtl), GoDuration.format(caTtl)));
        }
        if (jwtSvidTtl.compareTo(caTtl) >= 0) {
            throw new IllegalArgumentException(String.format(SVID_TTL_TOO_LONG, "default_jwt_svid_ttl",
                    GoDuration.format(jwtSvidTtl), GoDuration.format(caTtl)));
        }
    }

    private static void positive(Duration value, String name) {
        Objects.requireNonNull(value, name);
        if (value.isNegative() || value.isZero()) {
            throw new IllegalArgumentException(name + " must be positive");
        }
    }

    /** The options of a validated server configuration, with the default refresh hint. */
    public static CaOptions from(ServerSettings settings) {
        return new CaOptions(settings.trustDomain(), settings.caTtl(), settings.caKeyType(), settings.jwtKeyType(),
                settings.caSubject(), DEFAULT_REFRESH_HINT, settings.defaultX509SvidTtl(),
                settings.defaultJwtSvidTtl());
    }

    public CaOptions withRefreshHint(Duration hint) {
        return new CaOptions(trustDomain, caTtl, caKeyType, jwtKeyType, caSubject, hint, x509SvidTtl, jwtSvidTtl);
    }
}
