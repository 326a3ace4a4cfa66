package dev.bourne.tpm.server;

import dev.bourne.tpm.common.TpmHashAlg;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * A named PCR policy from the server configuration: for each PCR index of one bank, the digests a node in an approved
 * boot state may show (several, so a firmware update can roll out while both versions are allowed). A node whose
 * quoted PCRs all hold an allowed value matches the policy and gets the selector {@code tpm:pcr_policy:<name>}.
 *
 * @param name the policy name, as enrolments and selectors spell it
 * @param bank the PCR bank the digests belong to
 * @param allowed PCR index (0-23) to the allowed digests, lowercase hex of the bank's digest length, never empty
 */
public record PcrPolicy(String name, TpmHashAlg bank, SortedMap<Integer, Set<String>> allowed) {

    /** Policy names: what selectors and enrolments may carry. */
    public static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
    public static final String NAME_INVALID = "must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter "
            + "or digit";
    /** Highest PCR index of a PC Client TPM. */
    public static final int MAX_PCR = 23;

    public PcrPolicy {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(bank, "bank");
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("PCR policy name " + NAME_INVALID);
        }
        if (allowed.isEmpty()) {
            throw new IllegalArgumentException("PCR policy " + name + " lists no PCRs");
        }
        SortedMap<Integer, Set<String>> copy = new TreeMap<>();
        for (Map.Entry<Integer, Set<String>> e : allowed.entrySet()) {
            int index = e.getKey();
            if (index < 0 || index > MAX_PCR) {
                throw new IllegalArgumentException("PCR policy " + name + ": PCR index " + index + " is not 0.."
                        + MAX_PCR);
            }
            if (e.getValue().isEmpty()) {
                throw new IllegalArgumentException("PCR policy " + name + ": PCR " + index + " allows no digest");
            }
            Set<String> digests = new LinkedHashSet<>();
            for (String hex : e.getValue()) {
                String lower = hex.toLowerCase(Locale.ROOT);
                if (lower.length() != bank.digestLength() * 2 || !lower.chars().allMatch(HexFormat::isHexDigit)) {
                    throw new IllegalArgumentException("PCR policy " + name + ": PCR " + index + ": digest is not "
                            + bank.digestLength() * 2 + " hex digits");
                }
                digests.add(lower);
            }
            copy.put(index, Collections.unmodifiableSet(digests));
        }
        allowed = Collections.unmodifiableSortedMap(copy);
    }

    /** The PCR indices this policy constrains. */
    public SortedSet<Integer> pcrs() {
        return Collections.unmodifiableSortedSet(new TreeSet<>(allowed.keySet()));
    }

    /**
     * The PCRs of {@code values} (index to digest, in this policy's bank) that hold no allowed digest, in index order;
     * empty when the node matches. A PCR the quote did not cover counts as a mismatch.
     */
    public List<PcrMismatch> mismatches(Map<Integer, byte[]> values) {
        List<PcrMismatch> out = new ArrayList<>();
        for (Map.Entry<Integer, Set<String>> e : allowed.entrySet()) {
            byte[] value = values.get(e.getKey());
            String got = value == null ? null : HexFormat.of().formatHex(value);
            if (got == null || !e.getValue().contains(got)) {
                out.add(new PcrMismatch(e.getKey(), got == null ? PcrMismatch.ABSENT : got));
            }
        }
        return List.copyOf(out);
    }

    public boolean matches(Map<Integer, byte[]> values) {
        return mismatches(values).isEmpty();
    }

    /**
     * One PCR outside a policy: its index and the value the node's quote showed.
     *
     * @param index the PCR index
     * @param got lowercase hex of the quoted value, or {@link #ABSENT}
     */
    public record PcrMismatch(int index, String got) {
        /** What {@link #got} says when the quote did not cover the PCR. */
        public static final String ABSENT = "(not quoted)";

        public PcrMismatch {
            Objects.requireNonNull(got, "got");
        }

        @Override
        public String toString() {
            return "PCR " + index + " = " + got;
        }
    }
}
