package dev.bourne.appliance.datastore;

import dev.bourne.core.spiffeid.SpiffeId;
import java.util.Objects;

/**
 * How a federation peer's bundle endpoint is authenticated (SPIFFE Federation 5.2): {@link HttpsWeb} by the Web PKI
 * with host name verification, or {@link HttpsSpiffe} by the endpoint's X.509-SVID, which must carry the configured
 * SPIFFE ID and chain to the latest bundle of that ID's trust domain.
 *
 * @see <a href="https://github.com/spiffe/spiffe/blob/main/standards/SPIFFE_Federation.md#52-endpoint-profiles">Federation 5.2</a>
 */
public sealed interface BundleEndpointProfile {
    /** The profile names of the specification, as configuration and the CLI spell them. */
    String HTTPS_WEB = "https_web";
    String HTTPS_SPIFFE = "https_spiffe";

    /** {@value #HTTPS_WEB} or {@value #HTTPS_SPIFFE}. */
    String profileName();

    /** Web PKI: the system's CAs (and any configured extra CA) and the URL's host name (Federation 5.2.1). */
    record HttpsWeb() implements BundleEndpointProfile {
        @Override
        public String profileName() {
            return HTTPS_WEB;
        }
    }

    /**
     * SPIFFE authentication (Federation 5.2.2): the endpoint presents an X.509-SVID for {@code endpointSpiffeId}. The
     * ID may be in the federated trust domain (a self-serving endpoint) or in another one whose bundle this server
     * already holds (5.2.2.2).
     */
    record HttpsSpiffe(SpiffeId endpointSpiffeId) implements BundleEndpointProfile {
        public HttpsSpiffe {
            Objects.requireNonNull(endpointSpiffeId, "endpointSpiffeId");
        }

        @Override
        public String profileName() {
            return HTTPS_SPIFFE;
        }
    }
}
