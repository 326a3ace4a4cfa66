package dev.bourne.tpm.common;

import java.util.Objects;

/**
 * A key's signing scheme from its public area (TPMT_RSA_SCHEME or TPMT_ECC_SCHEME with a hash): the algorithm a
 * restricted key signs with, and the hash it uses.
 *
 * @param alg the TPM_ALG_ID of the scheme ({@link #RSASSA}, {@link #RSAPSS}, {@link #ECDSA}, or another signing
 *     scheme such as ECDAA that the verifier does not accept)
 * @param hash the scheme's hash algorithm
 */
public record SigScheme(int alg, TpmHashAlg hash) {
    /** TPM_ALG_RSASSA: RSASSA-PKCS1-v1_5. */
    public static final int RSASSA = 0x0014;
    /** TPM_ALG_RSAPSS: RSASSA-PSS. */
    public static final int RSAPSS = 0x0016;
    /** TPM_ALG_ECDSA. */
    public static final int ECDSA = 0x0018;
    /** TPM_ALG_ECDAA (anonymous attestation; its count field is skipped). */
    public static final int ECDAA = 0x001A;
    /** TPM_ALG_SM2. */
    public static final int SM2 = 0x001B;
    /** TPM_ALG_ECSCHNORR. */
    public static final int ECSCHNORR = 0x001C;

    public SigScheme {
        Objects.requireNonNull(hash, "hash");
    }
}
