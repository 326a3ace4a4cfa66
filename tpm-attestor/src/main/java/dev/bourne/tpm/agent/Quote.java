package dev.bourne.tpm.agent;

import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * One TPM2_Quote and the PCR values it covers: TPMS_ATTEST exactly as the TPM signed it, TPMT_SIGNATURE as the TPM
 * marshalled it, and the values of the quoted PCRs read in the same PCR update epoch (no extend happened between the
 * read and the quote), so the server can recompute the quote's pcrDigest from them.
 */
public final class Quote {

    private final byte[] attest;
    private final byte[] signature;
    private final int hashAlg;
    private final SortedMap<Integer, byte[]> pcrValues;

    Quote(byte[] attest, byte[] signature, int hashAlg, Map<Integer, byte[]> pcrValues) {
        this.attest = attest.clone();
        this.signature = signature.clone();
        this.hashAlg = hashAlg;
        TreeMap<Integer, byte[]> copy = new TreeMap<>();
        pcrValues.forEach((index, value) -> copy.put(Objects.requireNonNull(index), value.clone()));
        this.pcrValues = Collections.unmodifiableSortedMap(copy);
    }

    /** TPMS_ATTEST (the contents of the TPM2B_ATTEST the TPM returned). */
    public byte[] attest() {
        return attest.clone();
    }

    /** TPMT_SIGNATURE as marshalled by the TPM. */
    public byte[] signature() {
        return signature.clone();
    }

    /** The TPM_ALG_ID of the quoted PCR bank. */
    public int hashAlg() {
        return hashAlg;
    }

    /** PCR index to value, ascending; the arrays are copies. */
    public SortedMap<Integer, byte[]> pcrValues() {
        TreeMap<Integer, byte[]> copy = new TreeMap<>();
        pcrValues.forEach((index, value) -> copy.put(index, value.clone()));
        return copy;
    }

    @Override
    public String toString() {
        return "Quote[" + attest.length + " attest bytes, " + signature.length + " signature bytes, bank 0x"
                + Integer.toHexString(hashAlg) + ", PCRs " + pcrValues.keySet() + "]";
    }
}
