package dev.bourne.agent.workloadattestor.internal;

import java.util.Optional;

/**
 * Finds the systemd unit of a process in {@code /proc/<pid>/cgroup} (cgroups(7)): lines
 * {@code hierarchy-ID:controller-list:cgroup-path}; cgroup v2 has one line {@code 0::/system.slice/foo.service}, v1
 * has a {@code name=systemd} hierarchy that systemd manages, hybrid systems have both.
 *
 * <p>The unit is the <em>first</em> path component naming a service or scope, the one the system manager created.
 * Deeper components are delegated to whoever owns that unit: a user's session manager
 * ({@code user@1000.service/app.slice/nginx.service}) or a container runtime may create cgroups with any name, and
 * taking the deepest one would let an unprivileged user claim the id of a system service.
 */
public final class ProcCgroup {
    /** Unit names are at most 255 characters (systemd's UNIT_NAME_MAX). */
    public static final int MAX_UNIT_NAME = 255;

    public static final String NO_SYSTEMD_HIERARCHY = "cgroup file has neither a v2 (0::) nor a name=systemd line";

    private ProcCgroup() {
    }

    /**
     * The systemd unit ({@code foo.service}, {@code session-3.scope}) of the process, or empty when it sits directly in
     * a slice or the root.
     *
     * @throws IllegalArgumentException ({@link #NO_SYSTEMD_HIERARCHY}) when no line describes systemd's hierarchy
     */
    public static Optional<String> systemdUnit(String cgroupFile) {
        String v2 = null;
        String v1 = null;
        for (String line : cgroupFile.split("\n")) {
            int first = line.indexOf(':');
            int second = first < 0 ? -1 : line.indexOf(':', first + 1);
            if (second < 0) {
                continue;
            }
            String hierarchy = line.substring(0, first);
            String controllers = line.substring(first + 1, second);
            String path = line.substring(second + 1);
            if (hierarchy.equals("0") && controllers.isEmpty()) {
                v2 = path;
            } else if (controllers.equals("name=systemd")) {
                v1 = path;
            }
        }
        // On hybrid systems systemd keeps both trees the same; v1's named hierarchy is the one it documents there.
        String path = v1 != null ? v1 : v2;
        if (path == null) {
            throw new IllegalArgumentException(NO_SYSTEMD_HIERARCHY);
        }
        for (String component : path.split("/")) {
            if ((component.endsWith(".service") || component.endsWith(".scope")) && isUnitName(component)) {
                return Optional.of(component);
            }
        }
        return Optional.empty();
    }

    /** Whether {@code name} uses only the characters systemd allows in unit names (systemd.unit(5)). */
    public static boolean isUnitName(String name) {
        if (name.isEmpty() || name.length() > MAX_UNIT_NAME || name.startsWith(".")) {
            return false;
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == ':' || c == '-' || c == '_' || c == '.' || c == '\\' || c == '@';
            if (!ok) {
                return false;
            }
        }
        return true;
    }
}
