package dev.bourne.tpm.common;

import dev.bourne.testing.Exec;
import dev.bourne.testing.RequiredTool;
import dev.bourne.testing.tpm.Swtpm;
import dev.bourne.tpm.agent.AgentTpmException;
import dev.bourne.tpm.agent.internal.ResponseParameters;
import dev.bourne.tpm.agent.internal.TpmCommands;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import tss.tpm.PCR_ReadResponse;
import tss.tpm.TPMA_OBJECT;
import tss.tpm.TPMS_ECC_PARMS;
import tss.tpm.TPMS_ECC_POINT;
import tss.tpm.TPMS_ID_OBJECT;
import tss.tpm.TPMS_NULL_ASYM_SCHEME;
import tss.tpm.TPMS_NULL_KDF_SCHEME;
import tss.tpm.TPMS_NULL_SIG_SCHEME;
import tss.tpm.TPMS_PCR_SELECTION;
import tss.tpm.TPMS_RSA_PARMS;
import tss.tpm.TPMS_SENSITIVE_CREATE;
import tss.tpm.TPMS_SIG_SCHEME_ECDSA;
import tss.tpm.TPMS_SIG_SCHEME_RSAPSS;
import tss.tpm.TPMS_SIG_SCHEME_RSASSA;
import tss.tpm.TPMT_HA;
import tss.tpm.TPMT_PUBLIC;
import tss.tpm.TPMT_SYM_DEF;
import tss.tpm.TPMT_SYM_DEF_OBJECT;
import tss.tpm.TPMU_ASYM_SCHEME;
import tss.tpm.TPM2B_PUBLIC_KEY_RSA;
import tss.tpm.TPM_ALG_ID;
import tss.tpm.TPM_ECC_CURVE;
import tss.tpm.TPM_HANDLE;
import tss.tpm.TPM_RH;
import tss.tpm.TPM_SE;

/**
 * Raw TPM commands against a test's swtpm through TSS.Java as a command layer, returning TPM structures byte for byte
 * as the TPM sent them, plus tpm2-tools as an independent oracle. Every key is a transient primary: callers flush it.
 */
final class TpmDriver {

    static final int RSA_EK = 0x81010001;
    static final int ECC_P384_EK = 0x81010016;
    static final int ECC_P384_EK_CERTIFICATE = 0x01C00016;

    private static final SecureRandom RANDOM = new SecureRandom();
    private final Swtpm swtpm;
    private TpmCommands commands;

    TpmDriver(Swtpm swtpm) {
        this.swtpm = swtpm;
    }

    private TpmCommands commands() {
        if (commands == null) {
            commands = new TpmCommands(swtpm.device());
        }
        return commands;
    }

    /** A key the TPM made: its handle, public area exactly as returned, and the name the TPM computed. */
    record Key(TPM_HANDLE handle, byte[] publicArea, byte[] name) {
    }

    record RawQuote(byte[] attest, byte[] signature) {
    }

    // ------------------------------------------------------------------------------------------------------------
    // Templates

    static final TPMA_OBJECT AK_ATTRIBUTES = new TPMA_OBJECT(TPMA_OBJECT.fixedTPM, TPMA_OBJECT.fixedParent,
            TPMA_OBJECT.sensitiveDataOrigin, TPMA_OBJECT.userWithAuth, TPMA_OBJECT.restricted, TPMA_OBJECT.sign);

    static TPMT_PUBLIC eccAk(TPM_ECC_CURVE curve, TPM_ALG_ID hash) {
        return eccSigner(AK_ATTRIBUTES, curve, hash);
    }

    static TPMT_PUBLIC eccSigner(TPMA_OBJECT attributes, TPM_ECC_CURVE curve, TPM_ALG_ID hash) {
        return new TPMT_PUBLIC(TPM_ALG_ID.SHA256, attributes, new byte[0],
                new TPMS_ECC_PARMS(TPMT_SYM_DEF_OBJECT.nullObject(), new TPMS_SIG_SCHEME_ECDSA(hash), curve,
                        new TPMS_NULL_KDF_SCHEME()),
                new TPMS_ECC_POINT(new byte[0], new byte[0]));
    }

    static TPMT_PUBLIC rsaAk(int bits, boolean pss) {
        return rsaSigner(AK_ATTRIBUTES, bits, pss);
    }

    static TPMT_PUBLIC rsaSigner(TPMA_OBJECT attributes, int bits, boolean pss) {
        TPMU_ASYM_SCHEME scheme = pss ? new TPMS_SIG_SCHEME_RSAPSS(TPM_ALG_ID.SHA256)
                : new TPMS_SIG_SCHEME_RSASSA(TPM_ALG_ID.SHA256);
        return new TPMT_PUBLIC(TPM_ALG_ID.SHA256, attributes, new byte[0],
                new TPMS_RSA_PARMS(TPMT_SYM_DEF_OBJECT.nullObject(), scheme, bits, 0),
                new TPM2B_PUBLIC_KEY_RSA(new byte[0]));
    }

