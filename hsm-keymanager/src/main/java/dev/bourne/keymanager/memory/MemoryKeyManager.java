package dev.bourne.keymanager.memory;

import dev.bourne.core.keymanager.KeyManager;
import dev.bourne.core.keymanager.KeyManagerException;
import dev.bourne.core.keymanager.KeyManagerStatus;
import dev.bourne.core.keymanager.KeyType;
import dev.bourne.core.keymanager.ManagedKey;
import dev.bourne.keymanager.internal.JcaManagedKey;
import dev.bourne.keymanager.internal.KeyIds;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.RSAKeyGenParameterSpec;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The {@code memory} key manager: keys generated with the JDK and held in this process only, lost on restart. For
 * tests and throwaway development servers; a server using it hands out a new CA on every start.
 */
public final class MemoryKeyManager implements KeyManager {
    public static final String NAME = "memory";

    private final Map<String, ManagedKey> keys = new ConcurrentHashMap<>();
    private final SecureRandom random;

    public MemoryKeyManager(SecureRandom random) {
        this.random = Objects.requireNonNull(random, "random");
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public ManagedKey generateKey(String id, KeyType type) throws KeyManagerException {
        KeyIds.check(id);
        Objects.requireNonNull(type, "type");
        KeyPair pair = generate(type, random);
        ManagedKey key = new JcaManagedKey(id, type, pair.getPublic(), pair.getPrivate(), null);
        JcaManagedKey.selfTest(key);
        keys.put(id, key);
        return key;
    }

    @Override
    public Optional<ManagedKey> getKey(String id) {
        KeyIds.check(id);
        return Optional.ofNullable(keys.get(id));
    }

    @Override
    public List<ManagedKey> getKeys() {
        return List.copyOf(keys.values());
    }

    @Override
    public KeyManagerStatus status() {
        return KeyManagerStatus.active();
    }

    @Override
    public void close() {
        keys.clear();
    }

    /** A fresh key pair of {@code type} from the JDK's default providers. */
    public static KeyPair generate(KeyType type, SecureRandom random) throws KeyManagerException {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance(type.jcaAlgorithm());
            if (type.isEc()) {
                generator.initialize(new ECGenParameterSpec(type.curveName()), random);
            } else {
                generator.initialize(new RSAKeyGenParameterSpec(type.bits(), RSAKeyGenParameterSpec.F4), random);
            }
            return generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new KeyManagerException("cannot generate a " + type.configName() + " key", e);
        }
    }
}
