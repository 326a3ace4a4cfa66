package dev.bourne.keymanager.pkcs11;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import java.util.stream.Stream;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class Pkcs11PinTest {

    private static Path pinFile(Path directory, byte[] content) throws Exception {
        Path file = directory.resolve("pin");
        Files.write(file, content);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        return file;
    }

    static Stream<Arguments> pinFiles() {
        return Stream.of(Arguments.of("1234", "1234"), Arguments.of("1234\n", "1234"), Arguments.of("1234\r\n", "1234"),
                Arguments.of("1234\n\n", "1234\n"), Arguments.of(" 12 34 ", " 12 34 "), Arguments.of("pïn", "pïn"));
    }

    @ParameterizedTest
    @MethodSource("pinFiles")
    void read_file_oneTrailingNewlineIgnored(String content, String expected, @TempDir Path directory)
            throws Exception {
        Path file = pinFile(directory, content.getBytes(java.nio.charset.StandardCharsets.UTF_8));

        try (Pkcs11Pin pin = Pkcs11Pin.read(new Pkcs11Settings.PinFile(file), Map.<String, String>of()::get)) {
            assertArrayEquals(expected.toCharArray(), pin.chars());
        }
    }

    @Test
    void read_emptyFile_refused(@TempDir Path directory) throws Exception {
        Path file = pinFile(directory, "\n".getBytes(java.nio.charset.StandardCharsets.UTF_8));

        Pkcs11Pin.UnavailableException e = assertThrows(Pkcs11Pin.UnavailableException.class,
                () -> Pkcs11Pin.read(new Pkcs11Settings.PinFile(file), Map.<String, String>of()::get));
        assertEquals(String.format(Pkcs11Pin.PIN_EMPTY, "file " + file), e.getMessage());
    }

    @Test
    void read_notUtf8_refused(@TempDir Path directory) throws Exception {
        Path file = pinFile(directory, new byte[] {'1', (byte) 0xff, '2'});

        Pkcs11Pin.UnavailableException e = assertThrows(Pkcs11Pin.UnavailableException.class,
                () -> Pkcs11Pin.read(new Pkcs11Settings.PinFile(file), Map.<String, String>of()::get));
        assertEquals(String.format(Pkcs11Pin.PIN_NOT_UTF8, "file " + file), e.getMessage());
    }

    @Test
    void read_directory_refused(@TempDir Path directory) {
        Pkcs11Pin.UnavailableException e = assertThrows(Pkcs11Pin.UnavailableException.class,
                () -> Pkcs11Pin.read(new Pkcs11Settings.PinFile(directory), Map.<String, String>of()::get));
        assertEquals(String.format(Pkcs11Pin.PIN_FILE_NOT_REGULAR, directory), e.getMessage());
    }

    @Test
    void read_groupWritable_refused(@TempDir Path directory) throws Exception {
        Path file = pinFile(directory, "1234".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw--w----"));

        Pkcs11Pin.UnavailableException e = assertThrows(Pkcs11Pin.UnavailableException.class,
                () -> Pkcs11Pin.read(new Pkcs11Settings.PinFile(file), Map.<String, String>of()::get));
        assertEquals(String.format(Pkcs11Pin.PIN_FILE_TOO_OPEN, file), e.getMessage());
    }

    @Test
    void read_environment_emptyRefused_valueRead() throws Exception {
        Pkcs11Pin.UnavailableException e = assertThrows(Pkcs11Pin.UnavailableException.class,
                () -> Pkcs11Pin.read(new Pkcs11Settings.PinEnvironment("PIN"), Map.of("PIN", "")::get));
        assertEquals(String.format(Pkcs11Pin.PIN_EMPTY, "environment variable PIN"), e.getMessage());
        try (Pkcs11Pin pin = Pkcs11Pin.read(new Pkcs11Settings.PinEnvironment("PIN"), Map.of("PIN", "9876")::get)) {
            assertArrayEquals("9876".toCharArray(), pin.chars());
        }
    }

    @Test
    void toString_redacted_closeWipes() throws Exception {
        Pkcs11Pin pin = Pkcs11Pin.read(new Pkcs11Settings.PinEnvironment("PIN"), Map.of("PIN", "9876")::get);
        char[] chars = pin.chars();

        assertEquals("Pkcs11Pin[redacted]", pin.toString());
        pin.close();
        assertArrayEquals(new char[4], chars);
    }
}
