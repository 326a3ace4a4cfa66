package dev.bourne.tpm.server;

import dev.bourne.tpm.server.PcrPolicy.PcrMismatch;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * The configured PCR policies and the decision they make on a verified quote (issue 5, "PCR policy"): which policies
 * a node's PCRs match (each becomes a {@code tpm:pcr_policy:<name>} selector), and whether the node may attest at all.
 *
 * <p>Rules, in order: when the node's enrolment names a policy, that policy must exist and match; otherwise, when a
 * policy is required ({@code require_pcr_policy}, on by default once any policy is configured), at least one must
 * match. A refusal names, for the enrolment's policy or for each configured policy, the PCRs that differ and the values
 * the node showed; those are the node's own quoted values, so the message is safe to send back to it.
 *
 * <p>Immutable and thread-safe.
 */
public final class PcrPolicies {

    /** The enrolment names a policy the configuration does not define: fail closed, never ignore it. */
    public static final String ENROLLED_POLICY_UNKNOWN = "the enrolment's PCR policy is not configured on this server";
    /** Prefix of the refusal when the enrolment's policy does not match; the differing PCRs follow. */
    public static final String ENROLLED_POLICY_MISMATCH = "PCR values do not match the enrolment's PCR policy";
    /** Prefix of the refusal when no configured policy matches; each policy's differing PCRs follow. */
    public static final String NO_POLICY_MATCHED = "PCR values match no configured PCR policy";

    private final SortedMap<String, PcrPolicy> policies;
    private final boolean required;

    /**
     * @param policies the configured policies by name
     * @param required whether a node must match one (when its enrolment names none)
     */
    public PcrPolicies(Map<String, PcrPolicy> policies, boolean required) {
        SortedMap<String, PcrPolicy> copy = new TreeMap<>();
        policies.forEach((name, policy) -> {
            if (!name.equals(policy.name())) {
                throw new IllegalArgumentException("policy " + policy.name() + " listed under the name " + name);
            }
            copy.put(name, policy);
        });
        this.policies = Collections.unmodifiableSortedMap(copy);
        this.required = required;
    }

    public SortedMap<String, PcrPolicy> policies() {
        return policies;
    }

    public boolean required() {
        return required;
    }

    /** Every PCR index some policy constrains: the quote must cover them. */
    public SortedSet<Integer> pcrs() {
        SortedSet<Integer> all = new TreeSet<>();
        policies.values().forEach(p -> all.addAll(p.pcrs()));
        return Collections.unmodifiableSortedSet(all);
    }

    /**
     * Decides on verified PCR values.
     *
     * @param enrolledPolicy the policy the node's enrolment names, if any
     * @param values the quoted PCR values of the policies' bank, index to digest
     * @param failure the kind a refusal carries: REJECTED at attestation, DRIFT at renewal
     * @return the names of every policy the values match, sorted (possibly empty when none is required)
     * @throws TpmAttestationException {@link #ENROLLED_POLICY_UNKNOWN} (always REJECTED),
     *     {@link #ENROLLED_POLICY_MISMATCH} or {@link #NO_POLICY_MATCHED}, each followed by the PCRs that differ
     */
    public SortedSet<String> evaluate(Optional<String> enrolledPolicy, Map<Integer, byte[]> values,
            TpmAttestationException.Kind failure) throws TpmAttestationException {
        Objects.requireNonNull(values, "values");
        SortedSet<String> matched = new TreeSet<>();
        SortedMap<String, List<PcrMismatch>> differences = new TreeMap<>();
        for (PcrPolicy policy : policies.values()) {
            List<PcrMismatch> mismatches = policy.mismatches(values);
            if (mismatches.isEmpty()) {
                matched.add(policy.name());
            } else {
                differences.put(policy.name(), mismatches);
            }
        }
        if (enrolledPolicy.isPresent()) {
            String name = enrolledPolicy.get();
            if (!policies.containsKey(name)) {
                throw new TpmAttestationException(TpmAttestationException.Kind.REJECTED, ENROLLED_POLICY_UNKNOWN);
            }
            if (!matched.contains(name)) {
                throw new TpmAttestationException(failure, ENROLLED_POLICY_MISMATCH + ": "
                        + describe(name, differences.get(name)));
            }
        } else if (required && matched.isEmpty()) {
            String detail = policies.isEmpty() ? "none is configured"
                    : differences.entrySet().stream().map(e -> describe(e.getKey(), e.getValue()))
                            .collect(Collectors.joining("; "));
            throw new TpmAttestationException(failure, NO_POLICY_MATCHED + ": " + detail);
        }
        return Collections.unmodifiableSortedSet(matched);
    }

    private static String describe(String policy, List<PcrMismatch> mismatches) {
        return policy + ": " + mismatches.stream().map(PcrMismatch::toString).collect(Collectors.joining(", "));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PcrPolicies other && other.required == required && other.policies.equals(policies);
    }

    @Override
    public int hashCode() {
        return Objects.hash(policies, required);
    }

    @Override
    public String toString() {
        return "PcrPolicies[" + policies.keySet() + ", required=" + required + "]";
    }
}
