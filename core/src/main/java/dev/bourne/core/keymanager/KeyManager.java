package dev.bourne.core.keymanager;

import java.util.List;
import java.util.Optional;

/**
 * Generates and holds the server's signing keys (CA and JWT authorities) and signs with them, without ever exposing
 * private key material. Modelled on SPIRE's KeyManager plugin: keys are named by the caller ({@code x509-CA-A},
 * {@code JWT-Signer-B}, ...) and generating a key under an existing name replaces it.
 *
 * <p>Built-in implementations: {@code pkcs11} (any PKCS#11 token: production), {@code disk} (PKCS#8 files, for
 * development) and {@code memory} (tests). Implementations are thread-safe.
 */
public interface KeyManager extends AutoCloseable {

    /** The plugin name used in configuration, such as {@code pkcs11}. */
    String name();

    /**
     * Generates a new key of {@code type} named {@code id}, replacing any key of that name, and returns it once it has
     * proven it can sign (a self-test).
     */
    ManagedKey generateKey(String id, KeyType type) throws KeyManagerException;

    /** The key named {@code id}, if this key manager holds one. */
    Optional<ManagedKey> getKey(String id) throws KeyManagerException;

    /** Every key this key manager holds for this server, in no particular order. */
    List<ManagedKey> getKeys() throws KeyManagerException;

    /** Whether the key manager can sign now, and if not, why; never blocks for long and never throws. */
    KeyManagerStatus status();

    /** Releases sessions, files and threads. Keys persist where the implementation persists them. */
    @Override
    void close();
}
