package dev.bourne.core.workloadattestor;

import java.util.List;

/**
 * A workload attestor plugin: turns the kernel-reported identity of a process that called the agent's Workload API
 * into selector values, such as {@code uid:1000} from the {@code unix} attestor.
 *
 * <p>The attestor returns selector values only; the agent's catalog stamps each value with {@link #name()} as the
 * selector type, so no attestor can forge another's selectors (SPIRE's {@code WorkloadAttestor.Attest} shape).
 * The caller's pid, uid and gid come from {@code SO_PEERCRED} on the accepted socket, never from the caller.
 *
 * <p>Implementations are thread-safe: the Workload API attests concurrent calls in parallel.
 */
public interface WorkloadAttestor {

    /** The plugin name, which becomes the selector type: {@code unix}, {@code systemd}. */
    String name();

    /**
     * The selector values this attestor can vouch for about the process {@code pid}.
     *
     * @param pid the caller's process id as the kernel reported it when the caller connected
     * @param uid the caller's effective user id at connect time
     * @param gid the caller's effective group id at connect time
     * @return selector values without the type prefix, possibly empty when the attestor knows nothing about the
     *         process (a systemd attestor for a process outside any unit)
     * @throws WorkloadAttestationException when the facts cannot be read reliably (process gone, unreadable
     *         {@code /proc}); the Workload API then answers UNAVAILABLE rather than guessing
     */
    List<String> attest(int pid, int uid, int gid) throws WorkloadAttestationException;
}