    /** A restricted decryption (storage) key: the shape of an SRK or EK, never an AK. */
    static TPMT_PUBLIC eccStorageKey() {
        TPMA_OBJECT attributes = new TPMA_OBJECT(TPMA_OBJECT.fixedTPM, TPMA_OBJECT.fixedParent,
                TPMA_OBJECT.sensitiveDataOrigin, TPMA_OBJECT.userWithAuth, TPMA_OBJECT.restricted,
                TPMA_OBJECT.decrypt);
        return new TPMT_PUBLIC(TPM_ALG_ID.SHA256, attributes, new byte[0],
                new TPMS_ECC_PARMS(new TPMT_SYM_DEF_OBJECT(TPM_ALG_ID.AES, 128, TPM_ALG_ID.CFB),
                        new TPMS_NULL_ASYM_SCHEME(), TPM_ECC_CURVE.NIST_P256, new TPMS_NULL_KDF_SCHEME()),
                new TPMS_ECC_POINT(new byte[0], new byte[0]));
    }

    // ------------------------------------------------------------------------------------------------------------
    // Commands

    /** TPM2_CreatePrimary in the endorsement hierarchy (empty auth on swtpm). */
    Key createPrimary(TPMT_PUBLIC template) throws AgentTpmException {
        TPM_HANDLE handle = commands().run("TPM2_CreatePrimary", () -> commands().tpm().CreatePrimary(
                TPM_HANDLE.from(TPM_RH.ENDORSEMENT), new TPMS_SENSITIVE_CREATE(new byte[0], new byte[0]), template,
                new byte[0], new TPMS_PCR_SELECTION[0])).handle;
        byte[] area = new ResponseParameters("TPM2_CreatePrimary",
                commands().lastResponseParameters("TPM2_CreatePrimary", 1)).nextSized("TPM2B_PUBLIC");
        return new Key(handle, area, readName(handle));
    }

    /** TPMT_PUBLIC of a loaded or persistent object, exactly as TPM2_ReadPublic returns it. */
    byte[] readPublic(int handle) throws AgentTpmException {
        commands().run("TPM2_ReadPublic", () -> commands().tpm().ReadPublic(new TPM_HANDLE(handle)));
        return new ResponseParameters("TPM2_ReadPublic", commands().lastResponseParameters("TPM2_ReadPublic", 0))
                .nextSized("TPM2B_PUBLIC");
    }

    /** The name the TPM reports for an object (TPM2_ReadPublic). */
    byte[] readName(TPM_HANDLE handle) throws AgentTpmException {
        ResponseParameters parameters = new ResponseParameters("TPM2_ReadPublic", readPublicResponse(handle));
        parameters.nextSized("TPM2B_PUBLIC");
        return parameters.nextSized("TPM2B_NAME");
    }

    private byte[] readPublicResponse(TPM_HANDLE handle) throws AgentTpmException {
        commands().run("TPM2_ReadPublic", () -> commands().tpm().ReadPublic(handle));
        return commands().lastResponseParameters("TPM2_ReadPublic", 0);
    }

    /** The contents of an NV index with AUTHREAD and an empty auth value (swtpm's EK certificates). */
    byte[] readNv(int index) throws AgentTpmException {
        TPM_HANDLE nv = new TPM_HANDLE(index);
        int size = commands().run("TPM2_NV_ReadPublic", () -> commands().tpm().NV_ReadPublic(nv)).nvPublic.dataSize;
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (int offset = 0; offset < size; offset += 512) {
            int length = Math.min(512, size - offset);
            int at = offset;
            out.writeBytes(commands().run("TPM2_NV_Read", () -> commands().tpm().NV_Read(nv, nv, length, at)));
        }
        return out.toByteArray();
    }

    RawQuote quote(TPM_HANDLE key, byte[] nonce, PcrSelection selection) throws AgentTpmException {
        commands().run("TPM2_Quote", () -> commands().tpm().Quote(key, nonce, new TPMS_NULL_SIG_SCHEME(),
                tssSelection(selection)));
        ResponseParameters parameters = new ResponseParameters("TPM2_Quote",
                commands().lastResponseParameters("TPM2_Quote", 0));
        byte[] attest = parameters.nextSized("TPM2B_ATTEST");
        return new RawQuote(attest, parameters.rest());
    }

    /** TPM2_Sign of a digest with an unrestricted key (null ticket): the TPMT_SIGNATURE as returned. */
    byte[] sign(TPM_HANDLE key, byte[] digest) throws AgentTpmException {
        commands().run("TPM2_Sign", () -> commands().tpm().Sign(key, digest, new TPMS_NULL_SIG_SCHEME(),
                new tss.tpm.TPMT_TK_HASHCHECK()));
        return commands().lastResponseParameters("TPM2_Sign", 0);
    }

    SortedMap<Integer, byte[]> readPcrs(PcrSelection selection) throws AgentTpmException {
        SortedMap<Integer, byte[]> values = new TreeMap<>();
        for (int pcr : selection.pcrs()) {
            PCR_ReadResponse read = commands().run("TPM2_PCR_Read", () -> commands().tpm().PCR_Read(
                    tssSelection(PcrSelection.of(selection.bank(), pcr))));
            values.put(pcr, read.pcrValues[0].buffer);
        }
        return values;
    }

