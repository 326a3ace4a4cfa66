package dev.bourne.appliance.server;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * This server's stable identity among servers sharing one datastore: a random ID stored in {@code data_dir/server-id}
 * on first start (mode 0600). It keys the server's CA journal in the datastore.
 */
public final class ServerIds {
    public static final String FILE_NAME = "server-id";
    public static final String MALFORMED = "%s does not hold a server ID (32 lowercase hex digits)";
    private static final Pattern FORMAT = Pattern.compile("[0-9a-f]{32}");

    private ServerIds() {
    }

    /** Reads the server ID from {@code dataDir}, creating it first if this is the server's first start. */
    public static String loadOrCreate(Path dataDir, SecureRandom random) throws IOException {
        Path file = dataDir.resolve(FILE_NAME);
        if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
            byte[] bytes = new byte[16];
            random.nextBytes(bytes);
            Files.createDirectories(dataDir);
            try {
                Files.createFile(file, PosixFilePermissions.asFileAttribute(
                        PosixFilePermissions.fromString("rw-------")));
                Files.writeString(file, HexFormat.of().formatHex(bytes) + "\n", StandardCharsets.US_ASCII);
            } catch (FileAlreadyExistsException e) {
                // another process created it first; read theirs
            }
        }
        if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS) || Files.size(file) > 64) {
            throw new IOException(String.format(MALFORMED, file));
        }
        String id = Files.readString(file, StandardCharsets.US_ASCII).strip();
        if (!FORMAT.matcher(id).matches()) {
            throw new IOException(String.format(MALFORMED, file));
        }
        return id;
    }
}
