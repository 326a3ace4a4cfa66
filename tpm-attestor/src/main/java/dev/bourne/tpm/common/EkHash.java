package dev.bourne.tpm.common;

import java.security.PublicKey;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The EK hash that names a TPM node: lowercase hex SHA-256 of the EK public key's DER SubjectPublicKeyInfo (the value
 * spire-tpm-plugin's {@code get_tpm_pubhash} prints; anyone computes it with
 * {@code openssl pkey -pubin -outform DER | sha256sum}). Agent IDs are {@code spiffe://<td>/spire/agent/tpm/<ek-hash>}.
 */
public final class EkHash {
    public static final String MALFORMED = "EK hash must be 64 hexadecimal digits (SHA-256)";
    private static final Pattern HEX64 = Pattern.compile("[0-9a-fA-F]{64}");

    private EkHash() {
    }

    /** The EK hash of a public key (its X.509 SubjectPublicKeyInfo encoding). */
    public static String of(PublicKey ekPublicKey) {
        Objects.requireNonNull(ekPublicKey, "ekPublicKey");
        byte[] spki = ekPublicKey.getEncoded();
        if (spki == null || !"X.509".equals(ekPublicKey.getFormat())) {
            throw new IllegalArgumentException("EK public key has no X.509 SubjectPublicKeyInfo encoding");
        }
        return HexFormat.of().formatHex(TpmHashAlg.SHA256.digest(spki));
    }

    /**
     * A hash as an operator typed it, normalised to lowercase.
     *
     * @throws IllegalArgumentException {@link #MALFORMED} unless it is 64 hex digits
     */
    public static String parse(String text) {
        if (text == null || !HEX64.matcher(text).matches()) {
            throw new IllegalArgumentException(MALFORMED);
        }
        return text.toLowerCase(Locale.ROOT);
    }
}
