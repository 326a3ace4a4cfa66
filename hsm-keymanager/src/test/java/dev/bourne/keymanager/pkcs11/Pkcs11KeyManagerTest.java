package dev.bourne.keymanager.pkcs11;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bourne.core.keymanager.KeyManager;
import dev.bourne.core.keymanager.KeyManagerException;
import dev.bourne.core.keymanager.KeyManagerStatus;
import dev.bourne.core.keymanager.KeyType;
import dev.bourne.core.keymanager.ManagedKey;
import dev.bourne.core.keymanager.SignatureAlgorithm;
import dev.bourne.keymanager.KeyManagerContract;
import dev.bourne.testing.hsm.Pkcs11Object;
import dev.bourne.testing.hsm.Pkcs11Tool;
import dev.bourne.testing.hsm.SoftHsmToken;
import dev.bourne.testing.hsm.WithSoftHsm;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The contract on a SoftHSM2 token, plus what only a token can show: objects, sharing, bounded sessions. */
@WithSoftHsm
class Pkcs11KeyManagerTest extends KeyManagerContract {

    private static final byte[] MESSAGE = "pkcs11 key manager".getBytes(StandardCharsets.UTF_8);

    private final SoftHsmToken token;

    Pkcs11KeyManagerTest(SoftHsmToken token) {
        this.token = token;
    }

    static Pkcs11Settings settings(SoftHsmToken token, int maxSessions) {
        return new Pkcs11Settings(token.library(), token.label(), new Pkcs11Settings.PinFile(token.pinFile()),
                new Pkcs11Settings.KeyIdentifierValue("contract"), maxSessions);
    }

    private Pkcs11KeyManager open(String keyIdentifier, int maxSessions, Duration permitTimeout) {
        return new Pkcs11KeyManager(settings(token, maxSessions), keyIdentifier, Clock.systemUTC(),
                new SecureRandom(), new Pkcs11KeyManager.Options(Duration.ofSeconds(1), Duration.ofSeconds(60),
                        permitTimeout, System::getenv));
    }

    @Override
    protected KeyManager open() {
        return open("contract", 4, Duration.ofSeconds(30));
    }

    @Override
    protected boolean persistent() {
        return true;
    }

    @Test
    void generatedKey_onTokenSensitiveNeverExtractableLocal_labelledAsDesigned() throws Exception {
        Pkcs11KeyManager km = (Pkcs11KeyManager) keyManager();
        Pkcs11ManagedKey key = (Pkcs11ManagedKey) km.generateKey("x509-CA-A", KeyType.EC_P256);

        assertNull(key.privateKey().getEncoded(), "the JCA handle exposes no key material");
        List<Pkcs11Object> labelled = Pkcs11Tool.listObjects(token).stream()
                .filter(o -> o.label().equals("bourne:contract:x509-CA-A")).toList();
        List<Pkcs11Object> privateKeys = labelled.stream().filter(Pkcs11Object::isPrivateKey).toList();
        assertEquals(1, privateKeys.size(), "one private key labelled bourne:contract:x509-CA-A: " + labelled);
        Pkcs11Object privateKey = privateKeys.get(0);
        assertTrue(privateKey.sensitive(), "sensitive: " + privateKey.access());
        assertTrue(privateKey.alwaysSensitive(), "always sensitive: " + privateKey.access());
        assertTrue(privateKey.neverExtractable(), "never extractable: " + privateKey.access());
        assertTrue(privateKey.local(), "generated on the token: " + privateKey.access());
        assertEquals(List.of("sign"), privateKey.usage(), "sign only");
        String expectedId = HexFormat.of().formatHex(key.objectId());
        assertEquals(expectedId, privateKey.id());
        assertEquals(HexFormat.of().formatHex(Pkcs11KeyManager.objectId("bourne:contract:x509-CA-A", 0), 0, 16),
                privateKey.id().substring(0, 32), "the CKA_ID starts with the hash of the label");
        assertEquals(1, labelled.stream().filter(Pkcs11Object::isPublicKey).filter(o -> o.id().equals(expectedId))
                .count(), "its public key has the same label and id");
    }

    @Test
    void afterModuleFailure_unavailable_thenReconnects_andOldHandlesSignThroughTheNewProvider() throws Exception {
        // A backoff of an hour: the background retry stays out of the way, reconnect() is the trigger.
        try (Pkcs11KeyManager km = new Pkcs11KeyManager(settings(token, 2), "recovering", Clock.systemUTC(),
                new SecureRandom(), new Pkcs11KeyManager.Options(Duration.ofHours(1), Duration.ofHours(1),
                        Duration.ofSeconds(30), System::getenv))) {
            ManagedKey key = km.generateKey("x509-CA-A", KeyType.EC_P256);

            km.connectionFailed("CKR_DEVICE_ERROR (test)");

            assertEquals(new KeyManagerStatus(KeyManagerStatus.State.UNAVAILABLE,
                    "CKR_DEVICE_ERROR (test)"), km.status());
            assertEquals(KeyManagerStatus.active(), km.reconnect());
            byte[] signature = key.sign(SignatureAlgorithm.ECDSA_SHA256, MESSAGE);
            assertTrue(verify(key.publicKey(), SignatureAlgorithm.ECDSA_SHA256, MESSAGE, signature),
                    "the handle from before the failure signs through the new connection");
            assertEquals(2, km.loginAttempts(), "one login per connection");
        }
    }

