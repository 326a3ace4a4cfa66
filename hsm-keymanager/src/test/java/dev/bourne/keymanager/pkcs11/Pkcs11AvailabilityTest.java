package dev.bourne.keymanager.pkcs11;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bourne.core.keymanager.HsmUnavailableException;
import dev.bourne.core.keymanager.KeyManagerStatus;
import dev.bourne.core.keymanager.KeyType;
import dev.bourne.core.keymanager.ManagedKey;
import dev.bourne.core.keymanager.SignatureAlgorithm;
import dev.bourne.keymanager.internal.JcaManagedKey;
import dev.bourne.testing.hsm.SoftHsmToken;
import dev.bourne.testing.hsm.WithSoftHsm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * HSM availability: a library that is not there yet, a token label nobody has, a library that is no PKCS#11 module;
 * and recovery without a restart once the library appears. The token itself exists from the start (the fixture's pool
 * creates every token before the JVM first loads SoftHSM2, which scans its tokens once per process).
 */
@WithSoftHsm
class Pkcs11AvailabilityTest {

    private static Pkcs11KeyManager keyManager(Path library, String tokenLabel, Pkcs11Settings.PinSource pin,
            Duration backoff, Map<String, String> environment) {
        Pkcs11Settings settings = new Pkcs11Settings(library, tokenLabel, pin,
                new Pkcs11Settings.KeyIdentifierValue("availability"), 2);
        return new Pkcs11KeyManager(settings, "availability", Clock.systemUTC(), new SecureRandom(),
                new Pkcs11KeyManager.Options(backoff, backoff, Duration.ofSeconds(5), environment::get));
    }

    @Test
    void tokenLabelNotFound_unavailableNamingTheLabel(SoftHsmToken token) {
        Pkcs11KeyManager km = assertDoesNotThrow(() -> keyManager(token.library(), "no-such-token",
                new Pkcs11Settings.PinFile(token.pinFile()), Duration.ofHours(1), Map.of()));
        try (km) {
            KeyManagerStatus status = km.status();

            assertEquals(KeyManagerStatus.State.UNAVAILABLE, status.state());
            assertTrue(status.reason().startsWith(String.format(Pkcs11KeyManager.REASON_TOKEN_NOT_FOUND,
                    "no-such-token", "").replace("[]", "").replace("(tokens: )", "")), status.reason());
            assertTrue(status.reason().contains(token.label()), "lists the tokens present: " + status.reason());
            HsmUnavailableException e = assertThrows(HsmUnavailableException.class, () -> km.getKey("x509-CA-A"));
            assertEquals(status.reason(), e.getMessage());
            assertEquals(0, km.loginAttempts());
        }
    }

    @Test
    void libraryNotAModule_unavailable(SoftHsmToken token, @TempDir Path directory) throws Exception {
        Path notALibrary = directory.resolve("libnot-pkcs11.so");
        Files.writeString(notALibrary, "this is not a shared object\n");
        try (Pkcs11KeyManager km = keyManager(notALibrary, token.label(), new Pkcs11Settings.PinFile(token.pinFile()),
                Duration.ofHours(1), Map.of())) {
            KeyManagerStatus status = km.status();

            assertEquals(KeyManagerStatus.State.UNAVAILABLE, status.state());
            assertTrue(status.reason().startsWith(String.format(Pkcs11KeyManager.REASON_LIBRARY_FAILED, notALibrary,
                    "")), status.reason());
        }
    }

    @Test
    void libraryAppearsLater_recoversByItself_withoutRestart(SoftHsmToken token, @TempDir Path directory)
            throws Exception {
        Path library = directory.resolve("libvendor-pkcs11.so");
        char[] pin = token.pin();
        Map<String, String> environment = Map.of("BOURNE_TEST_PIN", new String(pin));
        Arrays.fill(pin, '\0');
        // Short backoff, so the background retry finds the library soon after it appears.
        try (Pkcs11KeyManager km = keyManager(library, token.label(), new Pkcs11Settings.PinEnvironment(
                "BOURNE_TEST_PIN"), Duration.ofMillis(20), environment)) {
            assertEquals(new KeyManagerStatus(KeyManagerStatus.State.UNAVAILABLE,
                    String.format(Pkcs11KeyManager.REASON_LIBRARY_MISSING, library)), km.status());
            assertThrows(HsmUnavailableException.class, () -> km.generateKey("x509-CA-A", KeyType.EC_P256));

            Files.createSymbolicLink(library, token.library());

            assertTrue(km.awaitState(KeyManagerStatus.State.ACTIVE, Duration.ofSeconds(30)),
                    "active again without a restart: " + km.status());
            ManagedKey key = km.generateKey("x509-CA-A", KeyType.EC_P256);
            JcaManagedKey.selfTest(key);
            assertEquals(1, km.loginAttempts());
            assertEquals(KeyManagerStatus.State.ACTIVE, km.status().state());
            assertTrue(key.sign(SignatureAlgorithm.ECDSA_SHA256, new byte[] {1, 2, 3}).length > 0);
        }
    }

    @Test
    void explicitReconnect_afterLibraryAppears_active(SoftHsmToken token, @TempDir Path directory) throws Exception {
        Path library = directory.resolve("libother-vendor.so");
        try (Pkcs11KeyManager km = keyManager(library, token.label(), new Pkcs11Settings.PinFile(token.pinFile()),
                Duration.ofHours(1), Map.of())) {
            assertEquals(KeyManagerStatus.State.UNAVAILABLE, km.status().state());
            assertEquals(KeyManagerStatus.State.UNAVAILABLE, km.reconnect().state());

            Files.createSymbolicLink(library, token.library());

            assertEquals(KeyManagerStatus.active(), km.reconnect());
            assertTrue(km.getKeys().stream().allMatch(k -> k.id().equals("x509-CA-A")));
        }
    }
}
