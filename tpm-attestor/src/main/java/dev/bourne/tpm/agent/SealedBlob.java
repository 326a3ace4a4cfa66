package dev.bourne.tpm.agent;

import dev.bourne.tpm.common.TpmFormatException;
import dev.bourne.tpm.common.TpmHashAlg;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.Arrays;
import tss.tpm.TPMA_OBJECT;
import tss.tpm.TPMT_PUBLIC;
import tss.tpm.TPM_ALG_ID;

/**
 * A secret sealed by {@link AgentTpm#seal}, as the agent stores it: Bourne's own versioned format around what the TPM
 * returned from TPM2_Create. All integers big-endian:
 *
 * <pre>
 * magic    4 bytes  "BTSB" (0x42545342)
 * version  uint16   1
 * bank     uint16   TPM_ALG_ID of the PCR bank sealed to
 * count    uint8    number of PCRs, 1..24
 * pcrs     count x uint8, ascending, 0..23
 * public   TPM2B_PUBLIC   (uint16 size, TPMT_PUBLIC of the sealed data object)
 * private  TPM2B_PRIVATE  (uint16 size, the TPM-encrypted sensitive area)
 * </pre>
 *
 * Nothing may follow. The TPM protects the public and private areas (integrity under the storage key); the PCR list
 * is ours, but a changed list only makes PolicyPCR compute another digest, which the sealed object's authPolicy then
 * refuses. Parsing is strict: every length is bounded before anything is allocated, and the public area must be a
 * keyed-hash object authorised by policy alone (no userWithAuth), as {@link AgentTpm#seal} creates.
 */
public final class SealedBlob {

    public static final int MAGIC = 0x42545342;
    public static final int VERSION = 1;
    /** TPMT_PUBLIC of a keyed-hash object is about 80 bytes; a TPM2B_PRIVATE about 200. */
    public static final int MAX_AREA = 1024;
    public static final int MAX_BLOB = 4 + 2 + 2 + 1 + 24 + 2 + MAX_AREA + 2 + MAX_AREA;

    public static final String TOO_LONG = "sealed blob: longer than " + MAX_BLOB + " bytes";
    public static final String TRUNCATED = "sealed blob: truncated";
    public static final String BAD_MAGIC = "sealed blob: not a Bourne sealed blob (bad magic)";
    public static final String BAD_VERSION = "sealed blob: unsupported version";
    public static final String BAD_BANK = "sealed blob: unknown PCR bank";
    public static final String BAD_PCR_COUNT = "sealed blob: PCR count must be 1 to 24";
    public static final String BAD_PCRS = "sealed blob: PCR indices must be ascending, unique and 0 to 23";
    public static final String BAD_AREA_SIZE = "sealed blob: public or private area size must be 1 to " + MAX_AREA;
    public static final String TRAILING = "sealed blob: trailing bytes after the private area";
    public static final String BAD_PUBLIC = "sealed blob: the public area is not a sealed data object authorised by "
            + "PCR policy alone";

    private final TpmHashAlg bank;
    private final int[] pcrs;
    private final byte[] publicArea;
    private final byte[] privateArea;

    SealedBlob(TpmHashAlg bank, int[] pcrs, byte[] publicArea, byte[] privateArea) {
        this.bank = bank;
        this.pcrs = pcrs.clone();
        this.publicArea = publicArea.clone();
        this.privateArea = privateArea.clone();
    }

