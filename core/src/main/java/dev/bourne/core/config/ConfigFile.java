package dev.bourne.core.config;

import dev.bourne.core.config.internal.HclParsing;
import dev.bourne.core.config.internal.HclSyntaxException;
import dev.bourne.core.config.internal.Values;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A configuration file read and parsed into hcl4j's generic tree (blocks as maps, labelled blocks as nested maps,
 * numbers as {@code Double}), not yet validated. {@link ServerSettings#validate} and {@link AgentSettings#validate}
 * give it meaning.
 *
 * @param path the file as the user named it; errors print it as given
 * @param root the top-level keys, deeply unmodifiable, in file order
 */
public record ConfigFile(Path path, Map<String, Object> root) {

    /** Largest file accepted: configurations are a few kilobytes, and the parser keeps the whole text in memory. */
    public static final int MAX_BYTES = 1024 * 1024;

    public ConfigFile {
        Objects.requireNonNull(path, "path");
        root = castMap(Values.immutableCopy(Objects.requireNonNull(root, "root")));
    }

    /**
     * Reads and parses {@code path}: at most {@value #MAX_BYTES} bytes of UTF-8 (an optional byte-order mark is
     * skipped), in HCL without functions or data blocks.
     *
     * @throws ConfigException with one error naming the file: unreadable, too large, not UTF-8, or not valid HCL
     */
    public static ConfigFile load(Path path) throws ConfigException {
        byte[] bytes;
        try (InputStream in = Files.newInputStream(path)) {
            // Read one byte past the limit instead of trusting the size attribute: /dev/stdin or a FIFO has none.
            bytes = in.readNBytes(MAX_BYTES + 1);
        } catch (NoSuchFileException e) {
            throw fail(path, "no such file");
        } catch (AccessDeniedException e) {
            throw fail(path, "permission denied");
        } catch (IOException e) {
            throw fail(path, Files.isDirectory(path) ? "is a directory, not a file" : "cannot be read: " + e.getMessage());
        }
        if (bytes.length > MAX_BYTES) {
            throw fail(path, "file is larger than the limit of 1 MiB (" + MAX_BYTES + " bytes)");
        }
        return parse(path, decodeUtf8(path, bytes));
    }

    /**
     * Parses configuration text; {@code path} only names it in errors.
     *
     * @throws ConfigException with one error giving the line, column and reason of the first syntax error
     */
    public static ConfigFile parse(Path path, String text) throws ConfigException {
        try {
            return new ConfigFile(path, HclParsing.parse(text));
        } catch (HclSyntaxException e) {
            String where = e.line() > 0 ? " at line " + e.line() + ", column " + e.column() : "";
            throw fail(path, "syntax error" + where + ": " + e.reason());
        }
    }

    private static String decodeUtf8(Path path, byte[] bytes) throws ConfigException {
        int start = bytes.length >= 3 && (bytes[0] & 0xff) == 0xef && (bytes[1] & 0xff) == 0xbb
                && (bytes[2] & 0xff) == 0xbf ? 3 : 0;
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes, start, bytes.length - start);
        CharBuffer out = CharBuffer.allocate(bytes.length);
        CoderResult result = decoder.decode(in, out, true);
        if (!result.isError()) {
            result = decoder.flush(out);
        }
        if (result.isError()) {
            int offset = in.position();
            int line = 1;
            for (int i = 0; i < offset; i++) {
                if (bytes[i] == '\n') {
                    line++;
                }
            }
            throw fail(path, "not valid UTF-8 (line " + line + ", byte offset " + offset + ")");
        }
        return out.flip().toString();
    }

    /** Names the file and its top-level keys only: values may hold secrets. */
    @Override
    public String toString() {
        return "ConfigFile[path=" + path + ", keys=" + root.keySet() + "]";
    }

    private static ConfigException fail(Path path, String reason) {
        return new ConfigException(List.of(new ConfigError(path.toString(), "", reason)));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> castMap(Object map) {
        return (Map<String, Object>) map;
    }
}
