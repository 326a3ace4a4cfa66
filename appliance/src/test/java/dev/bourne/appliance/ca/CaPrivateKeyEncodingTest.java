package dev.bourne.appliance.ca;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.bourne.testing.source.PrivateKeyEncodingCheck;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * No code of the appliance encodes a private key: CA keys stay in the key manager, and the disk upstream's operator
 * key is only ever used to sign.
 */
class CaPrivateKeyEncodingTest {
    @Test
    void mainSources_neverEncodeAPrivateKey() {
        assertEquals(List.of(), PrivateKeyEncodingCheck.check(List.of(Path.of("src/main/java")),
                System.getProperty("java.class.path"), Set.of(), List.of()));
    }
}
