package dev.bourne.keymanager.pkcs11;

import dev.bourne.core.keymanager.KeyManagerException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.UUID;

/**
 * The key identifier that names this server's keys on a shared token: given in the configuration, or kept in a file
 * created with a random UUID on first start (as SPIRE's KMS key managers do), so that a server finds its keys after a
 * restart and several servers on one token never touch each other's keys.
 */
public final class KeyIdentifiers {

    static final int MAX_FILE_BYTES = 1024;
    public static final String FILE_INVALID = "the key identifier file %s does not hold a valid key identifier "
            + "(1 to 64 letters, digits, '.', '_' or '-')";
    public static final String FILE_UNREADABLE = "cannot read or create the key identifier file %s: %s";

    private KeyIdentifiers() {
    }

    /** The identifier of {@code source}, creating its file when missing. */
    public static String resolve(Pkcs11Settings.KeyIdentifierSource source, SecureRandom random)
            throws KeyManagerException {
        if (source instanceof Pkcs11Settings.KeyIdentifierValue value) {
            return value.value();
        }
        Path file = ((Pkcs11Settings.KeyIdentifierFile) source).path();
        try {
            if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
                create(file, random);
            }
            if (Files.size(file) > MAX_FILE_BYTES) {
                throw new KeyManagerException(String.format(FILE_INVALID, file));
            }
            String text = Files.readString(file, StandardCharsets.UTF_8).strip();
            if (!Pkcs11Settings.isValidKeyIdentifier(text)) {
                throw new KeyManagerException(String.format(FILE_INVALID, file));
            }
            return text;
        } catch (IOException | RuntimeException e) {
            throw new KeyManagerException(String.format(FILE_UNREADABLE, file, e.getMessage()), e);
        }
    }

    private static void create(Path file, SecureRandom random) throws IOException {
        byte[] bytes = new byte[16];
        random.nextBytes(bytes);
        // A version 4 (random) UUID built from the injected SecureRandom.
        bytes[6] = (byte) ((bytes[6] & 0x0f) | 0x40);
        bytes[8] = (byte) ((bytes[8] & 0x3f) | 0x80);
        long high = 0;
        long low = 0;
        for (int i = 0; i < 8; i++) {
            high = (high << 8) | (bytes[i] & 0xff);
            low = (low << 8) | (bytes[i + 8] & 0xff);
        }
        String identifier = new UUID(high, low).toString();
        Path parent = file.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Path temp = Files.createTempFile(parent, ".key-identifier-", ".tmp",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        try {
            Files.writeString(temp, identifier + "\n", StandardCharsets.UTF_8);
            try {
                // A hard link appears atomically with its full content and fails when the name exists (rename would
                // replace it): when two processes race, the first identifier wins and both read it.
                Files.createLink(file, temp);
            } catch (FileAlreadyExistsException e) {
                // Someone else created it first; theirs is read.
            }
        } finally {
            Files.deleteIfExists(temp);
        }
    }
}
