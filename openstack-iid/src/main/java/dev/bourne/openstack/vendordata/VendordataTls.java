package dev.bourne.openstack.vendordata;

import dev.bourne.core.config.ConfigError;
import dev.bourne.core.config.ConfigResult;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;

/**
 * The TLS side of the signing service: its own certificate chain and key, and, when {@code client_ca_file} is set,
 * the CA certificates Nova's client certificate must chain to.
 *
 * <p>Only TLS 1.3 and 1.2 are offered, and under 1.2 only ECDHE key exchange with AEAD ciphers: Nova's requests
 * carry a bearer token, which must not cross a connection without forward secrecy or with CBC's padding oracles.
 *
 * <p>Client certificates are requested ("want"), not demanded at the handshake: the JWK set and the health
 * endpoints stay reachable without one (verifiers fetch the keys), while {@link CallerAuthenticator} refuses a
 * signing request whose connection has no verified client certificate. A certificate that does not chain to the
 * configured CAs is never verified (JSSE drops it when client authentication is only wanted), so it counts as none.
 */
public final class VendordataTls {
    /** TLS versions offered, newest first. */
    public static final List<String> PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");

    public static final String CHAIN_MISMATCH = "its first certificate is not the one of the key in tls_key_file (the "
            + "server's own certificate comes first, then its CAs)";
    public static final String KEY_UNSUPPORTED = "a key TLS cannot use here (EC or RSA only)";

    private final SSLContext context;
    private final boolean requestsClientCertificates;
    private final X509Certificate certificate;

    private VendordataTls(SSLContext context, boolean requestsClientCertificates, X509Certificate certificate) {
        this.context = context;
        this.requestsClientCertificates = requestsClientCertificates;
        this.certificate = certificate;
    }

    /**
     * Reads {@code tls_cert_file}, {@code tls_key_file} (a secret file: mode 0600 or 0640) and
     * {@code client_ca_file}, reporting each unusable file as an error of its key.
     */
    public static ConfigResult<VendordataTls> load(VendordataSettings settings, Path configFile) {
        Objects.requireNonNull(settings, "settings");
        List<ConfigError> errors = new ArrayList<>();
        List<X509Certificate> chain = List.of();
        PrivateKey key = null;
        try {
            chain = PemFiles.certificates(settings.tlsCertFile());
        } catch (PemFiles.Unusable e) {
            errors.add(error(configFile, VendordataSettings.TLS_CERT_FILE, settings.tlsCertFile(), e.getMessage()));
        }
        try {
            key = PemFiles.privateKey(settings.tlsKeyFile());
            if (!key.getAlgorithm().equals("EC") && !key.getAlgorithm().equals("RSA")) {
                errors.add(error(configFile, VendordataSettings.TLS_KEY_FILE, settings.tlsKeyFile(), KEY_UNSUPPORTED));
            }
        } catch (PemFiles.Unusable e) {
            errors.add(error(configFile, VendordataSettings.TLS_KEY_FILE, settings.tlsKeyFile(), e.getMessage()));
        }
        if (!chain.isEmpty() && key != null && !matches(chain.get(0).getPublicKey(), key)) {
            errors.add(error(configFile, VendordataSettings.TLS_CERT_FILE, settings.tlsCertFile(), CHAIN_MISMATCH));
        }
        Optional<List<X509Certificate>> clientCas = Optional.empty();
        if (settings.clientCaFile().isPresent()) {
            try {
                clientCas = Optional.of(PemFiles.certificates(settings.clientCaFile().get()));
            } catch (PemFiles.Unusable e) {
                errors.add(error(configFile, VendordataSettings.CLIENT_CA_FILE, settings.clientCaFile().get(),
                        e.getMessage()));
            }
        }
        if (!errors.isEmpty()) {
            return new ConfigResult.Invalid<>(errors);
        }
        try {
            return new ConfigResult.Valid<>(create(chain, key, clientCas), List.of());
        } catch (GeneralSecurityException e) {
            return new ConfigResult.Invalid<>(List.of(error(configFile, VendordataSettings.TLS_CERT_FILE,
                    settings.tlsCertFile(), "cannot be used for TLS: " + e.getMessage())));
        }
    }

