package dev.bourne.appliance.federation;

import dev.bourne.appliance.agentapi.TlsCredential;
import dev.bourne.core.bundle.SpiffeBundle;
import dev.bourne.core.bundle.SpiffeBundleJson;
import dev.bourne.core.config.BundleEndpointSettings;
import java.io.IOException;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * This trust domain's SPIFFE bundle endpoint: {@code GET /} on its own HTTPS listener answers the current bundle in
 * the SPIFFE bundle format, for federated trust domains to fetch. Anyone may fetch it (the Federation specification
 * requires no client authentication: a bundle is public), so the listener is read-only and bounded.
 *
 * <p>The bundle is read at every request, so a CA rotation is served at once with its new {@code spiffe_sequence};
 * {@code spiffe_refresh_hint} is the configured {@code refresh_hint}. Profile {@code https_spiffe} presents the
 * server's current X.509-SVID ({@code spiffe://<td>/spire/server}), read at every handshake because it rotates;
 * {@code https_web} presents the operator's certificate files, reloaded when they change.
 *
 * @see <a href="https://github.com/spiffe/spiffe/blob/main/standards/SPIFFE_Federation.md#5-serving-and-consuming-a-spiffe-bundle-endpoint">SPIFFE Federation 5</a>
 */
public final class BundleEndpointServer implements AutoCloseable {
    /** The only path served. */
    public static final String PATH = "/";
    /** Peers must see a rotation at their next poll, not a cached copy. */
    public static final String CACHE_CONTROL = "no-cache";

    private final HttpsEndpoint endpoint;
    private final String profile;

    private BundleEndpointServer(HttpsEndpoint endpoint, String profile) {
        this.endpoint = endpoint;
        this.profile = profile;
    }

    /**
     * Binds the configured address and port (0 picks a free port) and serves {@code bundle}.
     *
     * @param bundle this trust domain's bundle now (the CA's); it must carry a sequence number
     * @param credential what TLS presents: the server SVID for {@code https_spiffe}, the files for {@code https_web}
     */
    public static BundleEndpointServer start(BundleEndpointSettings settings, Supplier<SpiffeBundle> bundle,
            Supplier<TlsCredential> credential) throws IOException {
        Objects.requireNonNull(settings, "settings");
        Objects.requireNonNull(bundle, "bundle");
        HttpsEndpoint endpoint = HttpsEndpoint.start("bundle-endpoint", settings.address(), settings.port(),
                credential, path -> PATH.equals(path)
                        ? Optional.of(HttpsEndpoint.Response.json(document(bundle.get(), settings),
                                Map.of("Cache-Control", CACHE_CONTROL)))
                        : Optional.empty());
        return new BundleEndpointServer(endpoint, settings.profile());
    }

    /** The document served for {@code bundle}: the bundle with the configured refresh hint. */
    static String document(SpiffeBundle bundle, BundleEndpointSettings settings) {
        return SpiffeBundleJson.encode(bundle.withRefreshHint(settings.refreshHint()));
    }

    /** The bound port. */
    public int port() {
        return endpoint.port();
    }

    /** The profile served, {@code https_spiffe} or {@code https_web}. */
    public String profile() {
        return profile;
    }

    @Override
    public void close() {
        endpoint.close();
    }
}
