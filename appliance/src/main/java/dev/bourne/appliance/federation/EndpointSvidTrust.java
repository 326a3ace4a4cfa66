package dev.bourne.appliance.federation;

import dev.bourne.core.bundle.BundleSource;
import dev.bourne.core.bundle.SpiffeBundle;
import dev.bourne.core.spiffeid.SpiffeId;
import dev.bourne.core.svid.x509.X509SvidException;
import dev.bourne.core.svid.x509.X509SvidVerifier;
import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Authenticates an {@code https_spiffe} bundle endpoint (SPIFFE Federation 5.2.2.4): its certificate must be an
 * X.509-SVID for the configured endpoint SPIFFE ID that chains to {@code endpointBundle}, the latest bundle of that
 * ID's trust domain (the bootstrap bundle before the first fetch). The SPIFFE ID replaces host name verification: the
 * endpoint is known by identity, not by DNS name, and being an {@link X509ExtendedTrustManager} this class keeps the
 * JDK from adding a host name check of its own.
 *
 * <p>One instance serves one fetch; the reason of the last refusal is kept so the fetch error can name it (the TLS
 * layer reports only "certificate_unknown").
 */
final class EndpointSvidTrust extends FetcherTrust {
    static final String WRONG_ENDPOINT_ID =
            "the endpoint presented an X.509-SVID for %s, not for the endpoint SPIFFE ID %s";
    static final String NOT_AN_SVID = "the endpoint certificate is not a valid X.509-SVID of %s: %s";

    private final SpiffeId endpointId;
    private final SpiffeBundle endpointBundle;
    private final Clock clock;
    private volatile String refusal;

    EndpointSvidTrust(SpiffeId endpointId, SpiffeBundle endpointBundle, Clock clock) {
        this.endpointId = Objects.requireNonNull(endpointId, "endpointId");
        this.endpointBundle = Objects.requireNonNull(endpointBundle, "endpointBundle");
        this.clock = Objects.requireNonNull(clock, "clock");
        if (!endpointBundle.trustDomain().equals(endpointId.trustDomain())) {
            throw new IllegalArgumentException("bundle of " + endpointBundle.trustDomain() + " given for "
                    + endpointId);
        }
    }

    /** Why the last handshake's certificate was refused; empty when none was. */
    Optional<String> refusal() {
        return Optional.ofNullable(refusal);
    }

    void verify(List<X509Certificate> chain) throws CertificateException {
        SpiffeId presented;
        try {
            // Only the endpoint trust domain's bundle is a source of anchors: a CA of another domain (ours, or another
            // peer's) can never vouch for this endpoint.
            presented = new X509SvidVerifier(BundleSource.of(endpointBundle), clock).verify(chain).spiffeId();
        } catch (X509SvidException e) {
            refusal = String.format(NOT_AN_SVID, endpointId.trustDomain(), e.getMessage());
            throw new CertificateException(refusal, e);
        }
        if (!presented.equals(endpointId)) {
            refusal = String.format(WRONG_ENDPOINT_ID, presented, endpointId);
            throw new CertificateException(refusal);
        }
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        verify(Arrays.asList(chain));
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
            throws CertificateException {
        verify(Arrays.asList(chain));
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        verify(Arrays.asList(chain));
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return endpointBundle.x509Authorities().toArray(new X509Certificate[0]);
    }
}
