package dev.bourne.agent.workloadattestor;

import dev.bourne.core.config.ConfigError;
import dev.bourne.core.config.PluginConfig;
import dev.bourne.core.selector.InvalidSelectorException;
import dev.bourne.core.selector.Selector;
import dev.bourne.core.workloadattestor.WorkloadAttestationException;
import dev.bourne.core.workloadattestor.WorkloadAttestor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeSet;

/**
 * The agent's enabled workload attestors: runs each on a caller and stamps the values it returns with the attestor's
 * name, so no attestor can produce another's selectors.
 *
 * <p>After all attestors ran, the caller's start time is read again and compared with the one captured when its
 * connection was accepted: if the pid now belongs to another process, the facts just gathered may describe that
 * other process, and the caller gets no selectors at all (fail closed).
 */
public final class WorkloadAttestorCatalog {
    public static final String PROCESS_GONE = "the calling process exited before it could be attested";
    public static final String PID_REUSED = "the calling process's pid was reused during attestation";

    private final List<WorkloadAttestor> attestors;
    private final ProcessStartTimes startTimes;

    public WorkloadAttestorCatalog(List<WorkloadAttestor> attestors, ProcessStartTimes startTimes) {
        this.attestors = List.copyOf(attestors);
        this.startTimes = Objects.requireNonNull(startTimes, "startTimes");
        Set<String> names = new HashSet<>();
        for (WorkloadAttestor attestor : this.attestors) {
            if (!names.add(attestor.name())) {
                throw new IllegalArgumentException("two workload attestors named " + attestor.name());
            }
        }
        if (this.attestors.isEmpty()) {
            throw new IllegalArgumentException("at least one workload attestor is required");
        }
    }

    /**
     * Builds the built-in attestors ({@code unix}, {@code systemd}) from their plugin configurations against the real
     * {@code /proc} and {@code /etc}; problems in {@code plugin_data} are added to {@code errors} (and then the
     * result is empty).
     */
    public static Optional<WorkloadAttestorCatalog> fromConfig(List<PluginConfig> plugins, List<ConfigError> errors) {
        Path proc = Path.of("/proc");
        int errorsBefore = errors.size();
        List<WorkloadAttestor> attestors = new ArrayList<>();
        for (PluginConfig plugin : plugins) {
            if (!plugin.type().equals("WorkloadAttestor")) {
                continue;
            }
            var reader = plugin.pluginDataReader();
            switch (plugin.name()) {
                case UnixWorkloadAttestor.NAME -> attestors.add(UnixWorkloadAttestor.system(
                        UnixAttestorSettings.read(reader)));
                case SystemdWorkloadAttestor.NAME -> attestors.add(new SystemdWorkloadAttestor(
                        SystemdAttestorSettings.read(reader), proc));
                default -> reader.error("", "unknown WorkloadAttestor " + plugin.name());
            }
            errors.addAll(reader.errors());
        }
        if (errors.size() > errorsBefore) {
            return Optional.empty();
        }
        if (attestors.isEmpty()) {
            errors.add(new ConfigError("", "plugins.WorkloadAttestor", "at least one workload attestor is required"));
            return Optional.empty();
        }
        return Optional.of(new WorkloadAttestorCatalog(attestors, new ProcessStartTimes(proc)));
    }

    /**
     * The caller's selectors from every attestor, sorted.
     *
     * @throws WorkloadAttestationException when an attestor failed, a value is not a valid selector, or the pid no
     *         longer belongs to the process that connected
     */
    public List<Selector> attest(WorkloadProcess caller) throws WorkloadAttestationException {
        OptionalLong accepted = caller.startTime();
        if (accepted.isEmpty()) {
            throw new WorkloadAttestationException(PROCESS_GONE);
        }
        Set<Selector> selectors = new TreeSet<>();
        for (WorkloadAttestor attestor : attestors) {
            for (String value : attestor.attest(caller.pid(), caller.uid(), caller.gid())) {
                try {
                    selectors.add(Selector.stamped(attestor.name(), value));
                } catch (InvalidSelectorException e) {
                    throw new WorkloadAttestationException("workload attestor " + attestor.name()
                            + " produced an invalid selector: " + e.reason(), e);
                }
            }
        }
        OptionalLong now = startTimes.startTime(caller.pid());
        if (now.isEmpty()) {
            throw new WorkloadAttestationException(PROCESS_GONE);
        }
        if (now.getAsLong() != accepted.getAsLong()) {
            throw new WorkloadAttestationException(PID_REUSED);
        }
        return List.copyOf(selectors);
    }

    /** The names of the attestors, in the order they run. */
    public List<String> names() {
        return attestors.stream().map(WorkloadAttestor::name).toList();
    }
}
