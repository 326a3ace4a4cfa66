package dev.bourne.agent.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * Finds the Workload API socket the way every {@code bourne-agent} client command does (ARCHITECTURE.md section 2):
 * the {@code -socketPath} flag, else {@code SPIFFE_ENDPOINT_SOCKET}, else the first existing of the RPM path and the
 * sample configuration's path.
 */
public final class SocketDiscovery {
    /** The environment variable of the SPIFFE Workload Endpoint specification. */
    public static final String ENV = "SPIFFE_ENDPOINT_SOCKET";
    /** Where the socket is looked for, in order, when neither the flag nor the variable names one. */
    public static final List<Path> DEFAULT_PATHS = List.of(Path.of("/run/bourne/agent/public/api.sock"),
            Path.of("/tmp/bourne-agent/public/api.sock"));

    public static final String NOT_FOUND = "no Workload API socket found: pass -socketPath, set " + ENV
            + ", or start the agent (looked for /run/bourne/agent/public/api.sock and "
            + "/tmp/bourne-agent/public/api.sock)";
    public static final String BAD_ADDRESS = "must be a Unix socket path or a unix:///path address";

    private SocketDiscovery() {
    }

    /** Resolves the socket in the real environment and file system. */
    public static Path resolve(Optional<String> flag) throws CliException {
        return resolve(flag, System.getenv(), Files::exists);
    }

    /**
     * Resolves the socket.
     *
     * @param flag the {@code -socketPath} value, a path or a {@code unix:} address
     * @param env the process environment
     * @param exists whether a default path exists
     */
    public static Path resolve(Optional<String> flag, Map<String, String> env, Predicate<Path> exists)
            throws CliException {
        if (flag.isPresent()) {
            return parse("-socketPath", flag.get());
        }
        String fromEnv = env.get(ENV);
        if (fromEnv != null && !fromEnv.isEmpty()) {
            return parse(ENV, fromEnv);
        }
        for (Path candidate : DEFAULT_PATHS) {
            if (exists.test(candidate)) {
                return candidate;
            }
        }
        throw new CliException(NOT_FOUND);
    }

    /** Parses {@code unix:///path}, {@code unix:/path} or a plain path; {@code where} names the source in errors. */
    static Path parse(String where, String value) throws CliException {
        String path;
        if (value.startsWith("unix://")) {
            path = value.substring("unix://".length());
        } else if (value.startsWith("unix:")) {
            path = value.substring("unix:".length());
        } else if (value.contains(":")) {
            // tcp: and other schemes: the Workload API of Bourne is only ever served on a Unix socket.
            throw new CliException(where + " " + BAD_ADDRESS);
        } else {
            path = value;
        }
        if (path.isEmpty() || path.indexOf('\0') >= 0 || path.contains("?") || path.contains("#")
                || (value.startsWith("unix:") && !path.startsWith("/"))) {
            throw new CliException(where + " " + BAD_ADDRESS);
        }
        return Path.of(path);
    }
}
