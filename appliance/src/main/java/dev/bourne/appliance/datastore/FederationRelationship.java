package dev.bourne.appliance.datastore;

import dev.bourne.core.spiffeid.TrustDomain;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Instant;
import java.util.Objects;

/**
 * A federation relationship: this server fetches the bundle of {@code trustDomain} from {@code bundleEndpointUrl},
 * authenticating the endpoint by {@code profile} (SPIFFE Federation 5.1, SPIRE's {@code FederationRelationship}).
 *
 * @param trustDomain the foreign trust domain; the fetched bundle is stored under this name, whatever the endpoint
 *     claims (a bundle does not name its domain: Federation 7.3)
 * @param bundleEndpointUrl an {@code https} URL without user information ({@link #parseEndpointUrl})
 * @param profile how the endpoint is authenticated
 * @param createdAt when the relationship was created (set by the datastore)
 * @param updatedAt when its URL or profile last changed (set by the datastore)
 * @param fetchState what the federation client last did
 * @see <a href="https://github.com/spiffe/spiffe/blob/main/standards/SPIFFE_Federation.md#51-endpoint-parameters">Federation 5.1</a>
 */
public record FederationRelationship(TrustDomain trustDomain, URI bundleEndpointUrl, BundleEndpointProfile profile,
        Instant createdAt, Instant updatedAt, BundleFetchState fetchState) {
    /** The longest endpoint URL accepted. */
    public static final int MAX_URL_LENGTH = 2048;
    public static final String URL_INVALID = "is not a valid URL";
    public static final String URL_NOT_HTTPS = "must be an https URL";
    public static final String URL_NO_HOST = "must name a host";
    public static final String URL_USERINFO = "must not carry user information";
    public static final String URL_TOO_LONG = "is longer than " + MAX_URL_LENGTH + " characters";

    public FederationRelationship {
        Objects.requireNonNull(trustDomain, "trustDomain");
        Objects.requireNonNull(bundleEndpointUrl, "bundleEndpointUrl");
        Objects.requireNonNull(profile, "profile");
        Objects.requireNonNull(createdAt, "createdAt");
        Objects.requireNonNull(updatedAt, "updatedAt");
        Objects.requireNonNull(fetchState, "fetchState");
        String problem = urlProblem(bundleEndpointUrl);
        if (problem != null) {
            throw new IllegalArgumentException("bundle endpoint URL " + problem);
        }
    }

    /** A relationship to create or update: times and fetch state are the datastore's to set. */
    public static FederationRelationship of(TrustDomain trustDomain, URI bundleEndpointUrl,
            BundleEndpointProfile profile) {
        return new FederationRelationship(trustDomain, bundleEndpointUrl, profile, Instant.EPOCH, Instant.EPOCH,
                BundleFetchState.NONE);
    }

    /** This relationship with another fetch state. */
    public FederationRelationship withFetchState(BundleFetchState state) {
        return new FederationRelationship(trustDomain, bundleEndpointUrl, profile, createdAt, updatedAt, state);
    }

    /**
     * Parses a bundle endpoint URL as Federation 5.2.1.1 and 5.2.2.1 require it: scheme {@code https}, no user
     * information, and (for a usable address) a host.
     *
     * @throws IllegalArgumentException with one of the {@code URL_*} reasons
     */
    public static URI parseEndpointUrl(String value) {
        if (value.length() > MAX_URL_LENGTH) {
            throw new IllegalArgumentException(URL_TOO_LONG);
        }
        URI uri;
        try {
            uri = new URI(value);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException(URL_INVALID);
        }
        String problem = urlProblem(uri);
        if (problem != null) {
            throw new IllegalArgumentException(problem);
        }
        return uri;
    }

    private static String urlProblem(URI uri) {
        if (uri.toString().length() > MAX_URL_LENGTH) {
            return URL_TOO_LONG;
        }
        if (!uri.isAbsolute() || uri.isOpaque() || !"https".equalsIgnoreCase(uri.getScheme())) {
            return URL_NOT_HTTPS;
        }
        if (uri.getRawUserInfo() != null) {
            return URL_USERINFO;
        }
        if (uri.getHost() == null || uri.getHost().isEmpty()) {
            return URL_NO_HOST;
        }
        return null;
    }
}
