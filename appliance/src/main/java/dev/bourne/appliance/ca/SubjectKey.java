package dev.bourne.appliance.ca;

import dev.bourne.appliance.ca.SvidIssuanceException.Reason;
import dev.bourne.appliance.ca.internal.Der;
import java.math.BigInteger;
import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.util.Arrays;
import java.util.HexFormat;
import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.DERNull;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.RSAPublicKey;
import org.bouncycastle.asn1.sec.SECObjectIdentifiers;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;

/**
 * A public key an X.509-SVID may certify: it passed the allowlist (EC P-256 or P-384 as an uncompressed named-curve
 * point; RSA with a 2048 to 4096-bit modulus), and is held as its canonical DER SubjectPublicKeyInfo, ready to be put
 * in a certificate as it is.
 *
 * <p>Why an allowlist: SVIDs are verified by every workload's TLS stack, so only key types all of them support and
 * that are strong enough are certified; RSA below 2048 bits, other curves, explicit curve parameters (a known source
 * of verifier bugs), Ed25519 and DSA are refused.
 */
public final class SubjectKey {
    public static final int MIN_RSA_BITS = 2048;
    public static final int MAX_RSA_BITS = 4096;

    public static final String KEY_TYPE_NOT_ALLOWED =
            "subject key type is not allowed: use EC P-256, EC P-384 or RSA with 2048 to 4096 bits";
    public static final String EC_CURVE_NOT_ALLOWED =
            "subject EC key curve is not allowed: use the named curve P-256 or P-384";
    public static final String EC_POINT_NOT_UNCOMPRESSED = "subject EC key must be an uncompressed curve point";
    public static final String RSA_TOO_SHORT = "subject RSA key is shorter than " + MIN_RSA_BITS + " bits";
    public static final String RSA_TOO_LONG = "subject RSA key is longer than " + MAX_RSA_BITS + " bits";
    public static final String RSA_BAD_EXPONENT = "subject RSA key has an invalid public exponent";
    public static final String KEY_MALFORMED = "subject public key cannot be parsed";

    private static final HexFormat HEX = HexFormat.of();
    /** SubjectPublicKeyInfo up to the point for id-ecPublicKey with namedCurve P-256, then 65 point bytes. */
    private static final byte[] P256_PREFIX = HEX.parseHex("3059301306072a8648ce3d020106082a8648ce3d030107034200");
    /** The same for P-384, then 97 point bytes. */
    private static final byte[] P384_PREFIX = HEX.parseHex("3076301006072a8648ce3d020106052b81040022036200");

    /** What the key is, for the key usage bits and messages. */
    enum Kind {
        EC_P256, EC_P384, RSA
    }

    private final byte[] spki;
    private final Kind kind;
    private final int keyBitsOffset;
    private final int keyBitsLength;

    private SubjectKey(byte[] spki, Kind kind, int keyBitsOffset, int keyBitsLength) {
        this.spki = spki;
        this.kind = kind;
        this.keyBitsOffset = keyBitsOffset;
        this.keyBitsLength = keyBitsLength;
    }

    /**
     * Checks a JCA public key against the allowlist.
     *
     * @throws X509SvidIssuanceException with reason {@link Reason#UNSUPPORTED_KEY} naming what is not allowed
     */
    public static SubjectKey of(PublicKey key) throws X509SvidIssuanceException {
        if (key == null) {
            throw new X509SvidIssuanceException(Reason.UNSUPPORTED_KEY, KEY_MALFORMED);
        }
        byte[] encoded = key.getEncoded();
        if (encoded == null) {
            throw new X509SvidIssuanceException(Reason.UNSUPPORTED_KEY, KEY_MALFORMED);
        }
        if (key instanceof ECPublicKey) {
            // Fast path: every JCA provider here encodes named-curve keys with an uncompressed point, so the
            // encoding is recognised by its fixed prefix without parsing it.
            SubjectKey fast = fixedEc(encoded);
            if (fast != null) {
                return fast;
            }
        }
        SubjectPublicKeyInfo info;
        try {
            info = SubjectPublicKeyInfo.getInstance(encoded);
        } catch (RuntimeException e) {
            throw new X509SvidIssuanceException(Reason.UNSUPPORTED_KEY, KEY_MALFORMED, e);
        }
        return of(info);
    }

    /**
     * Checks a SubjectPublicKeyInfo (from a CSR) against the allowlist; the result holds its canonical DER encoding.
     *
     * @throws X509SvidIssuanceException with reason {@link Reason#UNSUPPORTED_KEY} naming what is not allowed
     */
    static SubjectKey of(SubjectPublicKeyInfo info) throws X509SvidIssuanceException {
        try {
            ASN1ObjectIdentifier algorithm = info.getAlgorithm().getAlgorithm();
            if (algorithm.equals(X9ObjectIdentifiers.id_ecPublicKey)) {
                return ec(info);
            }
            if (algorithm.equals(PKCSObjectIdentifiers.rsaEncryption)) {
                return rsa(info);
            }
        } catch (RuntimeException e) {
            // BouncyCastle's ASN.1 classes throw IllegalArgumentException and friends on malformed structures.
            throw new X509SvidIssuanceException(Reason.UNSUPPORTED_KEY, KEY_MALFORMED, e);
        }
        throw new X509SvidIssuanceException(Reason.UNSUPPORTED_KEY, KEY_TYPE_NOT_ALLOWED);
    }

