package dev.bourne.keymanager.pkcs11;

import dev.bourne.core.keymanager.KeyManagerException;
import dev.bourne.core.keymanager.KeyType;
import dev.bourne.core.keymanager.ManagedKey;
import dev.bourne.core.keymanager.SignatureAlgorithm;
import dev.bourne.keymanager.internal.AbstractManagedKey;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.util.EnumMap;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * A key on the token: the SunPKCS11 handle of its private key (an opaque reference; the key never leaves the token)
 * and its public key, with a pool of initialised {@link Signature} objects per algorithm so that a signature costs one
 * {@code update} and one {@code sign}, without a provider lookup.
 */
final class Pkcs11ManagedKey extends AbstractManagedKey {

    private final Pkcs11KeyManager manager;
    private final Pkcs11KeyManager.Connection connection;
    private final PrivateKey privateKey;
    private final byte[] objectId;
    private final Map<SignatureAlgorithm, Queue<Signature>> signers = new EnumMap<>(SignatureAlgorithm.class);
    private volatile boolean replaced;

    Pkcs11ManagedKey(Pkcs11KeyManager manager, Pkcs11KeyManager.Connection connection, String id, KeyType type,
            PublicKey publicKey, PrivateKey privateKey, byte[] objectId) {
        super(id, type, publicKey);
        this.manager = manager;
        this.connection = connection;
        this.privateKey = privateKey;
        this.objectId = objectId.clone();
        for (SignatureAlgorithm algorithm : SignatureAlgorithm.values()) {
            if (algorithm.fits(type)) {
                signers.put(algorithm, new ConcurrentLinkedQueue<>());
            }
        }
    }

    @Override
    protected byte[] signFitting(SignatureAlgorithm algorithm, byte[] data) throws KeyManagerException {
        if (replaced) {
            throw new KeyManagerException(String.format(Pkcs11KeyManager.KEY_REPLACED, id()));
        }
        Pkcs11KeyManager.Connection current = manager.activeConnection();
        if (current != connection) {
            // The key manager reconnected since this handle was loaded: its handle belongs to the old provider.
            return manager.reload(this).sign(algorithm, data);
        }
        return manager.sign(this, algorithm, data);
    }

    /**
     * This key signing through its own connection without asking the key manager for the current one: for the
     * self-test while that connection is being activated.
     */
    ManagedKey direct() {
        Pkcs11ManagedKey key = this;
        return new AbstractManagedKey(id(), type(), publicKey()) {
            @Override
            protected byte[] signFitting(SignatureAlgorithm algorithm, byte[] data) throws KeyManagerException {
                return manager.sign(key, algorithm, data);
            }
        };
    }

    Pkcs11KeyManager.Connection connection() {
        return connection;
    }

    PrivateKey privateKey() {
        return privateKey;
    }

    byte[] objectId() {
        return objectId.clone();
    }

    Queue<Signature> signers(SignatureAlgorithm algorithm) {
        return signers.get(algorithm);
    }

    void markReplaced() {
        replaced = true;
    }

    boolean isReplaced() {
        return replaced;
    }

    @Override
    public String toString() {
        return "ManagedKey{" + id() + ", " + type().configName() + ", pkcs11}";
    }
}
