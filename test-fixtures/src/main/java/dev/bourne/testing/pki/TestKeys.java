package dev.bourne.testing.pki;

import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.security.spec.ECPoint;
import java.security.spec.ECPrivateKeySpec;
import java.security.spec.ECPublicKeySpec;
import java.security.interfaces.ECPublicKey;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.bouncycastle.asn1.x9.ECNamedCurveTable;
import org.bouncycastle.asn1.x9.X9ECParameters;

/**
 * Key pairs for tests, fast and repeatable.
 *
 * <p>EC keys are derived from fixed private scalars ({@code index + 1} times a constant), so the same index gives the
 * same key in every run and building one costs a point multiplication instead of a key generation. RSA keys cannot
 * be made that cheaply: each index is generated once per JVM and cached. These keys are public knowledge: never use
 * them outside tests.
 */
public final class TestKeys {
    private static final BigInteger SCALAR_BASE = new BigInteger("6b17d1f2e12c4247f8bce6e563a440f2", 16);
    private static final Map<String, KeyPair> CACHE = new ConcurrentHashMap<>();

    private TestKeys() {
    }

    /** The {@code index}-th fixed P-256 key pair, as JDK {@code EC} keys. */
    public static KeyPair ecP256(int index) {
        return CACHE.computeIfAbsent("p256/" + index, k -> ec("secp256r1", "P-256", index));
    }

    /** The {@code index}-th fixed P-384 key pair. */
    public static KeyPair ecP384(int index) {
        return CACHE.computeIfAbsent("p384/" + index, k -> ec("secp384r1", "P-384", index));
    }

    /** The {@code index}-th RSA-2048 key pair, generated once per JVM. */
    public static KeyPair rsa2048(int index) {
        return CACHE.computeIfAbsent("rsa2048/" + index, k -> rsa(2048));
    }

    /** A brand-new P-256 key pair, for tests that need a key nobody else has. */
    public static KeyPair freshEcP256() {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"));
            return generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot generate a P-256 key", e);
        }
    }

    private static KeyPair ec(String jdkCurve, String bcCurve, int index) {
        if (index < 0) {
            throw new IllegalArgumentException("index must not be negative");
        }
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec(jdkCurve));
            ECParameterSpec params = ((ECPublicKey) generator.generateKeyPair().getPublic()).getParams();
            X9ECParameters curve = ECNamedCurveTable.getByName(bcCurve);
            BigInteger d = SCALAR_BASE.multiply(BigInteger.valueOf(index + 1L)).mod(curve.getN());
            org.bouncycastle.math.ec.ECPoint q = curve.getG().multiply(d).normalize();
            ECPoint w = new ECPoint(q.getAffineXCoord().toBigInteger(), q.getAffineYCoord().toBigInteger());
            KeyFactory factory = KeyFactory.getInstance("EC");
            return new KeyPair(factory.generatePublic(new ECPublicKeySpec(w, params)),
                    factory.generatePrivate(new ECPrivateKeySpec(d, params)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot build the fixed " + bcCurve + " key " + index, e);
        }
    }

    private static KeyPair rsa(int bits) {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
            generator.initialize(bits, new SecureRandom());
            return generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot generate an RSA-" + bits + " key", e);
        }
    }
}
