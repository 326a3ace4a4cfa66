package dev.bourne.tpm.common;

/**
 * The TPMA_OBJECT bits Bourne reads (TCG TPM 2.0 Library Part 2, "TPMA_OBJECT"). An attestation key must be
 * {@link #RESTRICTED} (it signs only digests the TPM itself produced, such as quotes), {@link #SIGN_ENCRYPT} and not
 * {@link #DECRYPT}, and {@link #FIXED_TPM}, {@link #FIXED_PARENT} and {@link #SENSITIVE_DATA_ORIGIN} (its private key
 * was generated inside the TPM and can never leave it).
 */
public enum ObjectAttribute {
    FIXED_TPM(1 << 1),
    ST_CLEAR(1 << 2),
    FIXED_PARENT(1 << 4),
    SENSITIVE_DATA_ORIGIN(1 << 5),
    USER_WITH_AUTH(1 << 6),
    ADMIN_WITH_POLICY(1 << 7),
    NO_DA(1 << 10),
    ENCRYPTED_DUPLICATION(1 << 11),
    RESTRICTED(1 << 16),
    DECRYPT(1 << 17),
    SIGN_ENCRYPT(1 << 18);

    private final int mask;

    ObjectAttribute(int mask) {
        this.mask = mask;
    }

    /** The bit in TPMA_OBJECT. */
    public int mask() {
        return mask;
    }

    /** Whether {@code attributes} (a TPMA_OBJECT value) has this bit set. */
    public boolean in(int attributes) {
        return (attributes & mask) != 0;
    }
}
