package dev.bourne.appliance.ca.internal;

import dev.bourne.core.keymanager.KeyManagerException;
import dev.bourne.core.keymanager.ManagedKey;
import dev.bourne.core.keymanager.SignatureAlgorithm;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.util.Objects;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.DefaultSignatureAlgorithmIdentifierFinder;
import org.bouncycastle.operator.RuntimeOperatorException;

/**
 * A BouncyCastle {@link ContentSigner} that signs through a {@link ManagedKey}, so certificates are built by
 * BouncyCastle while the private key stays in its key manager (on the HSM for {@code pkcs11}).
 *
 * <p>One instance signs one structure (BouncyCastle's contract): create one per certificate. A key manager failure
 * surfaces as a {@link RuntimeOperatorException} whose cause is the {@link KeyManagerException}; callers unwrap it with
 * {@link #unwrap}.
 */
public final class ManagedKeyContentSigner implements ContentSigner {
    private final ManagedKey key;
    private final SignatureAlgorithm algorithm;
    private final AlgorithmIdentifier algorithmIdentifier;
    private final ByteArrayOutputStream content = new ByteArrayOutputStream(1024);

    public ManagedKeyContentSigner(ManagedKey key, SignatureAlgorithm algorithm) {
        this.key = Objects.requireNonNull(key, "key");
        this.algorithm = Objects.requireNonNull(algorithm, "algorithm");
        if (!algorithm.fits(key.type())) {
            throw new IllegalArgumentException(algorithm + " cannot sign with a " + key.type().configName() + " key");
        }
        this.algorithmIdentifier = algorithmIdentifier(algorithm);
    }

    /** The X.509 AlgorithmIdentifier of {@code algorithm}, with RSASSA-PSS parameters where it has them. */
    public static AlgorithmIdentifier algorithmIdentifier(SignatureAlgorithm algorithm) {
        String name = switch (algorithm) {
            case ECDSA_SHA256 -> "SHA256withECDSA";
            case ECDSA_SHA384 -> "SHA384withECDSA";
            case ECDSA_SHA512 -> "SHA512withECDSA";
            case RSA_PKCS1_SHA256 -> "SHA256withRSA";
            case RSA_PKCS1_SHA384 -> "SHA384withRSA";
            case RSA_PKCS1_SHA512 -> "SHA512withRSA";
            case RSA_PSS_SHA256 -> "SHA256withRSAandMGF1";
            case RSA_PSS_SHA384 -> "SHA384withRSAandMGF1";
            case RSA_PSS_SHA512 -> "SHA512withRSAandMGF1";
        };
        return new DefaultSignatureAlgorithmIdentifierFinder().find(name);
    }

    @Override
    public AlgorithmIdentifier getAlgorithmIdentifier() {
        return algorithmIdentifier;
    }

    @Override
    public OutputStream getOutputStream() {
        return content;
    }

    @Override
    public byte[] getSignature() {
        try {
            return key.sign(algorithm, content.toByteArray());
        } catch (KeyManagerException e) {
            throw new RuntimeOperatorException("key " + key.id() + " cannot sign: " + e.getMessage(), e);
        }
    }

    /** The key manager failure behind a {@link RuntimeOperatorException} from {@link #getSignature}, if that was it. */
    public static KeyManagerException unwrap(RuntimeOperatorException e) {
        return e.getCause() instanceof KeyManagerException kme ? kme : null;
    }
}
