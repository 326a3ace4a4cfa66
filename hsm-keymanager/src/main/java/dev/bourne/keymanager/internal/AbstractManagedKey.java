package dev.bourne.keymanager.internal;

import dev.bourne.core.keymanager.KeyManagerException;
import dev.bourne.core.keymanager.KeyType;
import dev.bourne.core.keymanager.ManagedKey;
import dev.bourne.core.keymanager.SignatureAlgorithm;
import java.security.PublicKey;
import java.util.Objects;

/**
 * What every key manager's {@link ManagedKey} shares: its id, type and public key, and the check that a signature
 * algorithm fits the key's type before the store is asked to sign. Subclasses say only how the private half signs.
 */
public abstract class AbstractManagedKey implements ManagedKey {
    private final String id;
    private final KeyType type;
    private final PublicKey publicKey;

    protected AbstractManagedKey(String id, KeyType type, PublicKey publicKey) {
        this.id = Objects.requireNonNull(id, "id");
        this.type = Objects.requireNonNull(type, "type");
        this.publicKey = Objects.requireNonNull(publicKey, "publicKey");
    }

    @Override
    public final String id() {
        return id;
    }

    @Override
    public final KeyType type() {
        return type;
    }

    @Override
    public final PublicKey publicKey() {
        return publicKey;
    }

    @Override
    public final byte[] sign(SignatureAlgorithm algorithm, byte[] data) throws KeyManagerException {
        JcaManagedKey.checkFits(algorithm, type);
        return signFitting(algorithm, data);
    }

    /** Signs {@code data} with {@code algorithm}, already checked to fit this key's type. */
    protected abstract byte[] signFitting(SignatureAlgorithm algorithm, byte[] data) throws KeyManagerException;
}