    private static SubjectKey ec(SubjectPublicKeyInfo info) throws X509SvidIssuanceException {
        ASN1Encodable parameters = info.getAlgorithm().getParameters();
        byte[] prefix;
        if (X9ObjectIdentifiers.prime256v1.equals(parameters)) {
            prefix = P256_PREFIX;
        } else if (SECObjectIdentifiers.secp384r1.equals(parameters)) {
            prefix = P384_PREFIX;
        } else {
            throw new X509SvidIssuanceException(Reason.UNSUPPORTED_KEY, EC_CURVE_NOT_ALLOWED);
        }
        if (info.getPublicKeyData().getPadBits() != 0) {
            throw new X509SvidIssuanceException(Reason.UNSUPPORTED_KEY, KEY_MALFORMED);
        }
        byte[] point = info.getPublicKeyData().getBytes();
        byte[] spki = Arrays.copyOf(prefix, prefix.length + point.length);
        System.arraycopy(point, 0, spki, prefix.length, point.length);
        SubjectKey key = fixedEc(spki);
        if (key == null) {
            throw new X509SvidIssuanceException(Reason.UNSUPPORTED_KEY, EC_POINT_NOT_UNCOMPRESSED);
        }
        return key;
    }

    /** The key if {@code spki} is exactly a P-256 or P-384 SubjectPublicKeyInfo with an uncompressed point. */
    private static SubjectKey fixedEc(byte[] spki) {
        if (spki.length == P256_PREFIX.length + 65 && startsWith(spki, P256_PREFIX)
                && spki[P256_PREFIX.length] == 0x04) {
            return new SubjectKey(spki, Kind.EC_P256, P256_PREFIX.length, 65);
        }
        if (spki.length == P384_PREFIX.length + 97 && startsWith(spki, P384_PREFIX)
                && spki[P384_PREFIX.length] == 0x04) {
            return new SubjectKey(spki, Kind.EC_P384, P384_PREFIX.length, 97);
        }
        return null;
    }

    private static boolean startsWith(byte[] data, byte[] prefix) {
        return Arrays.equals(data, 0, prefix.length, prefix, 0, prefix.length);
    }

    private static SubjectKey rsa(SubjectPublicKeyInfo info) throws X509SvidIssuanceException {
        ASN1Encodable parameters = info.getAlgorithm().getParameters();
        if (parameters != null && !DERNull.INSTANCE.equals(parameters)) {
            throw new X509SvidIssuanceException(Reason.UNSUPPORTED_KEY, KEY_MALFORMED);
        }
        if (info.getPublicKeyData().getPadBits() != 0) {
            throw new X509SvidIssuanceException(Reason.UNSUPPORTED_KEY, KEY_MALFORMED);
        }
        RSAPublicKey rsa = RSAPublicKey.getInstance(info.getPublicKeyData().getOctets());
        BigInteger modulus = rsa.getModulus();
        BigInteger exponent = rsa.getPublicExponent();
        if (modulus.signum() <= 0 || modulus.bitLength() < MIN_RSA_BITS) {
            throw new X509SvidIssuanceException(Reason.UNSUPPORTED_KEY, RSA_TOO_SHORT);
        }
        if (modulus.bitLength() > MAX_RSA_BITS) {
            throw new X509SvidIssuanceException(Reason.UNSUPPORTED_KEY, RSA_TOO_LONG);
        }
        // An even modulus or an exponent of 1 or an even one cannot be a working RSA key.
        if (!modulus.testBit(0) || exponent.compareTo(BigInteger.valueOf(3)) < 0 || !exponent.testBit(0)
                || exponent.compareTo(modulus) >= 0) {
            throw new X509SvidIssuanceException(Reason.UNSUPPORTED_KEY, RSA_BAD_EXPONENT);
        }
        byte[] spki;
        try {
            // Re-encoded with NULL parameters, which RFC 3279 2.3.1 requires, whatever the CSR carried.
            spki = new SubjectPublicKeyInfo(new AlgorithmIdentifier(PKCSObjectIdentifiers.rsaEncryption,
                    DERNull.INSTANCE), rsa).getEncoded(ASN1Encoding.DER);
        } catch (java.io.IOException e) {
            throw new X509SvidIssuanceException(Reason.UNSUPPORTED_KEY, KEY_MALFORMED, e);
        }
        int[] outer = Der.read(spki, 0, Der.SEQUENCE);
        int[] algorithm = Der.read(spki, outer[0], Der.SEQUENCE);
        int[] bits = Der.read(spki, algorithm[0] + algorithm[1], Der.BIT_STRING);
        // Skip the unused-bits octet: the key identifier hashes the key bits themselves.
        return new SubjectKey(spki, Kind.RSA, bits[0] + 1, bits[1] - 1);
    }

    /** Whether this is an EC key (key agreement) rather than RSA (key encipherment). */
    public boolean isEc() {
        return kind != Kind.RSA;
    }

    Kind kind() {
        return kind;
    }

    /** The DER SubjectPublicKeyInfo, a copy. */
    public byte[] encoded() {
        return spki.clone();
    }

    /** The DER SubjectPublicKeyInfo itself, for the certificate writer; never modified. */
    byte[] encodedNoCopy() {
        return spki;
    }

    int keyBitsOffset() {
        return keyBitsOffset;
    }

    int keyBitsLength() {
        return keyBitsLength;
    }

    @Override
    public String toString() {
        return "SubjectKey{" + kind + "}";
    }
}
