package dev.bourne.agent.node;

import dev.bourne.core.bundle.BundleSource;
import dev.bourne.core.bundle.SpiffeBundle;
import dev.bourne.core.spiffeid.SpiffeId;
import dev.bourne.core.spiffeid.TrustDomain;
import dev.bourne.core.svid.x509.X509Svid;
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
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Authenticates the Bourne server on the agent API: its TLS certificate must be the X.509-SVID
 * {@code spiffe://<td>/spire/server}, chaining to the trust domain's bundle. The SPIFFE ID replaces host-name
 * verification: the server is known by identity, not by DNS name.
 *
 * <p>The bundle is swapped atomically when the agent learns a new one from the server (CA rotation). Without a bundle
 * and with {@code insecure_bootstrap}, the first server reached is trusted blindly (its SPIFFE ID is still checked) and
 * every such handshake is logged as a warning: development only, as in SPIRE.
 */
public final class ServerTrust extends X509ExtendedTrustManager {
    public static final String NOT_THE_SERVER = "the peer's SVID is not the server's";
    public static final String NO_BUNDLE = "no trust bundle to verify the server against";

    private static final Logger LOG = LoggerFactory.getLogger(ServerTrust.class);

    private final SpiffeId serverId;
    private final Clock clock;
    private final boolean insecureBootstrap;
    private final AtomicReference<SpiffeBundle> bundle = new AtomicReference<>();

    /**
     * @param trustDomain the agent's trust domain
     * @param initial the bootstrap bundle ({@code trust_bundle_path} or the one persisted in data_dir), if any
     * @param insecureBootstrap trust the server without a bundle until one is set
     */
    public ServerTrust(TrustDomain trustDomain, Optional<SpiffeBundle> initial, boolean insecureBootstrap, Clock clock) {
        this.serverId = SpiffeId.of(trustDomain, "spire", "server");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.insecureBootstrap = insecureBootstrap;
        initial.ifPresent(this::setBundle);
    }

    /** Trusts {@code next} from now on (a bundle obtained from the server, after rotation). */
    public void setBundle(SpiffeBundle next) {
        if (!next.trustDomain().equals(serverId.trustDomain())) {
            throw new IllegalArgumentException("bundle of " + next.trustDomain() + " given for "
                    + serverId.trustDomain());
        }
        bundle.set(next);
    }

    /** The bundle the server is verified against, if any. */
    public Optional<SpiffeBundle> bundle() {
        return Optional.ofNullable(bundle.get());
    }

    /** Checks {@code chain} as the server's certificate chain. */
    public void verifyServer(List<X509Certificate> chain) throws CertificateException {
        SpiffeBundle current = bundle.get();
        try {
            if (current == null) {
                if (!insecureBootstrap) {
                    throw new CertificateException(NO_BUNDLE);
                }
                SpiffeId id = X509Svid.parse(chain).spiffeId();
                requireServer(id);
                // Development only: nothing authenticates this server, so every such handshake is logged.
                LOG.warn("insecure_bootstrap: trusting server {} without verifying its certificate chain", id);
                return;
            }
            requireServer(new X509SvidVerifier(BundleSource.of(current), clock).verify(chain).spiffeId());
        } catch (X509SvidException e) {
            throw new CertificateException("server certificate rejected: " + e.getMessage(), e);
        }
    }

    private void requireServer(SpiffeId id) throws CertificateException {
        if (!serverId.equals(id)) {
            throw new CertificateException(NOT_THE_SERVER + ": expected " + serverId + ", got " + id);
        }
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        verifyServer(Arrays.asList(chain));
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
            throws CertificateException {
        verifyServer(Arrays.asList(chain));
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        verifyServer(Arrays.asList(chain));
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        throw new CertificateException("the agent never accepts TLS clients");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
            throws CertificateException {
        throw new CertificateException("the agent never accepts TLS clients");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        throw new CertificateException("the agent never accepts TLS clients");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        SpiffeBundle current = bundle.get();
        return current == null ? new X509Certificate[0] : current.x509Authorities().toArray(new X509Certificate[0]);
    }
}
