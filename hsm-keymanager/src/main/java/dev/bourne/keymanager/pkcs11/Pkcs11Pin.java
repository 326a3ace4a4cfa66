package dev.bourne.keymanager.pkcs11;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Arrays;
import java.util.Set;
import java.util.function.Function;

/**
 * The token's user PIN, read when connecting and wiped right after login. A final class with a redacted
 * {@code toString} and identity equality, so the PIN cannot reach a log line or a config dump.
 */
final class Pkcs11Pin implements AutoCloseable {

    /** Longest PIN file accepted; PKCS#11 PINs are short, a bigger file is not a PIN file. */
    static final int MAX_PIN_FILE_BYTES = 256;

    static final String PIN_FILE_UNREADABLE = "cannot read the PIN file %s: %s";
    static final String PIN_FILE_TOO_OPEN = "the PIN file %s can be read or written by group or others: "
            + "chmod 600 it";
    static final String PIN_FILE_NOT_REGULAR = "the PIN file %s is not a regular file";
    static final String PIN_FILE_TOO_BIG = "the PIN file %s is larger than " + MAX_PIN_FILE_BYTES + " bytes";
    static final String PIN_EMPTY = "the PIN from %s is empty";
    static final String PIN_NOT_UTF8 = "the PIN from %s is not UTF-8 text";
    static final String PIN_ENV_UNSET = "the PIN environment variable %s is not set";

    private static final Set<PosixFilePermission> GROUP_OR_OTHERS = Set.of(PosixFilePermission.GROUP_READ,
            PosixFilePermission.GROUP_WRITE, PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE);

    private final char[] value;

    private Pkcs11Pin(char[] value) {
        this.value = value;
    }

    /** The PIN itself, for the login call only. */
    char[] chars() {
        return value;
    }

    /** Overwrites the PIN in memory. */
    @Override
    public void close() {
        Arrays.fill(value, '\0');
    }

    @Override
    public String toString() {
        return "Pkcs11Pin[redacted]";
    }

    /** Thrown when the PIN cannot be obtained; the message names the source, never the PIN. */
    static final class UnavailableException extends Exception {
        private static final long serialVersionUID = 1L;

        UnavailableException(String message) {
            super(message);
        }
    }

    static Pkcs11Pin read(Pkcs11Settings.PinSource source, Function<String, String> environment)
            throws UnavailableException {
        if (source instanceof Pkcs11Settings.PinEnvironment env) {
            String text = environment.apply(env.variable());
            if (text == null) {
                throw new UnavailableException(String.format(PIN_ENV_UNSET, env.variable()));
            }
            if (text.isEmpty()) {
                throw new UnavailableException(String.format(PIN_EMPTY, "environment variable " + env.variable()));
            }
            return new Pkcs11Pin(text.toCharArray());
        }
        Path file = ((Pkcs11Settings.PinFile) source).path();
        byte[] bytes = null;
        try {
            // Follows symbolic links on purpose: systemd credentials and secret mounts are links to the real file,
            // whose mode is what matters.
            if (!Files.isRegularFile(file)) {
                if (!Files.exists(file)) {
                    throw new UnavailableException(String.format(PIN_FILE_UNREADABLE, file, "no such file"));
                }
                throw new UnavailableException(String.format(PIN_FILE_NOT_REGULAR, file));
            }
            Set<PosixFilePermission> mode = Files.getPosixFilePermissions(file);
            if (mode.stream().anyMatch(GROUP_OR_OTHERS::contains)) {
                throw new UnavailableException(String.format(PIN_FILE_TOO_OPEN, file));
            }
            if (Files.size(file) > MAX_PIN_FILE_BYTES) {
                throw new UnavailableException(String.format(PIN_FILE_TOO_BIG, file));
            }
            bytes = Files.readAllBytes(file);
            int length = bytes.length;
            // One trailing newline (echo > file) is not part of the PIN.
            if (length > 0 && bytes[length - 1] == '\n') {
                length--;
                if (length > 0 && bytes[length - 1] == '\r') {
                    length--;
                }
            }
            if (length == 0) {
                throw new UnavailableException(String.format(PIN_EMPTY, "file " + file));
            }
            CharBuffer chars = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes, 0, length));
            char[] pin = new char[chars.remaining()];
            chars.get(pin);
            if (chars.hasArray()) {
                Arrays.fill(chars.array(), '\0');
            }
            return new Pkcs11Pin(pin);
        } catch (CharacterCodingException e) {
            throw new UnavailableException(String.format(PIN_NOT_UTF8, "file " + file));
        } catch (IOException | SecurityException | UnsupportedOperationException e) {
            throw new UnavailableException(String.format(PIN_FILE_UNREADABLE, file, e.getClass().getSimpleName()));
        } finally {
            if (bytes != null) {
                Arrays.fill(bytes, (byte) 0);
            }
        }
    }
}
