package dev.bourne.core.config;

import dev.bourne.core.config.internal.GoDuration;
import dev.bourne.core.config.internal.Suggestions;
import dev.bourne.core.config.internal.Values;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Reads the {@code federation} and {@code oidc_discovery} blocks of the {@code server} block into
 * {@link FederationSettings} and {@link OidcDiscoverySettings}, recording every problem in the reader.
 */
public final class FederationSections {

    public static final String FEDERATES_WITH_IN_FILE = "federation relationships are not configured in the file; create"
            + " them with bourne-server federation create";
    /** Format argument: the profile names. */
    public static final String PROFILE_NEEDS_LABEL = "a profile block needs a name label, such as profile \"https_web\""
            + " { cert_file = \"...\" key_file = \"...\" }";
    /** Format arguments: how many, which. */
    public static final String ONE_PROFILE = "exactly one profile is allowed, found %d (%s)";
    /** Format argument: the hint, with a leading space, or "". */
    public static final String UNKNOWN_PROFILE = "unknown bundle endpoint profile%s; known: https_spiffe, https_web";
    public static final String IP_ADDRESS = "must be an IP address such as \"0.0.0.0\" or \"::\", got string ";
    /** Format arguments: lowest, highest, value. */
    public static final String DURATION_RANGE = "must be between %s and %s, got %s";
    /** Format arguments: max_refresh_interval, min_refresh_interval. */
    public static final String MIN_ABOVE_MAX = "must not be more than max_refresh_interval (%s), got %s";
    public static final String OIDC_NEEDS_ISSUER = "requires server.jwt_issuer: the discovery document names it as"
            + " the issuer, and JWT-SVIDs must carry it as iss";
    public static final String OIDC_ISSUER_HTTPS = "must be an https URL when oidc_discovery is set: discovery"
            + " consumers fetch the signing keys from it";
    public static final String OIDC_ISSUER_PARTS = "must have no query, fragment or user info when oidc_discovery is"
            + " set (OpenID Connect Discovery 1.0, section 3)";
    /** Format arguments: the other listener's key. */
    public static final String PORT_TAKEN = "is the port of %s too; each listener needs its own";

    private static final List<String> PROFILES = List.of(BundleEndpointSettings.PROFILE_HTTPS_SPIFFE,
            BundleEndpointSettings.PROFILE_HTTPS_WEB);

    private FederationSections() {
    }

    /** The {@code federation} block, or the defaults when it is absent. */
    static FederationSettings federation(ConfigReader server) {
        Optional<ConfigReader> section = server.section("federation");
        if (section.isEmpty()) {
            return FederationSettings.DEFAULTS;
        }
        ConfigReader block = section.get();
        Optional<BundleEndpointSettings> endpoint = block.section("bundle_endpoint")
                .flatMap(FederationSections::bundleEndpoint);
        Duration min = boundedDuration(block, "min_refresh_interval", FederationSettings.DEFAULT_MIN_REFRESH_INTERVAL,
                FederationSettings.REFRESH_INTERVAL_FLOOR, FederationSettings.REFRESH_INTERVAL_CEILING);
        Duration max = boundedDuration(block, "max_refresh_interval", FederationSettings.DEFAULT_MAX_REFRESH_INTERVAL,
                FederationSettings.REFRESH_INTERVAL_FLOOR, FederationSettings.REFRESH_INTERVAL_CEILING);
        if (min.compareTo(max) > 0) {
            block.error("min_refresh_interval", String.format(MIN_ABOVE_MAX, GoDuration.format(max),
                    GoDuration.format(min)));
            min = max;
        }
        block.raw("federates_with");
        if (block.contains("federates_with")) {
            // SPIRE configures relationships here; Bourne keeps them in the datastore, so say where they went.
            block.error("federates_with", FEDERATES_WITH_IN_FILE);
        }
        block.rejectUnknownKeys();
        return new FederationSettings(endpoint, min, max);
    }

    private static Optional<BundleEndpointSettings> bundleEndpoint(ConfigReader block) {
        int errors = block.errors().size();
        String address = address(block, BundleEndpointSettings.DEFAULT_ADDRESS);
        int port = block.optionalPort("port", BundleEndpointSettings.DEFAULT_PORT);
        Duration hint = boundedDuration(block, "refresh_hint", BundleEndpointSettings.DEFAULT_REFRESH_HINT,
                BundleEndpointSettings.MIN_REFRESH_HINT, BundleEndpointSettings.MAX_REFRESH_HINT);
        Optional<WebServingCertificate> web = Optional.empty();
        Optional<ConfigReader> profiles = block.section("profile");
        if (profiles.isPresent()) {
            web = profile(profiles.get());
        }
        block.rejectUnknownKeys();
        if (block.errors().size() != errors) {
            return Optional.empty();
        }
        return Optional.of(new BundleEndpointSettings(address, port, hint, web));
    }