    /**
     * TLS from a certificate chain (leaf first) and its key, requesting client certificates chaining to
     * {@code clientCas} when present.
     */
    public static VendordataTls create(List<X509Certificate> chain, PrivateKey key,
            Optional<List<X509Certificate>> clientCas) throws GeneralSecurityException {
        KeyStore identity = KeyStore.getInstance("PKCS12");
        try {
            identity.load(null, null);
        } catch (java.io.IOException e) {
            throw new GeneralSecurityException("cannot create an in-memory key store", e);
        }
        // An in-memory store only: the password protects nothing and never reaches a file.
        char[] password = new char[0];
        identity.setKeyEntry("tls", key, password, chain.toArray(new X509Certificate[0]));
        KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        keys.init(identity, password);
        TrustManager[] trust = null;
        if (clientCas.isPresent()) {
            KeyStore anchors = KeyStore.getInstance("PKCS12");
            try {
                anchors.load(null, null);
            } catch (java.io.IOException e) {
                throw new GeneralSecurityException("cannot create an in-memory trust store", e);
            }
            int i = 0;
            for (X509Certificate ca : clientCas.get()) {
                anchors.setCertificateEntry("client-ca-" + i++, ca);
            }
            TrustManagerFactory factory = TrustManagerFactory.getInstance("PKIX");
            factory.init(anchors);
            trust = factory.getTrustManagers();
        }
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(keys.getKeyManagers(), trust, new SecureRandom());
        return new VendordataTls(context, clientCas.isPresent(), chain.get(0));
    }

    /** The context the listener uses. */
    public SSLContext context() {
        return context;
    }

    /** Whether connections are asked for a client certificate (client_ca_file is set). */
    public boolean requestsClientCertificates() {
        return requestsClientCertificates;
    }

    /** The listener's own certificate. */
    public X509Certificate certificate() {
        return certificate;
    }

    /** The handshake parameters: TLS 1.3 and 1.2 only, forward-secret AEAD suites, client certificates wanted. */
    public SSLParameters parameters() {
        SSLParameters defaults = context.getDefaultSSLParameters();
        SSLParameters parameters = new SSLParameters();
        parameters.setProtocols(PROTOCOLS.toArray(new String[0]));
        parameters.setCipherSuites(Arrays.stream(defaults.getCipherSuites())
                .filter(VendordataTls::strongSuite).toArray(String[]::new));
        parameters.setWantClientAuth(requestsClientCertificates);
        return parameters;
    }

    /** TLS 1.3 suites (all AEAD, all forward secret) and TLS 1.2 ECDHE suites with GCM or ChaCha20-Poly1305. */
    static boolean strongSuite(String suite) {
        if (suite.startsWith("TLS_AES_") || suite.startsWith("TLS_CHACHA20_")) {
            return true;
        }
        return suite.startsWith("TLS_ECDHE_") && (suite.contains("_GCM_") || suite.contains("CHACHA20_POLY1305"));
    }

    private static boolean matches(PublicKey certificateKey, PrivateKey key) {
        // Prove the pair by a signature rather than comparing encodings: it holds for every encoding of the key.
        String algorithm = key.getAlgorithm().equals("EC") ? "SHA256withECDSA" : "SHA256withRSA";
        try {
            byte[] probe = "bourne-vendordata tls key check".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            java.security.Signature signer = java.security.Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(probe);
            byte[] signature = signer.sign();
            java.security.Signature verifier = java.security.Signature.getInstance(algorithm);
            verifier.initVerify(certificateKey);
            verifier.update(probe);
            return verifier.verify(signature);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    private static ConfigError error(Path configFile, String key, Path file, String reason) {
        return new ConfigError(configFile.toString(), VendordataSettings.BLOCK + "." + key, file + ": " + reason);
    }

    @Override
    public String toString() {
        return "VendordataTls[certificate=" + certificate.getSubjectX500Principal() + ", clientCertificates="
                + requestsClientCertificates + "]";
    }
}
