package dev.bourne.tpm.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.bourne.tpm.common.TpmHashAlg;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class PcrPoliciesTest {

    private static final String A = "aa".repeat(32);
    private static final String B = "bb".repeat(32);
    private static final String C = "cc".repeat(32);
    private static final String Z = "00".repeat(32);

    private static PcrPolicy policy(String name, Object... indexAndDigests) {
        TreeMap<Integer, Set<String>> allowed = new TreeMap<>();
        for (int i = 0; i < indexAndDigests.length; i += 2) {
            allowed.put((Integer) indexAndDigests[i], Set.of(((String) indexAndDigests[i + 1]).split(",")));
        }
        return new PcrPolicy(name, TpmHashAlg.SHA256, allowed);
    }

    private static Map<Integer, byte[]> pcrs(Object... indexAndHex) {
        TreeMap<Integer, byte[]> values = new TreeMap<>();
        for (int i = 0; i < indexAndHex.length; i += 2) {
            values.put((Integer) indexAndHex[i], HexFormat.of().parseHex((String) indexAndHex[i + 1]));
        }
        return values;
    }

    private final PcrPolicies policies = new PcrPolicies(Map.of(
            "golden", policy("golden", 0, A, 7, A + "," + B),
            "legacy", policy("legacy", 0, C)), true);

    @Test
    void evaluate_matchingPolicies_allNamed() throws Exception {
        PcrPolicies both = new PcrPolicies(Map.of("golden", policy("golden", 0, A), "seven", policy("seven", 7, B)),
                true);
        assertEquals(new TreeSet<>(List.of("golden", "seven")), both.evaluate(Optional.empty(),
                pcrs(0, A, 7, B), TpmAttestationException.Kind.REJECTED));
    }

    @Test
    void evaluate_secondAllowedDigest_matches() throws Exception {
        assertEquals(Set.of("golden"), policies.evaluate(Optional.empty(), pcrs(0, A, 7, B),
                TpmAttestationException.Kind.REJECTED));
    }

    @Test
    void evaluate_noneMatch_namesEachPolicysDifferingPcrs() {
        TpmAttestationException e = assertThrows(TpmAttestationException.class, () -> policies.evaluate(
                Optional.empty(), pcrs(0, Z, 7, C), TpmAttestationException.Kind.REJECTED));
        assertEquals(PcrPolicies.NO_POLICY_MATCHED + ": golden: PCR 0 = " + Z + ", PCR 7 = " + C
                + "; legacy: PCR 0 = " + Z, e.getMessage());
        assertEquals(TpmAttestationException.Kind.REJECTED, e.kind());
    }

    @Test
    void evaluate_renewalDrift_kindDrift() {
        TpmAttestationException e = assertThrows(TpmAttestationException.class, () -> policies.evaluate(
                Optional.empty(), pcrs(0, Z, 7, A), TpmAttestationException.Kind.DRIFT));
        assertEquals(TpmAttestationException.Kind.DRIFT, e.kind());
    }

    @Test
    void evaluate_enrolledPolicy_mustMatchThatOne() throws Exception {
        // Matches legacy, but the enrolment names golden.
        TpmAttestationException e = assertThrows(TpmAttestationException.class, () -> policies.evaluate(
                Optional.of("golden"), pcrs(0, C, 7, A), TpmAttestationException.Kind.REJECTED));
        assertEquals(PcrPolicies.ENROLLED_POLICY_MISMATCH + ": golden: PCR 0 = " + C, e.getMessage());
        assertEquals(Set.of("golden"), policies.evaluate(Optional.of("golden"), pcrs(0, A, 7, A),
                TpmAttestationException.Kind.REJECTED));
    }

    @Test
    void evaluate_enrolledPolicyUnknown_refusedEvenAtRenewal() {
        TpmAttestationException e = assertThrows(TpmAttestationException.class, () -> policies.evaluate(
                Optional.of("gone"), pcrs(0, A, 7, A), TpmAttestationException.Kind.DRIFT));
        assertEquals(PcrPolicies.ENROLLED_POLICY_UNKNOWN, e.getMessage());
        assertEquals(TpmAttestationException.Kind.REJECTED, e.kind());
    }

    @Test
    void evaluate_notRequired_noMatchAllowedWithoutSelectors() throws Exception {
        PcrPolicies optional = new PcrPolicies(policies.policies(), false);
        assertEquals(Set.of(), optional.evaluate(Optional.empty(), pcrs(0, Z, 7, Z),
                TpmAttestationException.Kind.REJECTED));
    }

    @Test
    void evaluate_pcrNotQuoted_counted() {
        TpmAttestationException e = assertThrows(TpmAttestationException.class, () -> new PcrPolicies(
                Map.of("golden", policy("golden", 0, A, 7, A)), true).evaluate(Optional.empty(), pcrs(0, A),
                TpmAttestationException.Kind.REJECTED));
        assertEquals(PcrPolicies.NO_POLICY_MATCHED + ": golden: PCR 7 = (not quoted)", e.getMessage());
    }

    @Test
    void pcrs_unionOfPolicies() {
        assertEquals(new TreeSet<>(List.of(0, 7)), policies.pcrs());
    }

    @Test
    void policy_invalidConstruction_refused() {
        assertThrows(IllegalArgumentException.class, () -> policy("golden", 24, A));
        assertThrows(IllegalArgumentException.class, () -> policy("golden", 0, "abc"));
        assertThrows(IllegalArgumentException.class, () -> policy("bad name", 0, A));
        assertThrows(IllegalArgumentException.class, () -> new PcrPolicies(Map.of("x", policy("y", 0, A)), true));
    }
}
