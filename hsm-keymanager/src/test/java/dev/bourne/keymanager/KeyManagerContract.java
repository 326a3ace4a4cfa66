package dev.bourne.keymanager;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bourne.core.keymanager.KeyManager;
import dev.bourne.core.keymanager.KeyType;
import dev.bourne.core.keymanager.ManagedKey;
import dev.bourne.core.keymanager.SignatureAlgorithm;
import java.nio.charset.StandardCharsets;
import java.security.PublicKey;
import java.security.Signature;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The behaviour every {@link KeyManager} promises, run against each implementation: memory, disk and PKCS#11 on
 * SoftHSM2. One key manager per test class; each key type is generated once per class (RSA-4096 is slow on SoftHSM2)
 * under the id {@code contract-<type>}, and tests that replace or persist keys use ids of their own.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class KeyManagerContract {

    private static final byte[] MESSAGE = "bourne key manager contract".getBytes(StandardCharsets.UTF_8);

    private KeyManager keyManager;
    private final Map<KeyType, ManagedKey> shared = new EnumMap<>(KeyType.class);

    /** A new key manager over this class's store; called once for the class and again by the persistence test. */
    protected abstract KeyManager open() throws Exception;

    /** Whether keys survive closing the key manager and opening another over the same store. */
    protected abstract boolean persistent();

    protected final KeyManager keyManager() throws Exception {
        if (keyManager == null) {
            keyManager = open();
        }
        return keyManager;
    }

    @AfterAll
    void closeKeyManager() {
        if (keyManager != null) {
            keyManager.close();
        }
    }

    protected final synchronized ManagedKey sharedKey(KeyType type) throws Exception {
        ManagedKey key = shared.get(type);
        if (key == null) {
            key = keyManager().generateKey("contract-" + type.configName(), type);
            shared.put(type, key);
        }
        return key;
    }

    @Test
    void status_isActive() throws Exception {
        assertTrue(keyManager().status().isActive(), keyManager().status().reason());
    }

    @ParameterizedTest
    @EnumSource(KeyType.class)
    void generateKey_everyType_hasThatTypeAndIsFound(KeyType type) throws Exception {
        ManagedKey key = sharedKey(type);

        assertEquals("contract-" + type.configName(), key.id());
        assertEquals(type, key.type());
        PublicKey publicKey = key.publicKey();
        assertEquals(type.jcaAlgorithm(), publicKey.getAlgorithm());
        int bits = publicKey instanceof ECPublicKey ec ? ec.getParams().getCurve().getField().getFieldSize()
                : ((RSAPublicKey) publicKey).getModulus().bitLength();
        assertEquals(type.bits(), bits);
        Optional<ManagedKey> found = keyManager().getKey(key.id());
        assertTrue(found.isPresent());
        assertArrayEquals(publicKey.getEncoded(), found.get().publicKey().getEncoded());
    }

    static Stream<Arguments> fittingAlgorithms() {
        List<Arguments> all = new ArrayList<>();
        for (KeyType type : KeyType.values()) {
            for (SignatureAlgorithm algorithm : SignatureAlgorithm.values()) {
                if (algorithm.fits(type)) {
                    all.add(Arguments.of(type, algorithm));
                }
            }
        }
        return all.stream();
    }

    @ParameterizedTest
    @MethodSource("fittingAlgorithms")
    void sign_everyFittingAlgorithm_verifiesWithTheJdk(KeyType type, SignatureAlgorithm algorithm) throws Exception {
        ManagedKey key = sharedKey(type);

        byte[] signature = key.sign(algorithm, MESSAGE);

        assertTrue(verify(key.publicKey(), algorithm, MESSAGE, signature), "the JDK verifies " + algorithm);
        assertFalse(verify(key.publicKey(), algorithm, "another message".getBytes(StandardCharsets.UTF_8), signature),
                "the JDK rejects the signature over another message");
    }

    @ParameterizedTest
    @MethodSource("misfittingAlgorithms")
    void sign_misfittingAlgorithm_refused(KeyType type, SignatureAlgorithm algorithm) throws Exception {
        ManagedKey key = sharedKey(type);

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> key.sign(algorithm, MESSAGE));
        assertEquals(algorithm + " needs an " + algorithm.keyAlgorithm() + " key, not " + type.configName(),
                e.getMessage());
    }

    static Stream<Arguments> misfittingAlgorithms() {
        return Stream.of(Arguments.of(KeyType.EC_P256, SignatureAlgorithm.RSA_PKCS1_SHA256),
                Arguments.of(KeyType.EC_P256, SignatureAlgorithm.RSA_PSS_SHA256),
                Arguments.of(KeyType.RSA_2048, SignatureAlgorithm.ECDSA_SHA256));
    }

    @ParameterizedTest
    @NullAndEmptySource
    @ValueSource(strings = {"../etc/passwd", "a/b", "a b", "-leading-dash", ".hidden", "x509-CA-A\n",
            "bourne:other:x509-CA-A", "é", "a12345678901234567890123456789012345678901234567890123456789012345"})
    void invalidIds_refused(String id) throws Exception {
        KeyManager km = keyManager();
        IllegalArgumentException generate = assertThrows(IllegalArgumentException.class,
                () -> km.generateKey(id, KeyType.EC_P256));
        assertTrue(generate.getMessage().startsWith("invalid key id"), generate.getMessage());
        assertThrows(IllegalArgumentException.class, () -> km.getKey(id));
    }

    @Test
    void generateKey_sameId_replacesTheKey() throws Exception {
        ManagedKey first = keyManager().generateKey("replace-me", KeyType.EC_P256);

        ManagedKey second = keyManager().generateKey("replace-me", KeyType.EC_P384);

        assertEquals(KeyType.EC_P384, second.type());
        assertNotEquals(List.of(first.publicKey().getEncoded()), List.of(second.publicKey().getEncoded()));
        ManagedKey found = keyManager().getKey("replace-me").orElseThrow();
        assertEquals(KeyType.EC_P384, found.type());
        assertArrayEquals(second.publicKey().getEncoded(), found.publicKey().getEncoded());
        assertEquals(1, keyManager().getKeys().stream().filter(k -> k.id().equals("replace-me")).count());
        byte[] signature = found.sign(SignatureAlgorithm.ECDSA_SHA384, MESSAGE);
        assertTrue(verify(second.publicKey(), SignatureAlgorithm.ECDSA_SHA384, MESSAGE, signature));
    }

    @Test
    void getKey_unknownId_isEmpty() throws Exception {
        assertEquals(Optional.empty(), keyManager().getKey("never-generated"));
    }

    @Test
    void getKeys_listsGeneratedKeys() throws Exception {
        ManagedKey key = keyManager().generateKey("listed", KeyType.EC_P256);

        List<ManagedKey> keys = keyManager().getKeys();

        ManagedKey listed = keys.stream().filter(k -> k.id().equals("listed")).findFirst().orElseThrow();
        assertArrayEquals(key.publicKey().getEncoded(), listed.publicKey().getEncoded());
        assertEquals(keys.size(), keys.stream().map(ManagedKey::id).distinct().count(), "one key per id");
    }

    @Test
    void reopen_persistentStore_keepsKeysAndSigns() throws Exception {
        ManagedKey key = keyManager().generateKey("persisted", KeyType.EC_P256);

        try (KeyManager reopened = open()) {
            Optional<ManagedKey> found = reopened.getKey("persisted");
            if (!persistent()) {
                assertEquals(Optional.empty(), found);
                return;
            }
            assertTrue(found.isPresent(), "a new key manager over the same store finds the key");
            assertArrayEquals(key.publicKey().getEncoded(), found.get().publicKey().getEncoded());
            byte[] signature = found.get().sign(SignatureAlgorithm.ECDSA_SHA256, MESSAGE);
            assertTrue(verify(key.publicKey(), SignatureAlgorithm.ECDSA_SHA256, MESSAGE, signature));
            assertTrue(reopened.getKeys().stream().anyMatch(k -> k.id().equals("persisted")));
        }
    }

    @Test
    void sign_fromSeveralThreads_everySignatureVerifies() throws Exception {
        ManagedKey ec = sharedKey(KeyType.EC_P256);
        ManagedKey rsa = sharedKey(KeyType.RSA_2048);
        ExecutorService pool = Executors.newFixedThreadPool(6);
        try {
            List<Future<Boolean>> results = new ArrayList<>();
            for (int t = 0; t < 6; t++) {
                int thread = t;
                results.add(pool.submit(() -> {
                    for (int i = 0; i < 40; i++) {
                        byte[] data = ("thread " + thread + " message " + i).getBytes(StandardCharsets.UTF_8);
                        ManagedKey key = i % 4 == 0 ? rsa : ec;
                        SignatureAlgorithm algorithm = i % 4 == 0 ? SignatureAlgorithm.RSA_PSS_SHA256
                                : SignatureAlgorithm.ECDSA_SHA256;
                        if (!verify(key.publicKey(), algorithm, data, key.sign(algorithm, data))) {
                            return false;
                        }
                    }
                    return true;
                }));
            }
            for (Future<Boolean> result : results) {
                assertTrue(result.get(120, TimeUnit.SECONDS), "every signature verifies");
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /** Verifies with the JDK's default providers only: nothing of the key manager takes part. */
    protected static boolean verify(PublicKey key, SignatureAlgorithm algorithm, byte[] data, byte[] signature)
            throws Exception {
        Signature verifier = Signature.getInstance(algorithm.jcaName());
        if (algorithm.parameters() != null) {
            verifier.setParameter(algorithm.parameters());
        }
        verifier.initVerify(key);
        verifier.update(data);
        try {
            return verifier.verify(signature);
        } catch (java.security.SignatureException e) {
            return false;
        }
    }
}
