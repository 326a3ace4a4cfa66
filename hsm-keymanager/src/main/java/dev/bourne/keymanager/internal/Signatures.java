package dev.bourne.keymanager.internal;

import dev.bourne.core.keymanager.SignatureAlgorithm;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.PublicKey;
import java.security.Signature;

/**
 * The one place the key managers build {@link Signature} objects: the JCA name and parameters of a
 * {@link SignatureAlgorithm}, initialised for signing with a private key handle or for verifying with a public key.
 */
public final class Signatures {
    private Signatures() {
    }

    /**
     * A {@link Signature} initialised to sign with {@code privateKey}. An initialised signer can sign many messages
     * in turn ({@code sign()} leaves it ready for the same key), which is what the PKCS#11 pool relies on.
     *
     * @param provider the provider that must sign with {@code privateKey} (the PKCS#11 provider for token keys), or
     *     {@code null} for the JDK's default choice
     */
    public static Signature signer(SignatureAlgorithm algorithm, PrivateKey privateKey, Provider provider)
            throws GeneralSecurityException {
        Signature signer = provider != null
                ? Signature.getInstance(algorithm.jcaName(), provider)
                : Signature.getInstance(algorithm.jcaName());
        if (algorithm.parameters() != null) {
            signer.setParameter(algorithm.parameters());
        }
        signer.initSign(privateKey);
        return signer;
    }

    /** Signs {@code data} once with a fresh signer for {@code privateKey}. */
    public static byte[] sign(SignatureAlgorithm algorithm, PrivateKey privateKey, Provider provider, byte[] data)
            throws GeneralSecurityException {
        Signature signer = signer(algorithm, privateKey, provider);
        signer.update(data);
        return signer.sign();
    }

    /** Whether {@code signature} over {@code data} verifies with {@code publicKey}, through the JDK's default providers. */
    public static boolean verify(SignatureAlgorithm algorithm, PublicKey publicKey, byte[] data, byte[] signature)
            throws GeneralSecurityException {
        Signature verifier = Signature.getInstance(algorithm.jcaName());
        if (algorithm.parameters() != null) {
            verifier.setParameter(algorithm.parameters());
        }
        verifier.initVerify(publicKey);
        verifier.update(data);
        return verifier.verify(signature);
    }
}
