package dev.bourne.core.config;

import java.nio.file.Path;
import java.util.Objects;

/**
 * The certificate chain and private key files of an HTTPS listener that presents a Web PKI certificate (the bundle
 * endpoint's {@code https_web} profile). The files are read by the listener, which checks that the key file is not
 * readable by others; here they are only names.
 *
 * @param certFile PEM certificates, the listener's own first, then its intermediates
 * @param keyFile the PEM private key of the first certificate (mode 0600 or 0640)
 */
public record WebServingCertificate(Path certFile, Path keyFile) {

    public WebServingCertificate {
        Objects.requireNonNull(certFile, "certFile");
        Objects.requireNonNull(keyFile, "keyFile");
    }
}