    void extend(int pcr, byte[] sha256) throws AgentTpmException {
        commands().run("TPM2_PCR_Extend", () -> commands().tpm().PCR_Extend(new TPM_HANDLE(pcr),
                new TPMT_HA[] {new TPMT_HA(TPM_ALG_ID.SHA256, sha256)}));
    }

    /**
     * TPM2_ActivateCredential with {@code ak} and the EK at {@code ekHandle}. An EK from the low-range templates (L-1,
     * L-2: no userWithAuth) is authorized by a policy session of its nameAlg that ran PolicySecret(TPM_RH_ENDORSEMENT);
     * one from the high-range templates (swtpm's P-384 EK: template H-2 has userWithAuth and a PolicyOR authPolicy) by
     * its empty auth value in a password session.
     */
    byte[] activate(TPM_HANDLE ak, int ekHandle, TpmPublic ek, byte[] blob, byte[] encryptedSecret)
            throws AgentTpmException {
        int hmacSize = ((blob[0] & 0xff) << 8) | (blob[1] & 0xff);
        TPMS_ID_OBJECT id = new TPMS_ID_OBJECT(Arrays.copyOfRange(blob, 2, 2 + hmacSize),
                Arrays.copyOfRange(blob, 2 + hmacSize, blob.length));
        if (ek.has(ObjectAttribute.USER_WITH_AUTH)) {
            return commands().run("TPM2_ActivateCredential", () -> commands().tpm()
                    ._withSessions(TPM_HANDLE.pwSession(new byte[0]), TPM_HANDLE.pwSession(new byte[0]))
                    .ActivateCredential(ak, new TPM_HANDLE(ekHandle), id, encryptedSecret));
        }
        byte[] nonce = new byte[32];
        RANDOM.nextBytes(nonce);
        TPM_HANDLE session = commands().run("TPM2_StartAuthSession", () -> commands().tpm().StartAuthSession(
                TPM_HANDLE.from(TPM_RH.NULL), TPM_HANDLE.from(TPM_RH.NULL), nonce, new byte[0], TPM_SE.POLICY,
                new TPMT_SYM_DEF(TPM_ALG_ID.NULL, 0, TPM_ALG_ID.NULL), TPM_ALG_ID.fromInt(ek.nameAlg().id())))
                .handle;
        try {
            commands().run("TPM2_PolicySecret", () -> commands().tpm().PolicySecret(
                    TPM_HANDLE.from(TPM_RH.ENDORSEMENT), session, new byte[0], new byte[0], new byte[0], 0));
            return commands().run("TPM2_ActivateCredential", () -> commands().tpm()
                    ._withSessions(TPM_HANDLE.pwSession(new byte[0]), session)
                    .ActivateCredential(ak, new TPM_HANDLE(ekHandle), id, encryptedSecret));
        } finally {
            flushQuietly(session);
        }
    }

    void flush(TPM_HANDLE handle) throws AgentTpmException {
        commands().run("TPM2_FlushContext", () -> commands().tpm().FlushContext(handle));
    }

    private void flushQuietly(TPM_HANDLE handle) {
        try {
            flush(handle);
        } catch (AgentTpmException alreadyGone) {
            // A policy session that failed is flushed by the TPM itself only on some errors.
        }
    }

    static TPMS_PCR_SELECTION[] tssSelection(PcrSelection selection) {
        byte[] bitmap = new byte[3];
        for (int pcr : selection.pcrs()) {
            bitmap[pcr / 8] |= (byte) (1 << (pcr % 8));
        }
        return new TPMS_PCR_SELECTION[] {new TPMS_PCR_SELECTION(TPM_ALG_ID.fromInt(selection.bank().id()), bitmap)};
    }

    // ------------------------------------------------------------------------------------------------------------
    // tpm2-tools

    /** Releases the Java connection so tpm2-tools can use the TPM; the next command reconnects. */
    void release() {
        swtpm.disconnect();
        commands = null;
    }

    /** Runs a tpm2-tools program (or openssl) against the swtpm; fails the test on a non-zero exit. */
    Exec.Result tool(String... command) {
        return toolAllowingFailure(command).requireSuccess();
    }

    Exec.Result toolAllowingFailure(String... command) {
        release();
        RequiredTool.TPM2_GETCAP.path(); // fails with the package name when tpm2-tools is missing
        List<String> full = new ArrayList<>(Arrays.asList(command));
        for (String dir : List.of("/usr/bin", "/usr/local/bin", "/bin")) {
            Path candidate = Path.of(dir, command[0]);
            if (Files.isExecutable(candidate)) {
                full.set(0, candidate.toString());
                break;
            }
        }
        return Exec.run(full, Map.of("TPM2TOOLS_TCTI", swtpm.tcti()), Duration.ofSeconds(60));
    }
}
