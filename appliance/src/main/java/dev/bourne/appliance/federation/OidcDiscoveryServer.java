package dev.bourne.appliance.federation;

import com.nimbusds.jose.jwk.JWK;
import dev.bourne.appliance.agentapi.TlsCredential;
import dev.bourne.appliance.ca.CaSnapshot;
import dev.bourne.core.config.OidcDiscoverySettings;
import java.io.IOException;
import java.net.URI;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The OIDC discovery listener for JWT-SVID consumers that speak only OpenID Connect (Vault's JWT auth, cloud
 * workload identity federation): the provider configuration of {@code jwt_issuer} and the JWK set of every JWT-SVID
 * key that can still verify a token, over HTTPS with the operator's certificate for the issuer's host.
 *
 * <p>Both documents are built from the CA's snapshot at every request, so a prepared key is published as soon as it
 * exists, long before it signs. Responses may be cached for {@link #MAX_AGE_SECONDS} only.
 */
public final class OidcDiscoveryServer implements AutoCloseable {
    /** Short: consumers refetch on an unknown kid anyway, and a prepared key must be visible before it signs. */
    public static final int MAX_AGE_SECONDS = 60;
    public static final String CACHE_CONTROL = "public, max-age=" + MAX_AGE_SECONDS;

    private final HttpsEndpoint endpoint;
    private final OidcDocuments.Locations locations;

    private OidcDiscoveryServer(HttpsEndpoint endpoint, OidcDocuments.Locations locations) {
        this.endpoint = endpoint;
        this.locations = locations;
    }

    /**
     * Binds the configured address and port (0 picks a free port) and serves discovery for {@code issuer}.
     *
     * @param ca the CA's current snapshot
     * @param credential the certificate and key for the issuer's host (the configured files)
     */
    public static OidcDiscoveryServer start(OidcDiscoverySettings settings, URI issuer, Supplier<CaSnapshot> ca,
            Supplier<TlsCredential> credential, Clock clock) throws IOException {
        Objects.requireNonNull(settings, "settings");
        Objects.requireNonNull(issuer, "issuer");
        Objects.requireNonNull(ca, "ca");
        Objects.requireNonNull(clock, "clock");
        OidcDocuments.Locations locations = OidcDocuments.locations(issuer);
        Map<String, String> headers = Map.of("Cache-Control", CACHE_CONTROL);
        HttpsEndpoint endpoint = HttpsEndpoint.start("oidc-discovery", settings.address(), settings.port(),
                credential, path -> {
                    if (path.equals(locations.discoveryPath())) {
                        List<JWK> keys = OidcDocuments.keys(ca.get(), clock.instant());
                        return Optional.of(HttpsEndpoint.Response.json(
                                OidcDocuments.configuration(issuer, OidcDocuments.algorithms(keys)), headers));
                    }
                    if (path.equals(locations.keysPath())) {
                        return Optional.of(HttpsEndpoint.Response.json(
                                OidcDocuments.jwks(OidcDocuments.keys(ca.get(), clock.instant())), headers));
                    }
                    return Optional.empty();
                });
        return new OidcDiscoveryServer(endpoint, locations);
    }

    /** The bound port. */
    public int port() {
        return endpoint.port();
    }

    /** Where the documents are served. */
    public OidcDocuments.Locations locations() {
        return locations;
    }

    @Override
    public void close() {
        endpoint.close();
    }
}
