package dev.bourne.agent.files;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import java.util.Set;

/**
 * How the agent writes PEM and key files to disk: PEM text blocks, and whole-file replacement through a temporary
 * file so that a reader sees the old content or the new, never a partial file, and a key file is never readable by
 * others even for an instant.
 */
public final class PemFiles {
    /** Mode of a file holding a private key: owner read/write only. */
    public static final Set<PosixFilePermission> KEY_MODE = PosixFilePermissions.fromString("rw-------");
    /** Mode of a file holding only public material (certificates, bundles). */
    public static final Set<PosixFilePermission> PUBLIC_MODE = PosixFilePermissions.fromString("rw-r--r--");

    private PemFiles() {
    }

    /** One PEM block of {@code type} (such as {@code CERTIFICATE}) around {@code der}: 64 columns, final newline. */
    public static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }

    /**
     * Replaces {@code target} with {@code content} and gives it {@code mode}: writes a temporary file beside it, then
     * moves it over the target (atomically where the file system can).
     *
     * @return {@code target}
     */
    public static Path write(Path target, byte[] content, Set<PosixFilePermission> mode) throws IOException {
        // The temporary file is created 0600 whatever mode the target ends with: a key is never readable by others.
        Path temp = Files.createTempFile(target.getParent(), "." + target.getFileName(), ".tmp",
                PosixFilePermissions.asFileAttribute(KEY_MODE));
        try {
            Files.write(temp, content);
            Files.setPosixFilePermissions(temp, mode);
            try {
                Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(temp);
        }
        return target;
    }
}
