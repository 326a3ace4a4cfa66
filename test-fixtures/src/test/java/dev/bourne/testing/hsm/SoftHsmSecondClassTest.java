package dev.bourne.testing.hsm;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

/**
 * A second class on its own token: it starts empty whatever the other classes generated, and {@link TokenChecks}
 * fails if it got a token another class had.
 */
@ExtendWith(TokenChecks.class)
@WithSoftHsm
class SoftHsmSecondClassTest {

    private final SoftHsmToken token;

    SoftHsmSecondClassTest(SoftHsmToken token) {
        this.token = token;
    }

    @BeforeAll
    static void recordToken(SoftHsmToken token) {
        TokenChecks.record(SoftHsmSecondClassTest.class, token);
    }

    @Test
    void freshToken_holdsOnlyTheKeysThisClassMade() throws Exception {
        assertEquals(List.of(), Pkcs11Tool.listObjects(token), "no key of another class is visible");
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC", token.provider());
        generator.initialize(new ECGenParameterSpec("secp256r1"));
        generator.generateKeyPair();
        generator.generateKeyPair();
        assertEquals(2, Pkcs11Tool.listObjects(token).stream().filter(Pkcs11Object::isPrivateKey).count());
    }

    @Nested
    class Inner {
        @Test
        void nestedClass_sharesTheEnclosingToken(SoftHsmToken nestedToken) {
            assertSame(token, nestedToken);
        }
    }
}
