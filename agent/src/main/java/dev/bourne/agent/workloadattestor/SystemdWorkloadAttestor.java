package dev.bourne.agent.workloadattestor;

import dev.bourne.agent.workloadattestor.internal.BoundedFiles;
import dev.bourne.agent.workloadattestor.internal.ProcCgroup;
import dev.bourne.core.workloadattestor.WorkloadAttestationException;
import dev.bourne.core.workloadattestor.WorkloadAttestor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The {@code systemd} workload attestor: {@code id:<unit>} of the system unit that runs the caller and
 * {@code fragment_path:<unit file>}.
 *
 * <p>The unit comes from the kernel's cgroup of the process ({@code /proc/<pid>/cgroup}), which only the system
 * manager (root) can set for the first unit level; see {@link ProcCgroup} for why nested cgroups are ignored. The
 * fragment path is looked up in the unit directories, in systemd's search order, without D-Bus: the first directory
 * holding the unit file (or, for an instance {@code foo@bar.service}, its template {@code foo@.service}) wins.
 */
public final class SystemdWorkloadAttestor implements WorkloadAttestor {
    public static final String NAME = "systemd";

    static final int MAX_CGROUP_BYTES = 64 * 1024;

    private final SystemdAttestorSettings settings;
    private final Path procRoot;

    /** @param procRoot {@code /proc} in production */
    public SystemdWorkloadAttestor(SystemdAttestorSettings settings, Path procRoot) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.procRoot = Objects.requireNonNull(procRoot, "procRoot");
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public List<String> attest(int pid, int uid, int gid) throws WorkloadAttestationException {
        Optional<String> unit;
        try {
            String cgroup = BoundedFiles.readText(procRoot.resolve(Integer.toString(pid)).resolve("cgroup"),
                    MAX_CGROUP_BYTES);
            unit = ProcCgroup.systemdUnit(cgroup);
        } catch (IOException | IllegalArgumentException e) {
            throw new WorkloadAttestationException("cannot read the cgroup of pid " + pid + ": " + e.getMessage(), e);
        }
        if (unit.isEmpty()) {
            return List.of();
        }
        List<String> values = new ArrayList<>();
        values.add("id:" + unit.get());
        fragmentPath(unit.get()).ifPresent(path -> values.add("fragment_path:" + path));
        return List.copyOf(values);
    }

    /** The unit file of {@code unit} in the configured directories, if any holds it. */
    public Optional<Path> fragmentPath(String unit) {
        List<String> candidates = new ArrayList<>();
        candidates.add(unit);
        int at = unit.indexOf('@');
        int dot = unit.lastIndexOf('.');
        if (at > 0 && dot > at + 1) {
            candidates.add(unit.substring(0, at + 1) + unit.substring(dot));
        }
        for (String name : candidates) {
            for (Path dir : settings.unitDirectories()) {
                Path file = dir.resolve(name);
                if (Files.isRegularFile(file)) {
                    return Optional.of(file);
                }
                if (Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
                    return Optional.empty(); // masked (a link to /dev/null): the unit has no fragment
                }
            }
        }
        return Optional.empty();
    }
}
