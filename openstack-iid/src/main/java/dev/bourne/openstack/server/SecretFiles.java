package dev.bourne.openstack.server;

import dev.bourne.core.config.ConfigSecret;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Set;

/**
 * Reads a secret (a Keystone password, an application credential secret) from a file named in the configuration.
 * Secrets are never written inline in the configuration, which is readable by more people and tools (backups, config
 * management, {@code bourne-server validate} output) than a file kept for the server alone.
 *
 * <p>The file must be a regular file (links are followed: Kubernetes secret mounts and systemd credentials are links)
 * that others cannot read or write and its group cannot write: mode 0600, or 0640 with a group such as
 * {@code root:bourne} so the file can be owned by root and read by the server's group. Its text is UTF-8; trailing line
 * breaks are dropped (editors and {@code echo} add one).
 */
final class SecretFiles {

    /** Largest secret file read: passwords and credential secrets are a few dozen bytes. */
    static final int MAX_BYTES = 4096;

    static final String NO_SUCH_FILE = "cannot be read: no such file";
    static final String PERMISSION_DENIED = "cannot be read: permission denied";
    static final String NOT_REGULAR = "is not a regular file";
    static final String TOO_OPEN = "is readable by others or writable by its group or others (mode %s); a secret file "
            + "must have mode 0600 or 0640";
    static final String TOO_LARGE = "is larger than " + MAX_BYTES + " bytes";
    static final String EMPTY = "is empty";
    static final String NOT_UTF8 = "is not UTF-8 text";

    /** Mode bits that make a secret file readable or writable beyond its owner and its group's read. */
    private static final Set<PosixFilePermission> TOO_OPEN_BITS = EnumSet.of(PosixFilePermission.GROUP_WRITE,
            PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_EXECUTE);

    private SecretFiles() {
    }

    /**
     * The secret in {@code file}.
     *
     * @throws SecretFileException with one of this class's reasons (never the file's contents)
     */
    static ConfigSecret read(Path file) throws SecretFileException {
        PosixFileAttributes attributes;
        try {
            attributes = Files.readAttributes(file, PosixFileAttributes.class);
        } catch (NoSuchFileException e) {
            throw new SecretFileException(NO_SUCH_FILE);
        } catch (AccessDeniedException e) {
            throw new SecretFileException(PERMISSION_DENIED);
        } catch (IOException | UnsupportedOperationException e) {
            throw new SecretFileException("cannot be read: " + e.getClass().getSimpleName());
        }
        if (!attributes.isRegularFile()) {
            throw new SecretFileException(NOT_REGULAR);
        }
        Set<PosixFilePermission> mode = attributes.permissions();
        if (mode.stream().anyMatch(TOO_OPEN_BITS::contains)) {
            throw new SecretFileException(String.format(TOO_OPEN, PosixFilePermissions.toString(mode)));
        }
        byte[] bytes;
        try (InputStream in = Files.newInputStream(file)) {
            bytes = in.readNBytes(MAX_BYTES + 1);
        } catch (AccessDeniedException e) {
            throw new SecretFileException(PERMISSION_DENIED);
        } catch (IOException e) {
            throw new SecretFileException("cannot be read: " + e.getClass().getSimpleName());
        }
        try {
            if (bytes.length > MAX_BYTES) {
                throw new SecretFileException(TOO_LARGE);
            }
            String text;
            try {
                text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
            } catch (CharacterCodingException e) {
                throw new SecretFileException(NOT_UTF8);
            }
            int end = text.length();
            while (end > 0 && (text.charAt(end - 1) == '\n' || text.charAt(end - 1) == '\r')) {
                end--;
            }
            if (end == 0) {
                throw new SecretFileException(EMPTY);
            }
            return new ConfigSecret(text.substring(0, end));
        } finally {
            Arrays.fill(bytes, (byte) 0);
        }
    }

    /** A secret file that cannot be used; the message is a reason to print after the configuration key. */
    static final class SecretFileException extends Exception {
        private static final long serialVersionUID = 1L;

        SecretFileException(String reason) {
            super(reason);
        }
    }
}
