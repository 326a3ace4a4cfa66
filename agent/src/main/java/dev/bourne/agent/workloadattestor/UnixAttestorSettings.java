package dev.bourne.agent.workloadattestor;

import dev.bourne.core.config.ConfigReader;

/**
 * Validated {@code plugin_data} of the {@code unix} workload attestor, with SPIRE's key names and meanings.
 *
 * @param discoverWorkloadPath {@code discover_workload_path}: also produce {@code path:} and {@code sha256:} of the
 *        caller's executable (default false: reading and hashing binaries costs I/O per call)
 * @param workloadSizeLimit {@code workload_size_limit}: the largest executable hashed for {@code sha256:}, in bytes;
 *        0 means no limit and a negative value means never hash (only {@code path:})
 */
public record UnixAttestorSettings(boolean discoverWorkloadPath, long workloadSizeLimit) {
    public static final String DISCOVER_WORKLOAD_PATH = "discover_workload_path";
    public static final String WORKLOAD_SIZE_LIMIT = "workload_size_limit";

    /** The defaults: uid, gid, names and supplementary groups only. */
    public static final UnixAttestorSettings DEFAULTS = new UnixAttestorSettings(false, 0);

    /** Reads the plugin data, recording every problem in {@code reader}. */
    public static UnixAttestorSettings read(ConfigReader reader) {
        boolean discover = reader.optionalBool(DISCOVER_WORKLOAD_PATH, false);
        int limit = reader.optionalInt(WORKLOAD_SIZE_LIMIT, 0, -1, Integer.MAX_VALUE);
        reader.rejectUnknownKeys();
        return new UnixAttestorSettings(discover, limit);
    }
}
