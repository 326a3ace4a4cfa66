package dev.bourne.appliance.federation;

import dev.bourne.appliance.agentapi.TlsCredential;
import dev.bourne.appliance.ca.CaManager;
import dev.bourne.core.config.BundleEndpointSettings;
import dev.bourne.core.config.ConfigError;
import dev.bourne.core.config.OidcDiscoverySettings;
import dev.bourne.core.config.ServerSettings;
import dev.bourne.core.config.WebServingCertificate;
import java.io.IOException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The server's public HTTPS listeners for other trust domains and OIDC consumers, as configured: the federation
 * bundle endpoint and the OIDC discovery listener, either, both or none. Started by the server once its CA and SVID
 * exist, closed with it.
 */
public final class FederationEndpoints implements AutoCloseable {
    public static final String BUNDLE_ENDPOINT_KEY = "server.federation.bundle_endpoint";
    public static final String OIDC_KEY = "server.oidc_discovery";

    private final Optional<BundleEndpointServer> bundleEndpoint;
    private final Optional<OidcDiscoveryServer> oidcDiscovery;

    private FederationEndpoints(Optional<BundleEndpointServer> bundleEndpoint,
            Optional<OidcDiscoveryServer> oidcDiscovery) {
        this.bundleEndpoint = bundleEndpoint;
        this.oidcDiscovery = oidcDiscovery;
    }

    /**
     * Checks the certificate and key files the listeners will read (existence, size, PEM, key mode, pair), one error
     * per unusable file, for {@code bourne-server validate} and start-up.
     *
     * @param file names the configuration file in errors
     */
    public static List<ConfigError> validate(ServerSettings settings, String file) {
        List<ConfigError> errors = new ArrayList<>();
        settings.federation().bundleEndpoint().flatMap(BundleEndpointSettings::httpsWeb).ifPresent(web ->
                check(web.certFile(), web.keyFile(), file, BUNDLE_ENDPOINT_KEY + ".profile.https_web", errors));
        settings.oidcDiscovery().ifPresent(oidc ->
                check(oidc.certFile(), oidc.keyFile(), file, OIDC_KEY, errors));
        return errors;
    }

    private static void check(java.nio.file.Path cert, java.nio.file.Path key, String file, String block,
            List<ConfigError> errors) {
        try {
            ServingCertificateFiles.read(cert, key);
        } catch (ServingCertificateFiles.Unusable e) {
            errors.add(new ConfigError(file, block + (e.isKeyFile() ? ".key_file" : ".cert_file"), e.getMessage()));
        }
    }

    /**
     * Starts the configured listeners; on failure, closes what started.
     *
     * @param serverSvid the server's current X.509-SVID, presented by the {@code https_spiffe} bundle endpoint
     * @throws IOException naming the listener that could not start and why
     */
    public static FederationEndpoints start(ServerSettings settings, CaManager ca,
            Supplier<TlsCredential> serverSvid, Clock clock) throws IOException {
        Objects.requireNonNull(ca, "ca");
        Optional<BundleEndpointServer> bundle = Optional.empty();
        try {
            if (settings.federation().bundleEndpoint().isPresent()) {
                BundleEndpointSettings endpoint = settings.federation().bundleEndpoint().get();
                Supplier<TlsCredential> credential = endpoint.httpsWeb().isPresent()
                        ? files(endpoint.httpsWeb().get(), BUNDLE_ENDPOINT_KEY)
                        : serverSvid;
                bundle = Optional.of(BundleEndpointServer.start(endpoint, ca::bundle, credential));
            }
            Optional<OidcDiscoveryServer> oidc = Optional.empty();
            if (settings.oidcDiscovery().isPresent()) {
                OidcDiscoverySettings discovery = settings.oidcDiscovery().get();
                oidc = Optional.of(OidcDiscoveryServer.start(discovery, settings.jwtIssuer().orElseThrow(),
                        ca::snapshot, files(new WebServingCertificate(discovery.certFile(), discovery.keyFile()),
                                OIDC_KEY), clock));
            }
            return new FederationEndpoints(bundle, oidc);
        } catch (IOException | RuntimeException e) {
            bundle.ifPresent(BundleEndpointServer::close);
            throw e;
        }
    }

    private static Supplier<TlsCredential> files(WebServingCertificate web, String key) throws IOException {
        try {
            return ServingCertificateFiles.load(web.certFile(), web.keyFile());
        } catch (ServingCertificateFiles.Unusable e) {
            throw new IOException(key + ": " + e.getMessage(), e);
        }
    }

    /** The bundle endpoint, when configured. */
    public Optional<BundleEndpointServer> bundleEndpoint() {
        return bundleEndpoint;
    }

    /** The OIDC discovery listener, when configured. */
    public Optional<OidcDiscoveryServer> oidcDiscovery() {
        return oidcDiscovery;
    }

    @Override
    public void close() {
        oidcDiscovery.ifPresent(OidcDiscoveryServer::close);
        bundleEndpoint.ifPresent(BundleEndpointServer::close);
    }
}
