package dev.bourne.testing.hsm;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import javax.security.auth.login.FailedLoginException;
import java.io.IOException;
import java.security.KeyStore;
import java.security.Provider;
import java.security.Security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One test only: PKCS#11 login state belongs to the token for the whole JVM, so the wrong PIN must be tried before
 * anything in this class logs in with the right one.
 */
@ExtendWith(TokenChecks.class)
@WithSoftHsm
class SoftHsmLoginTest {

    @BeforeAll
    static void recordToken(SoftHsmToken token) {
        TokenChecks.record(SoftHsmLoginTest.class, token);
    }

    @Test
    void wrongPin_failsLoginWithPinIncorrect_thenRightPinLogsIn(SoftHsmToken token) throws Exception {
        Provider separate = Security.getProvider("SunPKCS11").configure("--" + token.sunPkcs11Config());
        KeyStore store = KeyStore.getInstance("PKCS11", separate);

        IOException failure = assertThrows(IOException.class, () -> store.load(null, "not-the-pin".toCharArray()));

        FailedLoginException login = findCause(failure, FailedLoginException.class);
        assertNotNull(login, "a FailedLoginException in the cause chain of " + failure);
        assertTrue(String.valueOf(login.getCause()).contains("CKR_PIN_INCORRECT"),
                "the token said the PIN is incorrect: " + login.getCause());

        assertEquals("PKCS11", token.keyStore().getType());
        assertTrue(token.provider().getName().endsWith(token.label()), token.provider().getName());
    }

    private static <T extends Throwable> T findCause(Throwable thrown, Class<T> type) {
        for (Throwable t = thrown; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return type.cast(t);
            }
        }
        return null;
    }
}