    /** The one {@code profile "name" { ... }} block: https_spiffe (empty result) or https_web with its files. */
    private static Optional<WebServingCertificate> profile(ConfigReader profiles) {
        if (profiles.keys().isEmpty() || profiles.keys().contains("cert_file") || profiles.keys().contains("key_file")) {
            profiles.error("", PROFILE_NEEDS_LABEL);
            return Optional.empty();
        }
        if (profiles.keys().size() > 1) {
            profiles.error("", String.format(ONE_PROFILE, profiles.keys().size(), String.join(", ", profiles.keys())));
            return Optional.empty();
        }
        String name = profiles.keys().iterator().next();
        if (!PROFILES.contains(name)) {
            profiles.raw(name);
            String hint = Suggestions.closest(name, PROFILES).map(s -> " (did you mean \"" + s + "\"?)").orElse("");
            profiles.error(name, String.format(UNKNOWN_PROFILE, hint));
            return Optional.empty();
        }
        Optional<ConfigReader> body = profiles.section(name);
        if (body.isEmpty()) {
            return Optional.empty();
        }
        ConfigReader profile = body.get();
        Optional<WebServingCertificate> web = Optional.empty();
        if (name.equals(BundleEndpointSettings.PROFILE_HTTPS_WEB)) {
            Optional<Path> cert = profile.requirePath("cert_file");
            Optional<Path> key = profile.requirePath("key_file");
            if (cert.isPresent() && key.isPresent()) {
                web = Optional.of(new WebServingCertificate(cert.get(), key.get()));
            }
        }
        profile.rejectUnknownKeys();
        return web;
    }

    /**
     * The {@code oidc_discovery} block, if present; checks that {@code jwt_issuer} is set and usable as an OIDC issuer.
     *
     * @param issuerPresent whether {@code jwt_issuer} was written at all (a malformed one is reported elsewhere)
     */
    static Optional<OidcDiscoverySettings> oidcDiscovery(ConfigReader server, boolean issuerPresent,
            Optional<URI> issuer) {
        Optional<ConfigReader> section = server.section("oidc_discovery");
        if (section.isEmpty()) {
            return Optional.empty();
        }
        ConfigReader block = section.get();
        int errors = block.errors().size();
        if (!issuerPresent) {
            block.error("", OIDC_NEEDS_ISSUER);
        } else if (issuer.isPresent()) {
            URI uri = issuer.get();
            if (!"https".equals(uri.getScheme())) {
                server.error("jwt_issuer", OIDC_ISSUER_HTTPS);
            } else if (uri.getRawQuery() != null || uri.getRawFragment() != null || uri.getRawUserInfo() != null) {
                server.error("jwt_issuer", OIDC_ISSUER_PARTS);
            }
        }
        String address = address(block, OidcDiscoverySettings.DEFAULT_ADDRESS);
        int port = block.optionalPort("port", OidcDiscoverySettings.DEFAULT_PORT);
        Optional<Path> cert = block.requirePath("cert_file");
        Optional<Path> key = block.requirePath("key_file");
        block.rejectUnknownKeys();
        if (block.errors().size() != errors || cert.isEmpty() || key.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(new OidcDiscoverySettings(address, port, cert.get(), key.get()));
    }

    /**
     * Reports listeners configured on one port: the agent API's {@code bind_port}, the bundle endpoint's and the OIDC
     * discovery listener's. A clash is an error even on different addresses, which is almost always a copy-paste slip.
     */
    static void checkPorts(ConfigReader server, int bindPort, FederationSettings federation,
            Optional<OidcDiscoverySettings> oidc) {
        Optional<Integer> bundlePort = federation.bundleEndpoint().map(BundleEndpointSettings::port);
        if (bundlePort.isPresent() && bundlePort.get() == bindPort) {
            server.error("federation.bundle_endpoint.port", String.format(PORT_TAKEN, "server.bind_port"));
        }
        if (oidc.isPresent()) {
            int port = oidc.get().port();
            if (port == bindPort) {
                server.error("oidc_discovery.port", String.format(PORT_TAKEN, "server.bind_port"));
            } else if (bundlePort.isPresent() && bundlePort.get() == port) {
                server.error("oidc_discovery.port", String.format(PORT_TAKEN,
                        "server.federation.bundle_endpoint.port"));
            }
        }
    }

    private static String address(ConfigReader block, String fallback) {
        Optional<String> address = block.optionalString("address");
        if (address.isPresent() && !ServerSettings.isIpLiteral(address.get())) {
            block.error("address", IP_ADDRESS + Values.quote(address.get()));
            return fallback;
        }
        return address.orElse(fallback);
    }

    private static Duration boundedDuration(ConfigReader block, String key, Duration fallback, Duration lowest,
            Duration highest) {
        int errors = block.errors().size();
        Duration value = block.optionalDuration(key, fallback);
        if (block.errors().size() != errors) {
            return fallback;
        }
        if (value.compareTo(lowest) < 0 || value.compareTo(highest) > 0) {
            block.error(key, String.format(DURATION_RANGE, GoDuration.format(lowest), GoDuration.format(highest),
                    GoDuration.format(value)));
            return fallback;
        }
        return value;
    }
}
