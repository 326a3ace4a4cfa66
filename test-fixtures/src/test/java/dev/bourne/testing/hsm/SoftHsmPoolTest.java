package dev.bourne.testing.hsm;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The pool used directly, with two tokens at once, and the parsing of softhsm2-util's slot listing. */
class SoftHsmPoolTest {

    @Test
    void twoTokens_doNotSeeEachOthersKeys_andReleaseDeletesOnlyOne() throws Exception {
        SoftHsmPool pool = SoftHsmPool.jvmPool();
        SoftHsmToken first = pool.lease();
        SoftHsmToken second = pool.lease();
        try {
            assertNotEquals(first.label(), second.label());
            assertNotEquals(first.slot(), second.slot());
            generate(first);

            assertEquals(List.of(), Pkcs11Tool.listObjects(second), "the second token sees nothing of the first");
            assertEquals(1, Pkcs11Tool.listObjects(first).stream().filter(Pkcs11Object::isPrivateKey).count());

            pool.release(first);
            Map<String, Long> onDisk = pool.slotsOnDisk();
            assertFalse(onDisk.containsKey(first.label()), "released token deleted: " + onDisk.keySet());
            assertTrue(onDisk.containsKey(second.label()), "other token kept: " + onDisk.keySet());
            assertThrows(IllegalStateException.class, first::provider, "a released token cannot be used");

            // The JVM's library still has the deleted token's slot open: the other token must keep working.
            KeyPair onSecond = generate(second);
            Signature signer = Signature.getInstance("SHA256withECDSA", second.provider());
            signer.initSign(onSecond.getPrivate());
            signer.update("still working".getBytes(StandardCharsets.UTF_8));
            Signature verifier = Signature.getInstance("SHA256withECDSA", second.provider());
            verifier.initVerify(onSecond.getPublic());
            verifier.update("still working".getBytes(StandardCharsets.UTF_8));
            assertTrue(verifier.verify(signer.sign()));
        } finally {
            pool.release(first);
            pool.release(second);
        }
    }

    @Test
    void pool_isCreatedOnceWithTheConfiguredSize() {
        SoftHsmPool pool = SoftHsmPool.jvmPool();
        assertSame(pool, SoftHsmPool.jvmPool());
        assertEquals(SoftHsmPool.tokenCount(), pool.size());
        assertTrue(pool.setupTime().toMillis() < 30_000, "pool setup took " + pool.setupTime());
    }

    @Test
    void parseSlots_mapsLabelsToReassignedSlots_skipsUninitialisedTokens() {
        String output = """
                Available slots:
                Slot 55702953
                    Slot info:
                        Description:      SoftHSM slot ID 0x351f5a9                                      \s
                        Manufacturer ID:  SoftHSM project                \s
                        Token present:    yes
                    Token info:
                        Manufacturer ID:  SoftHSM project                \s
                        Model:            SoftHSM v2     \s
                        Serial number:    ab3188f68351f5a9
                        Initialized:      yes
                        User PIN init.:   yes
                        Label:            probe-1                        \s
                Slot 484595412
                    Slot info:
                        Description:      SoftHSM slot ID 0x1ce256d4                                     \s
                        Token present:    yes
                    Token info:
                        Initialized:      yes
                        Label:            bourne-test-0a1b2c3d-23        \s
                Slot 3
                    Slot info:
                        Description:      SoftHSM slot ID 0x3                                            \s
                        Token present:    yes
                    Token info:
                        Serial number:                   \s
                        Initialized:      no
                        User PIN init.:   no
                        Label:                                           \s
                """;
        assertEquals(Map.of("probe-1", 55702953L, "bourne-test-0a1b2c3d-23", 484595412L),
                SoftHsmPool.parseSlots(output));
    }

    @Test
    void parseSlots_duplicateLabel_rejected() {
        String slot = """
                Slot %d
                    Token info:
                        Label:            same
                """;
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> SoftHsmPool.parseSlots(slot.formatted(1) + slot.formatted(2)));
        assertEquals("two SoftHSM tokens are labelled same", e.getMessage());
    }

    private static KeyPair generate(SoftHsmToken token) throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC", token.provider());
        generator.initialize(new ECGenParameterSpec("secp256r1"));
        return generator.generateKeyPair();
    }
}
