package dev.bourne.appliance.federation;

import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Authenticates an {@code https_web} bundle endpoint (SPIFFE Federation 5.2.1.4, RFC 6125): the JDK's PKIX trust
 * manager over the system's CA certificates, then over the operator's extra CA certificates when some are configured
 * (a private PKI, or tests). Each delegate is the JDK's own {@link X509ExtendedTrustManager}, which also checks the
 * certificate's names against the URL's host, since the HTTP client asks for {@code HTTPS} endpoint identification.
 */
final class WebPkiTrust extends FetcherTrust {

    private final List<X509ExtendedTrustManager> delegates;
    private volatile String refusal;

    private WebPkiTrust(List<X509ExtendedTrustManager> delegates) {
        this.delegates = List.copyOf(delegates);
    }

    /**
     * The system's trust, then {@code extraRoots} (if any).
     *
     * @throws GeneralSecurityException when the JDK's trust manager cannot be built
     */
    static WebPkiTrust create(List<X509Certificate> extraRoots) throws GeneralSecurityException {
        List<X509ExtendedTrustManager> delegates = new ArrayList<>();
        delegates.add(pkix(null));
        if (!extraRoots.isEmpty()) {
            KeyStore store = KeyStore.getInstance("PKCS12");
            try {
                store.load(null, null);
            } catch (java.io.IOException e) {
                throw new GeneralSecurityException("cannot create an in-memory key store", e);
            }
            for (int i = 0; i < extraRoots.size(); i++) {
                store.setCertificateEntry("extra-" + i, extraRoots.get(i));
            }
            delegates.add(pkix(store));
        }
        return new WebPkiTrust(delegates);
    }

    private static X509ExtendedTrustManager pkix(KeyStore anchors) throws GeneralSecurityException {
        TrustManagerFactory factory = TrustManagerFactory.getInstance("PKIX");
        factory.init(anchors);
        for (TrustManager manager : factory.getTrustManagers()) {
            if (manager instanceof X509ExtendedTrustManager extended) {
                return extended;
            }
        }
        throw new GeneralSecurityException("the JDK offers no X509ExtendedTrustManager");
    }

    /** Why the last handshake's certificate was refused; empty when none was. */
    Optional<String> refusal() {
        return Optional.ofNullable(refusal);
    }

    @FunctionalInterface
    private interface Check {
        void run(X509ExtendedTrustManager delegate) throws CertificateException;
    }

    private void anyOf(Check check) throws CertificateException {
        CertificateException last = null;
        for (X509ExtendedTrustManager delegate : delegates) {
            try {
                check.run(delegate);
                return;
            } catch (CertificateException e) {
                last = e;
            }
        }
        refusal = last.getMessage();
        throw last;
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        anyOf(d -> d.checkServerTrusted(chain, authType));
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
            throws CertificateException {
        anyOf(d -> d.checkServerTrusted(chain, authType, socket));
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        anyOf(d -> d.checkServerTrusted(chain, authType, engine));
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        List<X509Certificate> all = new ArrayList<>();
        delegates.forEach(d -> all.addAll(List.of(d.getAcceptedIssuers())));
        return all.toArray(new X509Certificate[0]);
    }
}
