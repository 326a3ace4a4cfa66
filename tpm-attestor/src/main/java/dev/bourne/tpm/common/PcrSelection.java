package dev.bourne.tpm.common;

import dev.bourne.tpm.common.internal.TpmReader;
import dev.bourne.tpm.common.internal.TpmWriter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * PCRs of one bank (a TPMS_PCR_SELECTION, TCG TPM 2.0 Library Part 2): what the server asks a quote to cover and what a
 * quote says it covers. Bourne always quotes one bank, PCRs 0..23, at least one.
 *
 * @param bank the PCR bank's hash algorithm
 * @param pcrs the selected PCR indices, ascending (an unmodifiable copy)
 */
public record PcrSelection(TpmHashAlg bank, SortedSet<Integer> pcrs) {

    /** PCRs 0..23: the PC Client platform's PCRs, all Bourne ever selects. */
    public static final int MAX_PCR = 23;
    /** sizeofSelect for 24 PCRs. */
    public static final int SELECT_SIZE = 3;
    /** TPML_PCR_SELECTION holds at most HASH_COUNT entries; no TPM has more than a few banks. */
    public static final int MAX_BANKS = 16;
    /** A pcrSelect bitmap is at most PCR_SELECT_MAX bytes; 4 allows TPMs with up to 32 PCRs to be parsed. */
    public static final int MAX_SELECT_SIZE = 4;

    public static final String NO_PCRS = "a PCR selection needs at least one PCR";
    public static final String PCR_OUT_OF_RANGE = "PCR indices are 0..23";

    public PcrSelection {
        Objects.requireNonNull(bank, "bank");
        Objects.requireNonNull(pcrs, "pcrs");
        TreeSet<Integer> copy = new TreeSet<>();
        for (Integer pcr : pcrs) {
            if (pcr == null || pcr < 0 || pcr > MAX_PCR) {
                throw new IllegalArgumentException(PCR_OUT_OF_RANGE);
            }
            copy.add(pcr);
        }
        if (copy.isEmpty()) {
            throw new IllegalArgumentException(NO_PCRS);
        }
        pcrs = Collections.unmodifiableSortedSet(copy);
    }

    public static PcrSelection of(TpmHashAlg bank, int... pcrs) {
        TreeSet<Integer> set = new TreeSet<>();
        for (int pcr : pcrs) {
            set.add(pcr);
        }
        return new PcrSelection(bank, set);
    }

    /** The TPML_PCR_SELECTION holding only this selection: count 1, hash, sizeofSelect 3, the bitmap. */
    public byte[] marshal() {
        TpmWriter out = new TpmWriter().u32(1);
        writeTo(out);
        return out.toByteArray();
    }

    /** Writes this TPMS_PCR_SELECTION (sizeofSelect 3). */
    void writeTo(TpmWriter out) {
        byte[] select = new byte[SELECT_SIZE];
        for (int pcr : pcrs) {
            select[pcr / 8] |= (byte) (1 << (pcr % 8));
        }
        out.u16(bank.id()).u8(SELECT_SIZE).bytes(select);
    }

    /** The PCR indices as an int array, ascending. */
    public int[] pcrArray() {
        return pcrs.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Parses a whole TPML_PCR_SELECTION, strictly (no trailing bytes). */
    public static List<PcrSelection> parseList(byte[] tpmlPcrSelection) {
        TpmReader in = TpmReader.of("TPML_PCR_SELECTION", tpmlPcrSelection, 4 + MAX_BANKS * (3 + MAX_SELECT_SIZE));
        List<PcrSelection> list = parseList(in);
        in.requireEnd();
        return list;
    }

    /**
     * Reads a TPML_PCR_SELECTION from {@code in}. Each entry must name a known bank and select at least one PCR, all
     * of them 0..23; a bank may appear only once.
     *
     * @throws TpmFormatException naming the reader's structure and the offending field
     */
    public static List<PcrSelection> parseList(TpmReader in) {
        long count = Integer.toUnsignedLong(in.u32("pcrSelections.count"));
        if (count > MAX_BANKS) {
            throw in.error("pcrSelections.count " + count + " exceeds the maximum of " + MAX_BANKS);
        }
        List<PcrSelection> selections = new ArrayList<>((int) count);
        for (int i = 0; i < count; i++) {
            int hashId = in.u16("pcrSelections.hash");
            TpmHashAlg bank = TpmHashAlg.fromId(hashId).orElseThrow(() -> in.error("pcrSelections.hash "
                    + TpmPublic.hex(hashId) + " is not a supported PCR bank"));
            int size = in.u8("pcrSelections.sizeofSelect");
            if (size > MAX_SELECT_SIZE) {
                throw in.error("pcrSelections.sizeofSelect " + size + " exceeds the maximum of " + MAX_SELECT_SIZE);
            }
            byte[] select = in.bytes(size, "pcrSelections.pcrSelect");
            TreeSet<Integer> pcrs = new TreeSet<>();
            for (int bit = 0; bit < size * 8; bit++) {
                if ((select[bit / 8] & (1 << (bit % 8))) != 0) {
                    if (bit > MAX_PCR) {
                        throw in.error("pcrSelections selects PCR " + bit + ", beyond " + MAX_PCR);
                    }
                    pcrs.add(bit);
                }
            }
            if (pcrs.isEmpty()) {
                throw in.error("pcrSelections entry for " + bank.configName() + " selects no PCR");
            }
            for (PcrSelection earlier : selections) {
                if (earlier.bank() == bank) {
                    throw in.error("pcrSelections names bank " + bank.configName() + " twice");
                }
            }
            selections.add(new PcrSelection(bank, pcrs));
        }
        return List.copyOf(selections);
    }

    @Override
    public String toString() {
        return bank.configName() + ":" + pcrs;
    }
}
