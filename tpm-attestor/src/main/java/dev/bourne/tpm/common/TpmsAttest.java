package dev.bourne.tpm.common;

import dev.bourne.tpm.common.internal.TpmReader;
import java.util.Arrays;
import java.util.List;

/**
 * A parsed TPMS_ATTEST (TCG TPM 2.0 Library Part 2, "TPMS_ATTEST"): what a TPM signs with an attestation key. The
 * header (magic, type, qualifiedSigner, extraData, clockInfo, firmwareVersion) is parsed for every type; the body is
 * parsed for quotes ({@link #TYPE_QUOTE}: PCR selection and pcrDigest) and kept raw for the other types, which
 * {@link QuoteVerifier} rejects.
 *
 * <p>Parsing checks structure only. Whether the magic is {@link #MAGIC} and the type a quote is the verifier's job,
 * after the signature, so that a forged structure is reported as a bad signature.
 */
public final class TpmsAttest {

    /** TPM_GENERATED_VALUE: a restricted key refuses to sign anything starting with it that the TPM did not make. */
    public static final int MAGIC = 0xff544347;
    /** TPM_ST_ATTEST_QUOTE. */
    public static final int TYPE_QUOTE = 0x8018;
    /** Larger than any TPMS_ATTEST a TPM produces (an NV certify carries at most 1024 bytes of NV data). */
    public static final int MAX_ENCODED = 2048;
    /** TPM2B_NAME: a TPMT_HA (2 + 64 bytes) or a handle. */
    private static final int MAX_NAME = 66;
    /** TPM2B_DATA: at most a TPMT_HA. */
    private static final int MAX_DATA = 66;
    private static final int MAX_DIGEST = 64;
    private static final String STRUCTURE = "TPMS_ATTEST";

    private final byte[] encoded;
    private final int magic;
    private final int type;
    private final byte[] qualifiedSigner;
    private final byte[] extraData;
    private final long clock;
    private final int resetCount;
    private final int restartCount;
    private final boolean safe;
    private final long firmwareVersion;
    private final List<PcrSelection> pcrSelections;
    private final byte[] pcrDigest;
    private final byte[] attested;

    private TpmsAttest(byte[] encoded, int magic, int type, byte[] qualifiedSigner, byte[] extraData, long clock,
            int resetCount, int restartCount, boolean safe, long firmwareVersion, List<PcrSelection> pcrSelections,
            byte[] pcrDigest, byte[] attested) {
        this.encoded = encoded;
        this.magic = magic;
        this.type = type;
        this.qualifiedSigner = qualifiedSigner;
        this.extraData = extraData;
        this.clock = clock;
        this.resetCount = resetCount;
        this.restartCount = restartCount;
        this.safe = safe;
        this.firmwareVersion = firmwareVersion;
        this.pcrSelections = pcrSelections;
        this.pcrDigest = pcrDigest;
        this.attested = attested;
    }

    /**
     * Parses a TPMS_ATTEST (the contents of a TPM2B_ATTEST), strictly: no trailing bytes, every size bounded.
     *
     * @throws TpmFormatException naming the malformed field
     */
    public static TpmsAttest parse(byte[] attest) {
        TpmReader in = TpmReader.of(STRUCTURE, attest, MAX_ENCODED);
        int magic = in.u32("magic");
        int type = in.u16("type");
        byte[] qualifiedSigner = in.sized(MAX_NAME, "qualifiedSigner");
        byte[] extraData = in.sized(MAX_DATA, "extraData");
        long clock = in.u64("clockInfo.clock");
        int resetCount = in.u32("clockInfo.resetCount");
        int restartCount = in.u32("clockInfo.restartCount");
        int safe = in.u8("clockInfo.safe");
        if (safe > 1) {
            throw in.error("clockInfo.safe is " + safe + ", not YES (1) or NO (0)");
        }
        long firmwareVersion = in.u64("firmwareVersion");
        List<PcrSelection> selections = List.of();
        byte[] pcrDigest = new byte[0];
        byte[] attested;
        int bodyStart = in.position();
        if (type == TYPE_QUOTE) {
            selections = PcrSelection.parseList(in);
            pcrDigest = in.sized(MAX_DIGEST, "pcrDigest");
            in.requireEnd();
            attested = Arrays.copyOfRange(attest, bodyStart, attest.length);
        } else {
            attested = in.bytes(in.remaining(), "attested");
        }
        return new TpmsAttest(attest.clone(), magic, type, qualifiedSigner, extraData, clock, resetCount,
                restartCount, safe == 1, firmwareVersion, selections, pcrDigest, attested);
    }

    /** Should be {@link #MAGIC}; checked by the verifier. */
    public int magic() {
        return magic;
    }

    /** TPMI_ST_ATTEST, {@link #TYPE_QUOTE} for a quote. */
    public int type() {
        return type;
    }

    /** The TPM name of the signing key (its qualified name). */
    public byte[] qualifiedSigner() {
        return qualifiedSigner.clone();
    }

    /** The caller's qualifying data: for Bourne, the server's nonce. */
    public byte[] extraData() {
        return extraData.clone();
    }

    /** Milliseconds the TPM has been powered since its clock was last set (not obfuscated). */
    public long clock() {
        return clock;
    }

    /** TPM resets (reboots) since the clock was set; obfuscated for keys outside the endorsement hierarchy. */
    public int resetCount() {
        return resetCount;
    }

    /** TPM restarts (resume from hibernation) since the last reset; obfuscated like resetCount. */
    public int restartCount() {
        return restartCount;
    }

    /** Whether the clock has not gone backwards since it was last reported. */
    public boolean safe() {
        return safe;
    }

    /** The TPM vendor's firmware version; obfuscated like resetCount. */
    public long firmwareVersion() {
        return firmwareVersion;
    }

    /** The quoted PCR selection; empty for other types. */
    public List<PcrSelection> pcrSelections() {
        return pcrSelections;
    }

    /** A quote's pcrDigest: H_signHash(selected PCR values); empty for other types. */
    public byte[] pcrDigest() {
        return pcrDigest.clone();
    }

    /** The type-specific body (TPMU_ATTEST) as marshalled. */
    public byte[] attested() {
        return attested.clone();
    }

    /** The exact bytes parsed (what the signature covers). */
    public byte[] encoded() {
        return encoded.clone();
    }

    @Override
    public String toString() {
        return "TpmsAttest[type 0x" + Integer.toHexString(type) + ", " + pcrSelections + "]";
    }
}
