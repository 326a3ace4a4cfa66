package dev.bourne.core.config;

import java.nio.file.Path;
import java.util.Objects;

/**
 * The {@code server { oidc_discovery { ... } }} block: an HTTPS listener serving an OpenID Connect discovery document
 * for {@code jwt_issuer} and the JWK set of the JWT-SVID signing keys, so relying parties that only speak OIDC (Vault's
 * JWT auth, cloud providers' workload identity federation) can verify JWT-SVIDs. HTTPS only: discovery consumers
 * take the keys they trust from this listener, so its certificate is what they trust.
 *
 * @param address IP address to listen on
 * @param port TCP port to listen on
 * @param certFile PEM certificate chain for the issuer's host name, leaf first
 * @param keyFile PEM private key of the leaf certificate (mode 0600 or 0640)
 * @see <a href="https://openid.net/specs/openid-connect-discovery-1_0.html">OpenID Connect Discovery 1.0</a>
 */
public record OidcDiscoverySettings(String address, int port, Path certFile, Path keyFile) {

    public static final String DEFAULT_ADDRESS = "0.0.0.0";
    public static final int DEFAULT_PORT = 8444;

    public OidcDiscoverySettings {
        Objects.requireNonNull(address, "address");
        Objects.requireNonNull(certFile, "certFile");
        Objects.requireNonNull(keyFile, "keyFile");
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port must be between 0 and 65535");
        }
    }

    /** These settings on another port (tests pass 0 for an ephemeral one). */
    public OidcDiscoverySettings withPort(int newPort) {
        return new OidcDiscoverySettings(address, newPort, certFile, keyFile);
    }
}