    @Test
    void replacedKey_oldObjectsDestroyed_oldHandleRefused() throws Exception {
        KeyManager km = keyManager();
        ManagedKey old = km.generateKey("rotated", KeyType.EC_P256);
        String oldId = HexFormat.of().formatHex(((Pkcs11ManagedKey) old).objectId());

        ManagedKey replacement = km.generateKey("rotated", KeyType.EC_P256);

        List<Pkcs11Object> objects = Pkcs11Tool.listObjects(token);
        assertEquals(List.of(), objects.stream().filter(o -> o.id().equals(oldId)).toList(),
                "no object of the replaced key is left");
        assertEquals(2, objects.stream().filter(o -> o.label().equals("bourne:contract:rotated")).count(),
                "the new private and public key");
        KeyManagerException e = assertThrows(KeyManagerException.class,
                () -> old.sign(SignatureAlgorithm.ECDSA_SHA256, MESSAGE));
        assertEquals(String.format(Pkcs11KeyManager.KEY_REPLACED, "rotated"), e.getMessage());
        assertTrue(verify(replacement.publicKey(), SignatureAlgorithm.ECDSA_SHA256, MESSAGE,
                replacement.sign(SignatureAlgorithm.ECDSA_SHA256, MESSAGE)));
    }

    @Test
    void twoKeyIdentifiersOnOneToken_neverSeeOrReplaceEachOthersKeys() throws Exception {
        try (Pkcs11KeyManager first = open("server-one", 2, Duration.ofSeconds(30));
                Pkcs11KeyManager second = open("server-two", 2, Duration.ofSeconds(30))) {
            ManagedKey mine = first.generateKey("x509-CA-A", KeyType.EC_P256);
            ManagedKey theirs = second.generateKey("x509-CA-A", KeyType.EC_P256);
            ManagedKey theirsReplaced = second.generateKey("x509-CA-A", KeyType.EC_P256);

            assertArrayEquals(mine.publicKey().getEncoded(),
                    first.getKey("x509-CA-A").orElseThrow().publicKey().getEncoded(), "second's rotation left first's");
            assertArrayEquals(theirsReplaced.publicKey().getEncoded(),
                    second.getKey("x509-CA-A").orElseThrow().publicKey().getEncoded());
            assertEquals(List.of("x509-CA-A"), first.getKeys().stream().map(ManagedKey::id).toList());
            assertEquals(List.of("x509-CA-A"), second.getKeys().stream().map(ManagedKey::id).toList());
            try (Pkcs11KeyManager firstAgain = open("server-one", 2, Duration.ofSeconds(30))) {
                assertArrayEquals(mine.publicKey().getEncoded(),
                        firstAgain.getKey("x509-CA-A").orElseThrow().publicKey().getEncoded());
            }
            assertTrue(verify(mine.publicKey(), SignatureAlgorithm.ECDSA_SHA256, MESSAGE,
                    mine.sign(SignatureAlgorithm.ECDSA_SHA256, MESSAGE)));
            assertEquals(1, Pkcs11Tool.listObjects(token).stream()
                    .filter(o -> o.isPrivateKey() && o.label().equals("bourne:server-two:x509-CA-A")).count());
            assertTrue(theirs != theirsReplaced);
        }
    }

    @Test
    void moreThreadsThanMaxSessions_allSign_neverMoreThanMaxSessionsAtOnce() throws Exception {
        int maxSessions = 2;
        try (Pkcs11KeyManager bounded = open("bounded", maxSessions, Duration.ofSeconds(60))) {
            ManagedKey key = bounded.generateKey("busy", KeyType.EC_P256);
            int threads = 12;
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            CountDownLatch start = new CountDownLatch(1);
            try {
                List<Future<Integer>> results = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    results.add(pool.submit(() -> {
                        start.await();
                        int verified = 0;
                        for (int i = 0; i < 100; i++) {
                            if (verify(key.publicKey(), SignatureAlgorithm.ECDSA_SHA256, MESSAGE,
                                    key.sign(SignatureAlgorithm.ECDSA_SHA256, MESSAGE))) {
                                verified++;
                            }
                        }
                        return verified;
                    }));
                }
                start.countDown();
                for (Future<Integer> result : results) {
                    assertEquals(100, result.get(120, TimeUnit.SECONDS), "no failure, no exception");
                }
            } finally {
                pool.shutdownNow();
            }
            assertTrue(bounded.peakConcurrentSignatures() <= maxSessions,
                    "peak " + bounded.peakConcurrentSignatures() + " > " + maxSessions);
            assertTrue(bounded.peakConcurrentSignatures() >= 1);
        }
    }

    @Test
    void noSigningTurnWithinTimeout_failsWithClearError() throws Exception {
        try (Pkcs11KeyManager bounded = open("starved", 1, Duration.ofMillis(50))) {
            ManagedKey key = bounded.generateKey("starved-key", KeyType.EC_P256);
            bounded.signingPermits().acquire();
            try {
                KeyManagerException e = assertThrows(KeyManagerException.class,
                        () -> key.sign(SignatureAlgorithm.ECDSA_SHA256, MESSAGE));
                assertEquals(String.format(Pkcs11KeyManager.SIGN_TIMEOUT, Duration.ofMillis(50), 1), e.getMessage());
            } finally {
                bounded.signingPermits().release();
            }
            assertTrue(verify(key.publicKey(), SignatureAlgorithm.ECDSA_SHA256, MESSAGE,
                    key.sign(SignatureAlgorithm.ECDSA_SHA256, MESSAGE)), "signs again once a turn is free");
        }
    }
}
