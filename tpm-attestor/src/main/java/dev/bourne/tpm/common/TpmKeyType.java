package dev.bourne.tpm.common;

import java.util.Optional;

/**
 * The public-key types Bourne accepts in a TPMT_PUBLIC (TPMI_ALG_PUBLIC): RSA and ECC. Keyed-hash and symmetric
 * objects have no public key to certify or verify with, so every parser rejects them.
 */
public enum TpmKeyType {
    RSA(0x0001),
    ECC(0x0023);

    private final int id;

    TpmKeyType(int id) {
        this.id = id;
    }

    /** The TPM_ALG_ID. */
    public int id() {
        return id;
    }

    public static Optional<TpmKeyType> fromId(int id) {
        for (TpmKeyType type : values()) {
            if (type.id == id) {
                return Optional.of(type);
            }
        }
        return Optional.empty();
    }
}
