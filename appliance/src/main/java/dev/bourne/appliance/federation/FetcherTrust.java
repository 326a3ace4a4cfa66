package dev.bourne.appliance.federation;

import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * A bundle fetcher's trust manager: it only ever checks the servers it connects to, so every client check is refused.
 * Subclasses decide how a peer's server certificate is trusted ({@link EndpointSvidTrust}, {@link WebPkiTrust}).
 */
abstract class FetcherTrust extends X509ExtendedTrustManager {
    static final String CLIENT_REFUSED = "a bundle fetcher accepts no TLS clients";

    @Override
    public final void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        throw new CertificateException(CLIENT_REFUSED);
    }

    @Override
    public final void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
            throws CertificateException {
        throw new CertificateException(CLIENT_REFUSED);
    }

    @Override
    public final void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        throw new CertificateException(CLIENT_REFUSED);
    }
}
