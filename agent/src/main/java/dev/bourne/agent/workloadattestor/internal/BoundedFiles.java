package dev.bourne.agent.workloadattestor.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reads small system files ({@code /proc/<pid>/stat}, {@code /etc/passwd}) with a size limit. {@code /proc} files
 * report size 0, so the limit is enforced while reading rather than from {@code stat}.
 */
public final class BoundedFiles {

    private BoundedFiles() {
    }

    /**
     * The file's bytes as UTF-8 text (malformed bytes replaced).
     *
     * @throws FileTooLargeException when the file has more than {@code maxBytes} bytes
     */
    public static String readText(Path file, int maxBytes) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            byte[] data = in.readNBytes(maxBytes + 1);
            if (data.length > maxBytes) {
                throw new FileTooLargeException(file + " is larger than " + maxBytes + " bytes");
            }
            return new String(data, StandardCharsets.UTF_8);
        }
    }

    /** A file longer than its reader's limit. */
    public static final class FileTooLargeException extends IOException {
        private static final long serialVersionUID = 1L;

        FileTooLargeException(String message) {
            super(message);
        }
    }
}
