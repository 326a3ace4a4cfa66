package dev.bourne.agent.workloadattestor;

import dev.bourne.agent.workloadattestor.internal.AccountFile;
import dev.bourne.agent.workloadattestor.internal.BoundedFiles;
import dev.bourne.agent.workloadattestor.internal.Ids;
import dev.bourne.agent.workloadattestor.internal.ProcStatus;
import dev.bourne.core.workloadattestor.WorkloadAttestationException;
import dev.bourne.core.workloadattestor.WorkloadAttestor;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;

/**
 * The {@code unix} workload attestor: {@code uid:}, {@code user:}, {@code gid:}, {@code group:} from the caller's
 * {@code SO_PEERCRED} credentials and the local account files; {@code supplementary_gid:} and
 * {@code supplementary_group:} from {@code /proc/<pid>/status}; and, when enabled, {@code path:} and {@code sha256:}
 * of the executable.
 *
 * <p>The executable is read through {@code /proc/<pid>/exe}, the kernel's handle on the very file the process runs,
 * never by the path the link shows: that path may since have been replaced or deleted, and hashing it would vouch
 * for a different binary.
 */
public final class UnixWorkloadAttestor implements WorkloadAttestor {
    public static final String NAME = "unix";

    static final int MAX_STATUS_BYTES = 64 * 1024;

    public static final String BINARY_TOO_LARGE = "workload executable is larger than workload_size_limit";

    private final UnixAttestorSettings settings;
    private final Path procRoot;
    private final Path passwdFile;
    private final Path groupFile;

    /**
     * @param procRoot {@code /proc} in production
     * @param passwdFile {@code /etc/passwd} in production
     * @param groupFile {@code /etc/group} in production
     */
    public UnixWorkloadAttestor(UnixAttestorSettings settings, Path procRoot, Path passwdFile, Path groupFile) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.procRoot = Objects.requireNonNull(procRoot, "procRoot");
        this.passwdFile = Objects.requireNonNull(passwdFile, "passwdFile");
        this.groupFile = Objects.requireNonNull(groupFile, "groupFile");
    }

    /** The production attestor: {@code /proc}, {@code /etc/passwd}, {@code /etc/group}. */
    public static UnixWorkloadAttestor system(UnixAttestorSettings settings) {
        return new UnixWorkloadAttestor(settings, Path.of("/proc"), Path.of("/etc/passwd"), Path.of("/etc/group"));
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public List<String> attest(int pid, int uid, int gid) throws WorkloadAttestationException {
        AccountFile users = accounts(passwdFile, true);
        AccountFile groups = accounts(groupFile, false);
        long userId = Ids.unsigned(uid);
        long groupId = Ids.unsigned(gid);
        List<String> values = new ArrayList<>();
        values.add("uid:" + userId);
        users.name(userId).ifPresent(name -> values.add("user:" + name));
        values.add("gid:" + groupId);
        groups.name(groupId).ifPresent(name -> values.add("group:" + name));

        Path process = procRoot.resolve(Integer.toString(pid));
        List<Long> supplementary;
        try {
            supplementary = ProcStatus.supplementaryGroups(
                    BoundedFiles.readText(process.resolve("status"), MAX_STATUS_BYTES));
        } catch (IOException | IllegalArgumentException e) {
            throw new WorkloadAttestationException("cannot read the supplementary groups of pid " + pid + ": "
                    + e.getMessage(), e);
        }
        for (long supplementaryGid : supplementary) {
            values.add("supplementary_gid:" + supplementaryGid);
            groups.name(supplementaryGid).ifPresent(name -> values.add("supplementary_group:" + name));
        }

        if (settings.discoverWorkloadPath()) {
            Path exe = process.resolve("exe");
            try {
                values.add("path:" + Files.readSymbolicLink(exe));
            } catch (IOException e) {
                throw new WorkloadAttestationException("cannot read the executable path of pid " + pid, e);
            }
            if (settings.workloadSizeLimit() >= 0) {
                values.add("sha256:" + sha256(exe, settings.workloadSizeLimit()));
            }
        }
        return List.copyOf(values);
    }

    private static AccountFile accounts(Path file, boolean passwd) throws WorkloadAttestationException {
        String content;
        try {
            content = BoundedFiles.readText(file, AccountFile.MAX_FILE_BYTES);
        } catch (NoSuchFileException e) {
            content = ""; // a minimal container without the file: ids only, no names
        } catch (IOException e) {
            throw new WorkloadAttestationException("cannot read " + file + ": " + e.getMessage(), e);
        }
        return passwd ? AccountFile.passwd(content) : AccountFile.group(content);
    }

    /** Hashes the file behind {@code /proc/<pid>/exe}, refusing more than {@code limit} bytes (0: no limit). */
    static String sha256(Path exe, long limit) throws WorkloadAttestationException {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
        long total = 0;
        try (InputStream in = Files.newInputStream(exe)) {
            byte[] buffer = new byte[64 * 1024];
            int n;
            while ((n = in.read(buffer)) > 0) {
                total += n;
                // Checked while reading, not from stat: the file may grow between the two.
                if (limit > 0 && total > limit) {
                    throw new WorkloadAttestationException(BINARY_TOO_LARGE);
                }
                digest.update(buffer, 0, n);
            }
        } catch (IOException e) {
            throw new WorkloadAttestationException("cannot read the workload executable " + exe, e);
        }
        return HexFormat.of().formatHex(digest.digest());
    }
}
