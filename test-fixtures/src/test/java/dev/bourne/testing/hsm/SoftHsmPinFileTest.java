package dev.bourne.testing.hsm;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

@ExtendWith(TokenChecks.class)
@WithSoftHsm
class SoftHsmPinFileTest {

    @BeforeAll
    static void recordToken(SoftHsmToken token) {
        TokenChecks.record(SoftHsmPinFileTest.class, token);
    }

    @Test
    void pinFile_ownerOnly_holdsExactlyThePin(SoftHsmToken token) throws Exception {
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(token.pinFile())));
        assertEquals("rwx------",
                PosixFilePermissions.toString(Files.getPosixFilePermissions(token.pinFile().getParent())));
        char[] pin = token.pin();
        byte[] expected = new String(pin).getBytes(StandardCharsets.UTF_8);
        byte[] fromFile = Files.readAllBytes(token.pinFile());
        // Assertion messages never include the PIN itself.
        assertTrue(Arrays.equals(expected, fromFile), "the PIN file holds the token PIN and nothing else");
        Arrays.fill(pin, '\0');
        Arrays.fill(expected, (byte) 0);
        Arrays.fill(fromFile, (byte) 0);
    }

    @Test
    void pin_isACopy_andToStringRedactsIt(SoftHsmToken token) {
        char[] first = token.pin();
        char[] second = token.pin();
        assertNotSame(first, second);
        assertTrue(first.length >= 16, "PIN long enough to be random");
        Arrays.fill(first, '\0');
        assertFalse(Arrays.equals(first, second), "wiping a copy leaves the token's PIN intact");
        assertFalse(token.toString().contains(new String(second)), "toString() does not show the PIN");
        assertTrue(token.toString().contains(token.label()), "toString() names the token");
        Arrays.fill(second, '\0');
    }

    @Test
    void conf_isPrivate_andPointsAtTheJvmTokenDirectory(SoftHsmToken token) throws Exception {
        assertEquals(System.getenv("SOFTHSM2_CONF"), token.conf().toString());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(token.conf())));
        assertTrue(Files.readString(token.conf()).contains("directories.tokendir = "
                + token.conf().getParent().resolve("tokens")));
        assertTrue(token.library().isAbsolute() && Files.isRegularFile(token.library()), token.library().toString());
    }
}
