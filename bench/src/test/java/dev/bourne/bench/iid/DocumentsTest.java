package dev.bourne.bench.iid;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bourne.core.config.PluginConfig;
import dev.bourne.core.keymanager.KeyManager;
import dev.bourne.core.keymanager.KeyType;
import dev.bourne.keymanager.KeyManagers;
import dev.bourne.openstack.vendordata.IidSigner;
import dev.bourne.openstack.vendordata.IidSigningKeys;
import dev.bourne.testing.time.MutableClock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.security.Signature;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The pre-signed documents: each handed out once (a fresh jti every time), a new batch when one is used up or half way
 * to its expiry, and the limit's input (signing input, DER signature) verifying with the signer's public key.
 */
class DocumentsTest {
    private static final Duration TTL = Duration.ofMinutes(5);
    private final MutableClock clock = MutableClock.at("2026-06-01T10:00:00Z");
    @TempDir
    Path dir;

    @Test
    void next_freshDocumentsAcrossBatches_andTheLimitInputVerifies() throws Exception {
        try (KeyManager keyManager = KeyManagers.open(new PluginConfig("test", KeyManagers.PLUGIN_TYPE, "memory",
                true, Map.of()), dir, new SecureRandom(), clock)) {
            IidSigningKeys keys = IidSigningKeys.open(keyManager, dir, KeyType.EC_P256, Duration.ofHours(24), TTL,
                    clock);
            IidSigner signer = new IidSigner(keys, "https://issuer.test", List.of("spiffe://td.test/spire/server"),
                    TTL, clock, new SecureRandom());
            Documents documents = new Documents(signer, TTL, clock, 3);
            assertEquals(3, documents.signed());

            Set<String> seen = new HashSet<>();
            byte[] first = documents.next();
            seen.add(new String(first, StandardCharsets.US_ASCII));
            seen.add(new String(documents.next(), StandardCharsets.US_ASCII));
            seen.add(new String(documents.next(), StandardCharsets.US_ASCII));
            assertEquals(3, documents.signed());
            seen.add(new String(documents.next(), StandardCharsets.US_ASCII)); // batch used up: a new one
            assertEquals(6, documents.signed());
            clock.advance(TTL.dividedBy(2)); // half way to expiry: a new batch though this one has two left
            seen.add(new String(documents.next(), StandardCharsets.US_ASCII));
            assertEquals(9, documents.signed());
            assertEquals(5, seen.size());

            // The limit's input is the first batch: the first document's signing input and its signature in DER.
            int lastDot = new String(first, StandardCharsets.US_ASCII).lastIndexOf('.');
            assertArrayEquals(Arrays.copyOf(first, lastDot), documents.signingInput(0));
            assertArrayEquals(documents.signingInput(1), documents.signingInput(4));
            Signature verifier = Signature.getInstance("SHA256withECDSA");
            verifier.initVerify(keys.activeKey().publicJwk().toECKey().toECPublicKey());
            for (int i = 0; i < 3; i++) {
                verifier.update(documents.signingInput(i));
                assertTrue(verifier.verify(documents.derSignature(i)), "signature " + i);
            }
        }
    }
}
