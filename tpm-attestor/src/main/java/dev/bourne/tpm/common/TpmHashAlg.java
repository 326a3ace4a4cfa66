package dev.bourne.tpm.common;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Locale;
import java.util.Optional;

/**
 * The TPM hash algorithms Bourne accepts (TPM_ALG_ID, TCG Algorithm Registry): PCR banks, name algorithms, signature
 * hashes. The config name is what configuration files and the CLI use ({@code sha256}).
 */
public enum TpmHashAlg {
    SHA1(0x0004, "sha1", "SHA-1", 20),
    SHA256(0x000B, "sha256", "SHA-256", 32),
    SHA384(0x000C, "sha384", "SHA-384", 48),
    SHA512(0x000D, "sha512", "SHA-512", 64);

    private final int id;
    private final String configName;
    private final String jcaName;
    private final int digestLength;

    TpmHashAlg(int id, String configName, String jcaName, int digestLength) {
        this.id = id;
        this.configName = configName;
        this.jcaName = jcaName;
        this.digestLength = digestLength;
    }

    /** The TPM_ALG_ID. */
    public int id() {
        return id;
    }

    public String configName() {
        return configName;
    }

    public String jcaName() {
        return jcaName;
    }

    public int digestLength() {
        return digestLength;
    }

    /** A new digest for this algorithm; every one of them is mandatory in the JDK. */
    public MessageDigest newDigest() {
        try {
            return MessageDigest.getInstance(jcaName);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(jcaName + " is a mandatory JCA algorithm", e);
        }
    }

    public byte[] digest(byte[] data) {
        return newDigest().digest(data);
    }

    public static Optional<TpmHashAlg> fromId(int id) {
        for (TpmHashAlg alg : values()) {
            if (alg.id == id) {
                return Optional.of(alg);
            }
        }
        return Optional.empty();
    }

    public static Optional<TpmHashAlg> fromConfigName(String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        for (TpmHashAlg alg : values()) {
            if (alg.configName.equals(lower)) {
                return Optional.of(alg);
            }
        }
        return Optional.empty();
    }
}
