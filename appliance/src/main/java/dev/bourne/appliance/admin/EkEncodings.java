package dev.bourne.appliance.admin;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;

/**
 * The encodings a TPM's endorsement key (EK) is enrolled from: its X.509 certificate (DER, as read from the TPM's NV
 * index) or its public key (DER SubjectPublicKeyInfo, as {@code tpm2_createek -f der} or {@code openssl pkey -pubin
 * -outform DER} write it). Shared by the admin API, which computes the EK hash from them, and the CLI, which checks its
 * files before calling.
 *
 * <p>Only canonical DER is accepted: the bytes must be exactly what the parsed object re-encodes to. So the EK hash,
 * computed over the key's encoding, always equals {@code sha256sum} of the DER an operator holds. Sizes are bounded
 * before parsing, and parser failures of any kind (including runtime exceptions from hostile input) become one
 * constant message that never quotes the input: a private key sent by mistake is not echoed anywhere.
 */
public final class EkEncodings {
    /** Real EK certificates are 1 to 2 KiB; 16 KiB leaves room for long extensions. */
    public static final int MAX_CERTIFICATE_BYTES = 16 * 1024;
    /** An RSA-16384 SubjectPublicKeyInfo is about 2.1 KiB. */
    public static final int MAX_PUBLIC_KEY_BYTES = 4096;

    public static final String CERTIFICATE_TOO_LARGE = "is larger than " + MAX_CERTIFICATE_BYTES + " bytes";
    public static final String CERTIFICATE_INVALID = "is not a DER X.509 certificate";
    public static final String CERTIFICATE_KEY_INVALID = "holds no RSA or EC public key";
    public static final String PUBLIC_KEY_TOO_LARGE = "is larger than " + MAX_PUBLIC_KEY_BYTES + " bytes";
    public static final String PUBLIC_KEY_INVALID = "is not a DER SubjectPublicKeyInfo of an RSA or EC key";

    private static final List<String> KEY_ALGORITHMS = List.of("RSA", "EC");

    private EkEncodings() {
    }

    /**
     * Parses a DER EK certificate.
     *
     * @throws IllegalArgumentException {@link #CERTIFICATE_TOO_LARGE}, {@link #CERTIFICATE_INVALID} or
     *     {@link #CERTIFICATE_KEY_INVALID}
     */
    public static X509Certificate certificate(byte[] der) {
        if (der.length > MAX_CERTIFICATE_BYTES) {
            throw new IllegalArgumentException(CERTIFICATE_TOO_LARGE);
        }
        // CertificateFactory also takes PEM and ignores trailing bytes: insist on one DER SEQUENCE, exactly.
        if (der.length == 0 || der[0] != 0x30) {
            throw new IllegalArgumentException(CERTIFICATE_INVALID);
        }
        X509Certificate certificate;
        try {
            certificate = (X509Certificate) CertificateFactory.getInstance("X.509")
                    .generateCertificate(new ByteArrayInputStream(der));
            if (!Arrays.equals(certificate.getEncoded(), der)) {
                throw new IllegalArgumentException(CERTIFICATE_INVALID);
            }
        } catch (GeneralSecurityException | RuntimeException e) {
            throw new IllegalArgumentException(CERTIFICATE_INVALID);
        }
        PublicKey key = certificate.getPublicKey();
        if (key == null || !KEY_ALGORITHMS.contains(key.getAlgorithm()) || !"X.509".equals(key.getFormat())) {
            throw new IllegalArgumentException(CERTIFICATE_KEY_INVALID);
        }
        return certificate;
    }

    /**
     * Parses a DER SubjectPublicKeyInfo of an RSA or EC key.
     *
     * @throws IllegalArgumentException {@link #PUBLIC_KEY_TOO_LARGE} or {@link #PUBLIC_KEY_INVALID}
     */
    public static PublicKey publicKey(byte[] der) {
        if (der.length > MAX_PUBLIC_KEY_BYTES) {
            throw new IllegalArgumentException(PUBLIC_KEY_TOO_LARGE);
        }
        if (der.length == 0 || der[0] != 0x30) {
            throw new IllegalArgumentException(PUBLIC_KEY_INVALID);
        }
        for (String algorithm : KEY_ALGORITHMS) {
            try {
                PublicKey key = KeyFactory.getInstance(algorithm).generatePublic(new X509EncodedKeySpec(der));
                if (Arrays.equals(key.getEncoded(), der)) {
                    return key;
                }
            } catch (GeneralSecurityException | RuntimeException e) {
                // Not this algorithm (or not a key at all): try the next, then refuse without quoting the input.
            }
        }
        throw new IllegalArgumentException(PUBLIC_KEY_INVALID);
    }

    /** The certificate as one PEM block with 64-character lines, as stored with the enrolment. */
    public static String pem(X509Certificate certificate) {
        try {
            return "-----BEGIN CERTIFICATE-----\n"
                    + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                            .encodeToString(certificate.getEncoded())
                    + "\n-----END CERTIFICATE-----\n";
        } catch (java.security.cert.CertificateEncodingException e) {
            throw new IllegalStateException("a parsed certificate has no encoding", e);
        }
    }
}
