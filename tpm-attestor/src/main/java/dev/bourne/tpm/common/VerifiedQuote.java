package dev.bourne.tpm.common;

import java.util.Collections;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * A quote that {@link QuoteVerifier} accepted: the attestation structure, the PCR selection it covers and the PCR
 * values proven by its pcrDigest. A final class rather than a record because it holds byte arrays: accessors return
 * copies.
 */
public final class VerifiedQuote {

    private final TpmsAttest attest;
    private final PcrSelection selection;
    private final SortedMap<Integer, byte[]> pcrValues;

    VerifiedQuote(TpmsAttest attest, PcrSelection selection, SortedMap<Integer, byte[]> pcrValues) {
        this.attest = Objects.requireNonNull(attest, "attest");
        this.selection = Objects.requireNonNull(selection, "selection");
        this.pcrValues = copy(pcrValues);
    }

    public TpmsAttest attest() {
        return attest;
    }

    public PcrSelection selection() {
        return selection;
    }

    /** PCR index to value, ascending, exactly the selected PCRs; arrays are copies. */
    public SortedMap<Integer, byte[]> pcrValues() {
        return copy(pcrValues);
    }

    private static SortedMap<Integer, byte[]> copy(SortedMap<Integer, byte[]> values) {
        TreeMap<Integer, byte[]> copy = new TreeMap<>();
        values.forEach((index, value) -> copy.put(index, value.clone()));
        return Collections.unmodifiableSortedMap(copy);
    }

    @Override
    public String toString() {
        return "VerifiedQuote[" + selection + "]";
    }
}
