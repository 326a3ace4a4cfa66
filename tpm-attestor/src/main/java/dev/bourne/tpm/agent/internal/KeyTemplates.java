package dev.bourne.tpm.agent.internal;

import java.util.HexFormat;
import tss.tpm.TPMA_OBJECT;
import tss.tpm.TPMS_ECC_PARMS;
import tss.tpm.TPMS_ECC_POINT;
import tss.tpm.TPMS_KEYEDHASH_PARMS;
import tss.tpm.TPMS_NULL_ASYM_SCHEME;
import tss.tpm.TPMS_NULL_KDF_SCHEME;
import tss.tpm.TPMS_NULL_SCHEME_KEYEDHASH;
import tss.tpm.TPMS_RSA_PARMS;
import tss.tpm.TPMS_SIG_SCHEME_ECDSA;
import tss.tpm.TPMS_SIG_SCHEME_RSASSA;
import tss.tpm.TPMT_PUBLIC;
import tss.tpm.TPMT_SYM_DEF_OBJECT;
import tss.tpm.TPM2B_DIGEST_KEYEDHASH;
import tss.tpm.TPM2B_PUBLIC_KEY_RSA;
import tss.tpm.TPM_ALG_ID;
import tss.tpm.TPM_ECC_CURVE;

/**
 * The key templates the agent asks the TPM for. The EK templates are the TCG EK Credential Profile's defaults
 * (version 2.3, templates L-1 and L-2), so a recreated EK equals the one the manufacturer certified; the SRK template
 * is the TCG TPM v2.0 Provisioning Guidance's ECC P-256 storage key.
 */
public final class KeyTemplates {

    /**
     * PolicySecret(TPM_RH_ENDORSEMENT) under SHA-256: the EK's authPolicy. Using the EK (as a parent, or for
     * ActivateCredential) therefore needs a policy session that ran PolicySecret on the endorsement hierarchy.
     */
    public static final byte[] EK_AUTH_POLICY = HexFormat.of().parseHex(
            "837197674484b3f81a90cc8d46a5d724fd52d76e06520b64f2a1da1b331469aa");

    private static final TPMA_OBJECT EK_ATTRIBUTES = new TPMA_OBJECT(TPMA_OBJECT.fixedTPM, TPMA_OBJECT.fixedParent,
            TPMA_OBJECT.sensitiveDataOrigin, TPMA_OBJECT.adminWithPolicy, TPMA_OBJECT.restricted,
            TPMA_OBJECT.decrypt);

    /** What an attestation key must have: a restricted signing key that never leaves this TPM. */
    public static final TPMA_OBJECT AK_ATTRIBUTES = new TPMA_OBJECT(TPMA_OBJECT.fixedTPM, TPMA_OBJECT.fixedParent,
            TPMA_OBJECT.sensitiveDataOrigin, TPMA_OBJECT.userWithAuth, TPMA_OBJECT.restricted, TPMA_OBJECT.sign);

    private KeyTemplates() {
    }

    private static TPMT_SYM_DEF_OBJECT aes128Cfb() {
        return new TPMT_SYM_DEF_OBJECT(TPM_ALG_ID.AES, 128, TPM_ALG_ID.CFB);
    }

    /** Template L-1: RSA 2048, AES-128-CFB, unique = 256 zero bytes. */
    public static TPMT_PUBLIC rsaEk() {
        return new TPMT_PUBLIC(TPM_ALG_ID.SHA256, EK_ATTRIBUTES, EK_AUTH_POLICY,
                new TPMS_RSA_PARMS(aes128Cfb(), new TPMS_NULL_ASYM_SCHEME(), 2048, 0),
                new TPM2B_PUBLIC_KEY_RSA(new byte[256]));
    }

    /** Template L-2: ECC NIST P-256, AES-128-CFB, unique = two 32-byte zero coordinates. */
    public static TPMT_PUBLIC eccEk() {
        return new TPMT_PUBLIC(TPM_ALG_ID.SHA256, EK_ATTRIBUTES, EK_AUTH_POLICY,
                new TPMS_ECC_PARMS(aes128Cfb(), new TPMS_NULL_ASYM_SCHEME(), TPM_ECC_CURVE.NIST_P256,
                        new TPMS_NULL_KDF_SCHEME()),
                new TPMS_ECC_POINT(new byte[32], new byte[32]));
    }

    /** A restricted ECDSA-SHA256 signing key on NIST P-256. */
    public static TPMT_PUBLIC eccAk() {
        return new TPMT_PUBLIC(TPM_ALG_ID.SHA256, AK_ATTRIBUTES, new byte[0],
                new TPMS_ECC_PARMS(TPMT_SYM_DEF_OBJECT.nullObject(), new TPMS_SIG_SCHEME_ECDSA(TPM_ALG_ID.SHA256),
                        TPM_ECC_CURVE.NIST_P256, new TPMS_NULL_KDF_SCHEME()),
                new TPMS_ECC_POINT(new byte[0], new byte[0]));
    }

    /** A restricted RSASSA-PKCS1-v1_5-SHA256 signing key, 2048 bits. */
    public static TPMT_PUBLIC rsaAk() {
        return new TPMT_PUBLIC(TPM_ALG_ID.SHA256, AK_ATTRIBUTES, new byte[0],
                new TPMS_RSA_PARMS(TPMT_SYM_DEF_OBJECT.nullObject(), new TPMS_SIG_SCHEME_RSASSA(TPM_ALG_ID.SHA256),
                        2048, 0),
                new TPM2B_PUBLIC_KEY_RSA(new byte[0]));
    }

    /** The storage root key for sealing: ECC P-256, AES-128-CFB, owner hierarchy, no dictionary-attack lockout. */
    public static TPMT_PUBLIC eccSrk() {
        TPMA_OBJECT attributes = new TPMA_OBJECT(TPMA_OBJECT.fixedTPM, TPMA_OBJECT.fixedParent,
                TPMA_OBJECT.sensitiveDataOrigin, TPMA_OBJECT.userWithAuth, TPMA_OBJECT.noDA, TPMA_OBJECT.restricted,
                TPMA_OBJECT.decrypt);
        return new TPMT_PUBLIC(TPM_ALG_ID.SHA256, attributes, new byte[0],
                new TPMS_ECC_PARMS(aes128Cfb(), new TPMS_NULL_ASYM_SCHEME(), TPM_ECC_CURVE.NIST_P256,
                        new TPMS_NULL_KDF_SCHEME()),
                new TPMS_ECC_POINT(new byte[0], new byte[0]));
    }

    /**
     * A sealed data object: keyed-hash, no scheme, fixedTPM and fixedParent, authorised only by {@code authPolicy}
     * (no userWithAuth, so knowing the empty auth value is not enough).
     */
    public static TPMT_PUBLIC sealedData(byte[] authPolicy) {
        TPMA_OBJECT attributes = new TPMA_OBJECT(TPMA_OBJECT.fixedTPM, TPMA_OBJECT.fixedParent);
        return new TPMT_PUBLIC(TPM_ALG_ID.SHA256, attributes, authPolicy,
                new TPMS_KEYEDHASH_PARMS(new TPMS_NULL_SCHEME_KEYEDHASH()), new TPM2B_DIGEST_KEYEDHASH(new byte[0]));
    }
}
