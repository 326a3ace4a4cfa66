package dev.bourne.testing.tpm;

import java.security.cert.X509Certificate;
import java.util.Objects;

/**
 * The certificates of the swtpm-localca that signed a manufactured TPM's EK certificates: the self-signed root
 * ({@code swtpm-localca-rootca-cert.pem}) and the intermediate issuer ({@code issuercert.pem}) that signs EK and
 * platform certificates. A verifier trusts {@code root} and receives {@code issuer} as an intermediate, as it would a
 * real TPM manufacturer's CA chain.
 */
public record LocalCaCertificates(X509Certificate root, X509Certificate issuer) {

    /** Both certificates are required. */
    public LocalCaCertificates {
        Objects.requireNonNull(root, "root");
        Objects.requireNonNull(issuer, "issuer");
    }
}
