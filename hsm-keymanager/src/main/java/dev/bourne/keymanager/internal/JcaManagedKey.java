package dev.bourne.keymanager.internal;

import dev.bourne.core.keymanager.KeyManagerException;
import dev.bourne.core.keymanager.KeyType;
import dev.bourne.core.keymanager.ManagedKey;
import dev.bourne.core.keymanager.SignatureAlgorithm;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.PublicKey;
import java.security.Signature;
import java.util.Objects;

/**
 * A managed key backed by a JCA private key handle: an in-memory key, a key loaded from disk, or an opaque PKCS#11
 * handle. The handle is used only through {@link Signature}; it is never encoded.
 */
public final class JcaManagedKey extends AbstractManagedKey {
    private static final byte[] SELF_TEST_MESSAGE = "bourne key manager self-test".getBytes(StandardCharsets.US_ASCII);

    private final PrivateKey privateKey;
    private final Provider provider;

    /**
     * @param provider the provider that must sign with {@code privateKey} (the PKCS#11 provider for token keys), or
     *     {@code null} for the JDK's default choice
     */
    public JcaManagedKey(String id, KeyType type, PublicKey publicKey, PrivateKey privateKey, Provider provider) {
        super(id, type, publicKey);
        this.privateKey = Objects.requireNonNull(privateKey, "privateKey");
        this.provider = provider;
    }

    @Override
    protected byte[] signFitting(SignatureAlgorithm algorithm, byte[] data) throws KeyManagerException {
        try {
            return Signatures.sign(algorithm, privateKey, provider, data);
        } catch (GeneralSecurityException e) {
            throw new KeyManagerException("key " + id() + " cannot sign with " + algorithm + ": " + e.getMessage(), e);
        }
    }

    /** Throws when {@code algorithm} needs another kind of key than {@code type}. */
    public static void checkFits(SignatureAlgorithm algorithm, KeyType type) {
        if (!algorithm.fits(type)) {
            throw new IllegalArgumentException(algorithm + " needs an " + algorithm.keyAlgorithm() + " key, not "
                    + type.configName());
        }
    }

    /**
     * Signs a fixed message with the key's default algorithm and verifies it with the public key through the JDK's
     * default providers: proves the private and public halves belong together and the store can sign.
     */
    public static void selfTest(ManagedKey key) throws KeyManagerException {
        SignatureAlgorithm algorithm = key.type().defaultSignatureAlgorithm();
        byte[] signature = key.sign(algorithm, SELF_TEST_MESSAGE);
        try {
            if (!Signatures.verify(algorithm, key.publicKey(), SELF_TEST_MESSAGE, signature)) {
                throw new KeyManagerException("self-test failed for key " + key.id()
                        + ": its signature does not verify with its public key");
            }
        } catch (GeneralSecurityException e) {
            throw new KeyManagerException("self-test failed for key " + key.id() + ": " + e.getMessage(), e);
        }
    }

    @Override
    public String toString() {
        return "ManagedKey{" + id() + ", " + type().configName() + "}";
    }
}
