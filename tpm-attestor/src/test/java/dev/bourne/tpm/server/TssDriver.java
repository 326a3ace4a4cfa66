package dev.bourne.tpm.server;

import java.util.Arrays;
import tss.Tpm;
import tss.tpm.CreatePrimaryResponse;
import tss.tpm.StartAuthSessionResponse;
import tss.tpm.TPMA_OBJECT;
import tss.tpm.TPMS_ECC_PARMS;
import tss.tpm.TPMS_ECC_POINT;
import tss.tpm.TPMS_ID_OBJECT;
import tss.tpm.TPMS_NULL_KDF_SCHEME;
import tss.tpm.TPMS_PCR_SELECTION;
import tss.tpm.TPMS_SENSITIVE_CREATE;
import tss.tpm.TPMS_SIG_SCHEME_ECDSA;
import tss.tpm.TPMT_PUBLIC;
import tss.tpm.TPMT_SYM_DEF;
import tss.tpm.TPMT_SYM_DEF_OBJECT;
import tss.tpm.TPM_ALG_ID;
import tss.tpm.TPM_ECC_CURVE;
import tss.tpm.TPM_HANDLE;
import tss.tpm.TPM_RH;
import tss.tpm.TPM_SE;

/**
 * The few raw TPM commands the server tests need beyond what the agent does: reading another EK's public area, making
 * a key the agent never would (a non-restricted signing key), activating a credential with an arbitrary EK and key,
 * and giving a second swtpm an endorsement seed of its own. TSS.Java as a command layer only; flushes what it loads.
 */
final class TssDriver {

    /** swtpm's persistent ECC NIST P-384 EK. */
    static final int SWTPM_ECC_EK = 0x81010016;
    static final int SWTPM_RSA_EK = 0x81010001;

    private TssDriver() {
    }

    /** The TPMT_PUBLIC at a handle, as the TPM marshals it. */
    static byte[] publicArea(Tpm tpm, int handle) {
        return tpm.ReadPublic(new TPM_HANDLE(handle)).outPublic.toBytes();
    }

    /** A transient key and its public area. */
    record Key(TPM_HANDLE handle, byte[] publicArea) {
    }

    /**
     * A NON-restricted ECDSA P-256 signing key in the TPM (owner hierarchy primary): fixedTPM and all, but it signs
     * anything, including data that looks like a TPMS_ATTEST, so it must never be accepted as an AK. Flush it.
     */
    static Key unrestrictedSigningKey(Tpm tpm) {
        TPMA_OBJECT attributes = new TPMA_OBJECT(TPMA_OBJECT.fixedTPM, TPMA_OBJECT.fixedParent,
                TPMA_OBJECT.sensitiveDataOrigin, TPMA_OBJECT.userWithAuth, TPMA_OBJECT.sign);
        TPMT_PUBLIC template = new TPMT_PUBLIC(TPM_ALG_ID.SHA256, attributes, new byte[0],
                new TPMS_ECC_PARMS(TPMT_SYM_DEF_OBJECT.nullObject(), new TPMS_SIG_SCHEME_ECDSA(TPM_ALG_ID.SHA256),
                        TPM_ECC_CURVE.NIST_P256, new TPMS_NULL_KDF_SCHEME()),
                new TPMS_ECC_POINT(new byte[0], new byte[0]));
        CreatePrimaryResponse created = tpm.CreatePrimary(TPM_HANDLE.from(TPM_RH.OWNER),
                new TPMS_SENSITIVE_CREATE(new byte[0], new byte[0]), template, new byte[0], new TPMS_PCR_SELECTION[0]);
        return new Key(created.handle, created.outPublic.toBytes());
    }

    /**
     * TPM2_ActivateCredential with {@code activateHandle} (the key the credential names) and the EK at
     * {@code ekHandle} (USER role). A low-range EK (no userWithAuth) is authorised by a PolicySecret(TPM_RH_ENDORSEMENT)
     * session of its name algorithm, flushed afterwards; swtpm's high-range P-384 EK (userWithAuth, PolicyOR policy)
     * by its empty auth value.
     */
    static byte[] activate(Tpm tpm, TPM_HANDLE activateHandle, int ekHandle, byte[] credentialBlob,
            byte[] encryptedSecret) {
        int hmacSize = ((credentialBlob[0] & 0xff) << 8) | (credentialBlob[1] & 0xff);
        TPMS_ID_OBJECT idObject = new TPMS_ID_OBJECT(Arrays.copyOfRange(credentialBlob, 2, 2 + hmacSize),
                Arrays.copyOfRange(credentialBlob, 2 + hmacSize, credentialBlob.length));
        TPMT_PUBLIC ek = tpm.ReadPublic(new TPM_HANDLE(ekHandle)).outPublic;
        if (ek.objectAttributes.hasAttr(TPMA_OBJECT.userWithAuth)) {
            return tpm._withSessions(TPM_HANDLE.pwSession(new byte[0]), TPM_HANDLE.pwSession(new byte[0]))
                    .ActivateCredential(activateHandle, new TPM_HANDLE(ekHandle), idObject, encryptedSecret);
        }
        StartAuthSessionResponse session = tpm.StartAuthSession(TPM_HANDLE.from(TPM_RH.NULL),
                TPM_HANDLE.from(TPM_RH.NULL), new byte[32], new byte[0], TPM_SE.POLICY,
                new TPMT_SYM_DEF(TPM_ALG_ID.NULL, 0, TPM_ALG_ID.NULL), ek.nameAlg);
        try {
            tpm.PolicySecret(TPM_HANDLE.from(TPM_RH.ENDORSEMENT), session.handle, new byte[0], new byte[0],
                    new byte[0], 0);
            return tpm._withSessions(TPM_HANDLE.pwSession(new byte[0]), session.handle)
                    .ActivateCredential(activateHandle, new TPM_HANDLE(ekHandle), idObject, encryptedSecret);
        } finally {
            tpm.FlushContext(session.handle);
        }
    }

    /**
     * TPM2_ChangeEPS with the (empty) platform authorisation swtpm starts with: a new endorsement primary seed, so the
     * same template now yields another EK, and the persistent EKs of the old seed are gone. Makes a copy of the shared
     * swtpm template a different TPM.
     */
    static void changeEndorsementSeed(Tpm tpm) {
        tpm.ChangeEPS(TPM_HANDLE.from(TPM_RH.PLATFORM));
    }
}