    byte[] encode() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteBuffer header = ByteBuffer.allocate(9);
        header.putInt(MAGIC).putShort((short) VERSION).putShort((short) bank.id()).put((byte) pcrs.length);
        out.writeBytes(header.array());
        for (int pcr : pcrs) {
            out.write(pcr);
        }
        writeSized(out, publicArea);
        writeSized(out, privateArea);
        return out.toByteArray();
    }

    private static void writeSized(ByteArrayOutputStream out, byte[] area) {
        out.write(area.length >>> 8);
        out.write(area.length);
        out.writeBytes(area);
    }

    /**
     * Parses a blob strictly.
     *
     * @throws TpmFormatException naming what is wrong (one of this class's constants)
     */
    public static SealedBlob decode(byte[] blob) {
        if (blob == null) {
            throw new TpmFormatException(TRUNCATED);
        }
        if (blob.length > MAX_BLOB) {
            throw new TpmFormatException(TOO_LONG);
        }
        ByteBuffer in = ByteBuffer.wrap(blob);
        need(in, 9);
        if (in.getInt() != MAGIC) {
            throw new TpmFormatException(BAD_MAGIC);
        }
        if (Short.toUnsignedInt(in.getShort()) != VERSION) {
            throw new TpmFormatException(BAD_VERSION);
        }
        TpmHashAlg bank = TpmHashAlg.fromId(Short.toUnsignedInt(in.getShort()))
                .orElseThrow(() -> new TpmFormatException(BAD_BANK));
        int count = Byte.toUnsignedInt(in.get());
        if (count < 1 || count > 24) {
            throw new TpmFormatException(BAD_PCR_COUNT);
        }
        need(in, count);
        int[] pcrs = new int[count];
        for (int i = 0; i < count; i++) {
            pcrs[i] = Byte.toUnsignedInt(in.get());
            if (pcrs[i] > TpmAgentSettings.MAX_PCR || i > 0 && pcrs[i] <= pcrs[i - 1]) {
                throw new TpmFormatException(BAD_PCRS);
            }
        }
        byte[] publicArea = readSized(in);
        byte[] privateArea = readSized(in);
        if (in.hasRemaining()) {
            throw new TpmFormatException(TRAILING);
        }
        return new SealedBlob(bank, pcrs, publicArea, privateArea);
    }

    private static byte[] readSized(ByteBuffer in) {
        need(in, 2);
        int size = Short.toUnsignedInt(in.getShort());
        if (size < 1 || size > MAX_AREA) {
            throw new TpmFormatException(BAD_AREA_SIZE);
        }
        need(in, size);
        byte[] area = new byte[size];
        in.get(area);
        return area;
    }

    private static void need(ByteBuffer in, int bytes) {
        if (in.remaining() < bytes) {
            throw new TpmFormatException(TRUNCATED);
        }
    }

    /** The PCR bank sealed to. */
    public TpmHashAlg bank() {
        return bank;
    }

    /** The PCR indices sealed to, ascending. */
    public int[] pcrs() {
        return pcrs.clone();
    }

    byte[] publicArea() {
        return publicArea.clone();
    }

    byte[] privateArea() {
        return privateArea.clone();
    }

    /**
     * The public area parsed and checked: a keyed-hash object with fixedTPM and fixedParent, no userWithAuth (so only
     * the PCR policy authorises it), a SHA-256 name and policy, encoded canonically.
     */
    TPMT_PUBLIC parsedPublic() {
        TPMT_PUBLIC parsed;
        try {
            parsed = TPMT_PUBLIC.fromBytes(publicArea);
        } catch (RuntimeException e) {
            throw new TpmFormatException(BAD_PUBLIC, e);
        }
        if (!TPM_ALG_ID.KEYEDHASH.equals(parsed.type()) || !TPM_ALG_ID.SHA256.equals(parsed.nameAlg)
                || parsed.objectAttributes.hasAttr(TPMA_OBJECT.userWithAuth)
                || !parsed.objectAttributes.hasAttr(TPMA_OBJECT.fixedTPM)
                || !parsed.objectAttributes.hasAttr(TPMA_OBJECT.fixedParent)
                || parsed.authPolicy == null || parsed.authPolicy.length != TpmHashAlg.SHA256.digestLength()
                || !Arrays.equals(parsed.toBytes(), publicArea)) {
            throw new TpmFormatException(BAD_PUBLIC);
        }
        return parsed;
    }

    @Override
    public String toString() {
        return "SealedBlob[" + bank.configName() + " PCRs " + Arrays.toString(pcrs) + "]";
    }
}
