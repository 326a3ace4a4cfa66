package dev.bourne.agent.workloadattestor;

import dev.bourne.core.config.ConfigReader;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Validated {@code plugin_data} of the {@code systemd} workload attestor.
 *
 * @param unitDirectories {@code unit_directories}: where unit files are looked up for {@code fragment_path:}, in
 *        order; defaults to the system manager's search path (systemd.unit(5), "System Unit Search Path")
 */
public record SystemdAttestorSettings(List<Path> unitDirectories) {
    public static final String UNIT_DIRECTORIES = "unit_directories";

    public static final List<Path> DEFAULT_UNIT_DIRECTORIES = List.of(
            Path.of("/etc/systemd/system.control"),
            Path.of("/run/systemd/system.control"),
            Path.of("/run/systemd/transient"),
            Path.of("/run/systemd/generator.early"),
            Path.of("/etc/systemd/system"),
            Path.of("/etc/systemd/system.attached"),
            Path.of("/run/systemd/system"),
            Path.of("/run/systemd/system.attached"),
            Path.of("/run/systemd/generator"),
            Path.of("/usr/local/lib/systemd/system"),
            Path.of("/usr/lib/systemd/system"),
            Path.of("/lib/systemd/system"),
            Path.of("/run/systemd/generator.late"));

    public static final SystemdAttestorSettings DEFAULTS = new SystemdAttestorSettings(DEFAULT_UNIT_DIRECTORIES);

    public SystemdAttestorSettings {
        unitDirectories = List.copyOf(unitDirectories);
    }

    /** Reads the plugin data, recording every problem in {@code reader}. */
    public static SystemdAttestorSettings read(ConfigReader reader) {
        List<String> given = reader.optionalStringList(UNIT_DIRECTORIES);
        List<Path> directories = new ArrayList<>();
        for (int i = 0; i < given.size(); i++) {
            try {
                Path dir = Path.of(given.get(i));
                if (!dir.isAbsolute()) {
                    reader.error(UNIT_DIRECTORIES + "[" + i + "]", "must be an absolute path");
                }
                directories.add(dir);
            } catch (InvalidPathException e) {
                reader.error(UNIT_DIRECTORIES + "[" + i + "]", "is not a valid path: " + e.getReason());
            }
        }
        reader.rejectUnknownKeys();
        return directories.isEmpty() ? DEFAULTS : new SystemdAttestorSettings(directories);
    }
}
