package dev.bourne.openstack.vendordata;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.crypto.impl.ECDSA;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.RSAKey;
import dev.bourne.core.keymanager.KeyManagerException;
import dev.bourne.core.keymanager.KeyType;
import dev.bourne.core.keymanager.ManagedKey;
import dev.bourne.core.keymanager.SignatureAlgorithm;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.security.Signature;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.util.Objects;

/**
 * One IID signing key: a KeyManager key in one of the two slots, with the JWS algorithm it signs with and its public
 * JWK, whose {@code kid} is the key's RFC 7638 thumbprint (base64url SHA-256 of its required members). The thumbprint
 * is derived from the key itself, so the same key always has the same {@code kid}, across restarts and servers, and
 * no two keys share one.
 *
 * <p>Algorithms: ES256 for P-256, ES384 for P-384 (RFC 7518 ties each ECDSA algorithm to one curve), and RS256 for
 * RSA keys. RS256 rather than PS256 because every JOSE library and every PKCS#11 token signs and verifies
 * PKCS#1 v1.5 (CKM_SHA256_RSA_PKCS), while PSS support varies across HSMs; RS256 has no known weakness for signatures.
 *
 * <p>A final class, not a record: it holds a key handle (Style: key handles live in final classes).
 */
public final class SigningKey {
    public static final String MALFORMED_SIGNATURE = "the key manager returned a malformed ECDSA signature";
    public static final String SELF_TEST_FAILED = "the key's signature does not verify with its public key";

    private static final byte[] SELF_TEST = "bourne IID signing key self-test".getBytes(StandardCharsets.US_ASCII);

    private final KeySlot slot;
    private final ManagedKey key;
    private final SignatureAlgorithm algorithm;
    private final JWSAlgorithm jwsAlgorithm;
    private final int ecdsaLength;
    private final JWK publicJwk;

    private SigningKey(KeySlot slot, ManagedKey key, SignatureAlgorithm algorithm, int ecdsaLength, JWK publicJwk) {
        this.slot = slot;
        this.key = key;
        this.algorithm = algorithm;
        this.jwsAlgorithm = JWSAlgorithm.parse(algorithm.jwsName());
        this.ecdsaLength = ecdsaLength;
        this.publicJwk = publicJwk;
    }

    /**
     * The signing key for {@code key} in {@code slot}, after a self-test: it signs a message and the signature must
     * verify with the public key the KeyManager reported (a key that cannot sign is found now, not on Nova's request).
     *
     * @throws KeyManagerException when the key cannot sign, or its signature does not verify
     */
    static SigningKey of(KeySlot slot, ManagedKey key) throws KeyManagerException {
        Objects.requireNonNull(slot, "slot");
        Objects.requireNonNull(key, "key");
        KeyType type = key.type();
        SignatureAlgorithm algorithm = switch (type) {
            case EC_P256 -> SignatureAlgorithm.ECDSA_SHA256;
            case EC_P384 -> SignatureAlgorithm.ECDSA_SHA384;
            case RSA_2048, RSA_4096 -> SignatureAlgorithm.RSA_PKCS1_SHA256;
        };
        int ecdsaLength = switch (type) {
            case EC_P256 -> 64;
            case EC_P384 -> 96;
            default -> 0;
        };
        JWK jwk = publicJwk(key.publicKey(), type, algorithm);
        SigningKey signingKey = new SigningKey(slot, key, algorithm, ecdsaLength, jwk);
        signingKey.selfTest();
        return signingKey;
    }

    private static JWK publicJwk(PublicKey publicKey, KeyType type, SignatureAlgorithm algorithm)
            throws KeyManagerException {
        JWSAlgorithm jws = JWSAlgorithm.parse(algorithm.jwsName());
        try {
            if (type.isEc()) {
                Curve curve = type == KeyType.EC_P256 ? Curve.P_256 : Curve.P_384;
                ECKey bare = new ECKey.Builder(curve, (ECPublicKey) publicKey).build();
                return new ECKey.Builder(bare).keyUse(KeyUse.SIGNATURE).algorithm(jws)
                        .keyID(bare.computeThumbprint().toString()).build();
            }
            RSAKey bare = new RSAKey.Builder((RSAPublicKey) publicKey).build();
            return new RSAKey.Builder(bare).keyUse(KeyUse.SIGNATURE).algorithm(jws)
                    .keyID(bare.computeThumbprint().toString()).build();
        } catch (JOSEException | ClassCastException | IllegalArgumentException e) {
            throw new KeyManagerException("the key manager returned a public key that is not a " + type.configName()
                    + " key", e);
        }
    }

    private void selfTest() throws KeyManagerException {
        byte[] signature = key.sign(algorithm, SELF_TEST);
        try {
            Signature verifier = Signature.getInstance(algorithm.jcaName());
            verifier.initVerify(key.publicKey());
            verifier.update(SELF_TEST);
            if (!verifier.verify(signature)) {
                throw new KeyManagerException(SELF_TEST_FAILED + " (" + key.id() + ")");
            }
        } catch (GeneralSecurityException e) {
            throw new KeyManagerException(SELF_TEST_FAILED + " (" + key.id() + ")", e);
        }
    }

    /**
     * Signs a JWS signing input ({@code base64url(header) '.' base64url(payload)}), returning the JWS signature: for
     * ECDSA, the key manager's DER signature converted to JOSE's fixed-length {@code R || S} (RFC 7518 3.4).
     */
    byte[] sign(byte[] signingInput) throws KeyManagerException {
        byte[] signature = key.sign(algorithm, signingInput);
        if (ecdsaLength == 0) {
            return signature;
        }
        try {
            return ECDSA.transcodeSignatureToConcat(signature, ecdsaLength);
        } catch (JOSEException e) {
            throw new KeyManagerException(MALFORMED_SIGNATURE + " (" + key.id() + ")", e);
        }
    }

    public KeySlot slot() {
        return slot;
    }

    /** The JWS {@code kid}: the RFC 7638 thumbprint of the public key. */
    public String kid() {
        return publicJwk.getKeyID();
    }

    public KeyType type() {
        return key.type();
    }

    /** The JWS {@code alg}: ES256, ES384 or RS256. */
    public JWSAlgorithm jwsAlgorithm() {
        return jwsAlgorithm;
    }

    /** The public key as a JWK with {@code kid}, {@code alg} and {@code use: sig}. */
    public JWK publicJwk() {
        return publicJwk;
    }

    @Override
    public String toString() {
        return "SigningKey[" + slot.keyId() + ", " + jwsAlgorithm + ", kid=" + kid() + "]";
    }
}
