package dev.bourne.appliance.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * Finds the server's admin socket as ARCHITECTURE.md section 2 says: {@code -socketPath}, else
 * {@code BOURNE_SERVER_SOCKET}, else the first that exists of the RPM path and the sample configuration's path.
 */
final class SocketDiscovery {
    static final String ENV = "BOURNE_SERVER_SOCKET";
    static final Path RPM_SOCKET = Path.of("/run/bourne/server/private/api.sock");
    static final Path SAMPLE_SOCKET = Path.of("/tmp/bourne-server/private/api.sock");
    static final List<Path> CANDIDATES = List.of(RPM_SOCKET, SAMPLE_SOCKET);
    static final String NOT_FOUND = "no admin socket found: pass -socketPath or set " + ENV + " (looked for "
            + RPM_SOCKET + " and " + SAMPLE_SOCKET + "); is the server running?";

    private SocketDiscovery() {
    }

    /**
     * @param flag the {@code -socketPath} value, if given
     * @param env the process environment
     * @param exists whether a path exists (the file system in production)
     */
    static Path find(Optional<String> flag, Map<String, String> env, Predicate<Path> exists) throws CliException {
        if (flag.isPresent()) {
            return Path.of(flag.get());
        }
        String fromEnv = env.get(ENV);
        if (fromEnv != null && !fromEnv.isEmpty()) {
            // Accept the unix:// form too, as SPIFFE_ENDPOINT_SOCKET is written.
            return Path.of(fromEnv.startsWith("unix://") ? fromEnv.substring("unix://".length()) : fromEnv);
        }
        for (Path candidate : CANDIDATES) {
            if (exists.test(candidate)) {
                return candidate;
            }
        }
        throw new CliException(NOT_FOUND);
    }
}
