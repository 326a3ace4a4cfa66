package dev.bourne.openstack.server;

import dev.bourne.core.config.ConfigSecret;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * How the server reaches Nova for the optional Nova check: Keystone v3 ({@code identity_url}, such as
 * {@code https://keystone.example.org:5000/v3}) authenticated with a password or an application credential, then the
 * compute endpoint from the token's service catalog (type {@code compute}, the configured interface and region), or
 * {@code compute_url} when set.
 *
 * @param identityUrl the Keystone v3 base URL (ends with {@code /v3})
 * @param auth how to authenticate
 * @param region the catalog region to use, or empty for the first compute endpoint of the interface
 * @param endpointInterface {@code public}, {@code internal} or {@code admin}
 * @param computeUrl a compute endpoint overriding the catalog's
 * @param caFile PEM CA certificates to trust for Keystone and Nova instead of the system's
 * @param timeout the connect and read timeout of each HTTP call
 */
public record NovaSettings(URI identityUrl, Auth auth, Optional<String> region, String endpointInterface,
        Optional<URI> computeUrl, Optional<Path> caFile, Duration timeout) {

    public NovaSettings {
        Objects.requireNonNull(identityUrl, "identityUrl");
        Objects.requireNonNull(auth, "auth");
        Objects.requireNonNull(region, "region");
        Objects.requireNonNull(endpointInterface, "endpointInterface");
        Objects.requireNonNull(computeUrl, "computeUrl");
        Objects.requireNonNull(caFile, "caFile");
        Objects.requireNonNull(timeout, "timeout");
    }

    /** Keystone v3 authentication methods. */
    public sealed interface Auth permits PasswordAuth, ApplicationCredentialAuth {
    }

    /**
     * {@code password} authentication scoped to a project (the project must hold a role that may show any server, such
     * as {@code admin} or a reader role allowed by Nova's policy).
     */
    public record PasswordAuth(String username, String userDomain, ConfigSecret password, String project,
            String projectDomain) implements Auth {
        public PasswordAuth {
            Objects.requireNonNull(username, "username");
            Objects.requireNonNull(userDomain, "userDomain");
            Objects.requireNonNull(password, "password");
            Objects.requireNonNull(project, "project");
            Objects.requireNonNull(projectDomain, "projectDomain");
        }
    }

    /** {@code application_credential} authentication (scoped by the credential itself). */
    public record ApplicationCredentialAuth(String id, ConfigSecret secret) implements Auth {
        public ApplicationCredentialAuth {
            Objects.requireNonNull(id, "id");
            Objects.requireNonNull(secret, "secret");
        }
    }
}
