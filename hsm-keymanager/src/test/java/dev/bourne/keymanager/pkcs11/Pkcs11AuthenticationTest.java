package dev.bourne.keymanager.pkcs11;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bourne.core.keymanager.HsmAuthenticationException;
import dev.bourne.core.keymanager.KeyManagerStatus;
import dev.bourne.core.keymanager.KeyType;
import dev.bourne.testing.hsm.SoftHsmToken;
import dev.bourne.testing.hsm.WithSoftHsm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A token that refuses the PIN. Nothing in this class ever logs in with the right PIN: PKCS#11 login state belongs to
 * the token for the whole JVM, and after a good login a wrong PIN would not even be sent.
 */
@WithSoftHsm
class Pkcs11AuthenticationTest {

    private static Pkcs11KeyManager keyManager(SoftHsmToken token, Pkcs11Settings.PinSource pin,
            Map<String, String> environment) {
        Pkcs11Settings settings = new Pkcs11Settings(token.library(), token.label(), pin,
                new Pkcs11Settings.KeyIdentifierValue("auth"), 2);
        // A backoff of 1 ms: were an authentication failure retried, these tests would see it at once.
        return new Pkcs11KeyManager(settings, "auth", Clock.systemUTC(), new SecureRandom(),
                new Pkcs11KeyManager.Options(Duration.ofMillis(1), Duration.ofMillis(1), Duration.ofSeconds(5),
                        environment::get));
    }

    private static Path privateFile(Path directory, String content) throws Exception {
        Path file = directory.resolve("pin");
        Files.writeString(file, content);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        return file;
    }

    @Test
    void wrongPin_authenticationFailed_failsFast_neverRetried(SoftHsmToken token, @TempDir Path directory)
            throws Exception {
        try (Pkcs11KeyManager km = keyManager(token, new Pkcs11Settings.PinFile(privateFile(directory,
                "not-the-pin\n")), Map.of())) {
            KeyManagerStatus status = km.status();

            assertEquals(KeyManagerStatus.State.AUTHENTICATION_FAILED, status.state());
            assertTrue(status.reason().contains("CKR_PIN_INCORRECT"), status.reason());
            assertFalse(status.reason().contains("not-the-pin"), "the reason never quotes the PIN");
            assertEquals(1, km.loginAttempts());
            for (int i = 0; i < 5; i++) {
                assertThrows(HsmAuthenticationException.class, () -> km.getKey("x509-CA-A"));
                assertThrows(HsmAuthenticationException.class, () -> km.generateKey("x509-CA-A", KeyType.EC_P256));
                assertThrows(HsmAuthenticationException.class, km::getKeys);
                assertEquals(KeyManagerStatus.State.AUTHENTICATION_FAILED, km.reconnect().state());
                assertEquals(KeyManagerStatus.State.AUTHENTICATION_FAILED, km.status().state());
            }
            assertFalse(km.awaitState(KeyManagerStatus.State.ACTIVE, Duration.ofMillis(100)));
            assertEquals(1, km.loginAttempts(), "the wrong PIN was sent once, never again");
        }
    }

    @Test
    void pinFileReadableByOthers_authenticationFailed_pinNeverSent(SoftHsmToken token, @TempDir Path directory)
            throws Exception {
        Path pin = privateFile(directory, "whatever");
        Files.setPosixFilePermissions(pin, PosixFilePermissions.fromString("rw-r--r--"));
        try (Pkcs11KeyManager km = keyManager(token, new Pkcs11Settings.PinFile(pin), Map.of())) {
            HsmAuthenticationException e = assertThrows(HsmAuthenticationException.class, () -> km.getKey("a"));

            assertEquals(String.format(Pkcs11KeyManager.REASON_PIN_UNAVAILABLE,
                    String.format(Pkcs11Pin.PIN_FILE_TOO_OPEN, pin)), e.getMessage());
            assertEquals(KeyManagerStatus.State.AUTHENTICATION_FAILED, km.status().state());
            assertEquals(0, km.loginAttempts());
        }
    }

    @Test
    void pinFileMissing_authenticationFailed(SoftHsmToken token, @TempDir Path directory) {
        Path pin = directory.resolve("absent");
        try (Pkcs11KeyManager km = keyManager(token, new Pkcs11Settings.PinFile(pin), Map.of())) {
            KeyManagerStatus status = km.status();

            assertEquals(KeyManagerStatus.State.AUTHENTICATION_FAILED, status.state());
            assertEquals(String.format(Pkcs11KeyManager.REASON_PIN_UNAVAILABLE,
                    String.format(Pkcs11Pin.PIN_FILE_UNREADABLE, pin, "no such file")), status.reason());
            assertEquals(0, km.loginAttempts());
        }
    }

    @Test
    void pinEnvironmentVariableUnset_authenticationFailed(SoftHsmToken token) {
        try (Pkcs11KeyManager km = keyManager(token, new Pkcs11Settings.PinEnvironment("BOURNE_TEST_PIN"),
                Map.of())) {
            assertEquals(new KeyManagerStatus(KeyManagerStatus.State.AUTHENTICATION_FAILED,
                    String.format(Pkcs11KeyManager.REASON_PIN_UNAVAILABLE,
                            String.format(Pkcs11Pin.PIN_ENV_UNSET, "BOURNE_TEST_PIN"))), km.status());
        }
    }

    @Test
    void pinFileTooBig_authenticationFailed(SoftHsmToken token, @TempDir Path directory) throws Exception {
        Path pin = privateFile(directory, "x".repeat(Pkcs11Pin.MAX_PIN_FILE_BYTES + 1));
        try (Pkcs11KeyManager km = keyManager(token, new Pkcs11Settings.PinFile(pin), Map.of())) {
            assertEquals(String.format(Pkcs11KeyManager.REASON_PIN_UNAVAILABLE,
                    String.format(Pkcs11Pin.PIN_FILE_TOO_BIG, pin)), km.status().reason());
        }
    }
}
