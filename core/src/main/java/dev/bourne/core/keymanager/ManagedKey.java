package dev.bourne.core.keymanager;

import java.security.PublicKey;

/**
 * A private key held by a {@link KeyManager}, reachable only through {@link #sign}: the key material itself is never
 * exposed, which is what lets an HSM-backed implementation keep it on the token.
 *
 * <p>Implementations are thread-safe.
 */
public interface ManagedKey {

    /** The key's identifier within its key manager, such as {@code x509-CA-A}. */
    String id();

    KeyType type();

    /** The public half, usable with any JCA provider. */
    PublicKey publicKey();

    /**
     * Signs {@code data} (the whole message, not a digest) with {@code algorithm}.
     *
     * @throws IllegalArgumentException when the algorithm does not fit the key type
     * @throws KeyManagerException when the key cannot sign now (see its subclasses for whether to retry)
     */
    byte[] sign(SignatureAlgorithm algorithm, byte[] data) throws KeyManagerException;
}
