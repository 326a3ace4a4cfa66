package dev.bourne.testing.hsm;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Parsing of {@code pkcs11-tool --list-objects}; the input is real output of OpenSC 0.23 on SoftHSM 2.6.1. */
class Pkcs11ToolTest {

    private static final String LISTING = """
            Public Key Object; EC  EC_POINT 256 bits
              EC_POINT:   044104ac5cd8123c4caafae3213ccc329341e059c37013d02e50c871a1e812c74073030f808368e94ca19c760f43ec5fe4deeff662d0f274bc274cda7c27928506fdc1
              EC_PARAMS:  06082a8648ce3d030107
              label:      my key
              ID:         0a1b
              Usage:      encrypt, verify, wrap, derive
              Access:     local
            Private Key Object; EC
              label:     \s
              Usage:      decrypt, sign, unwrap
              Access:     sensitive, always sensitive, never extractable, local
            Private Key Object; EC
              label:      my key
              ID:         0A1B
              Usage:      decrypt, sign, unwrap, derive
              Access:     none
            """;

    @Test
    void parseObjects_readsKindLabelIdAndFlags() {
        List<Pkcs11Object> objects = Pkcs11Tool.parseObjects(LISTING);
        assertEquals(3, objects.size());

        Pkcs11Object publicKey = objects.get(0);
        assertTrue(publicKey.isPublicKey());
        assertEquals("EC  EC_POINT 256 bits", publicKey.type());
        assertEquals("my key", publicKey.label());
        assertEquals("0a1b", publicKey.id());
        assertEquals(List.of("encrypt", "verify", "wrap", "derive"), publicKey.usage());
        assertEquals(List.of("local"), publicKey.access());
        assertEquals("06082a8648ce3d030107", publicKey.attributes().get("EC_PARAMS"));
        assertFalse(publicKey.sensitive());

        Pkcs11Object generated = objects.get(1);
        assertTrue(generated.isPrivateKey());
        assertEquals("", generated.label());
        assertEquals("", generated.id());
        assertTrue(generated.sensitive() && generated.alwaysSensitive() && generated.neverExtractable()
                && generated.local());

        Pkcs11Object imported = objects.get(2);
        assertEquals("0a1b", imported.id());
        assertEquals(List.of(), imported.access());
        assertFalse(imported.sensitive() || imported.alwaysSensitive() || imported.neverExtractable()
                || imported.local());
    }

    @Test
    void parseObjects_emptyToken_noObjects() {
        assertEquals(List.of(), Pkcs11Tool.parseObjects(""));
    }
}
