package dev.bourne.tpm.common;

import dev.bourne.tpm.common.internal.TpmReader;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.spec.ECPoint;
import java.security.spec.ECPublicKeySpec;
import java.security.spec.RSAPublicKeySpec;
import java.util.Arrays;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import org.bouncycastle.jce.ECNamedCurveTable;
import org.bouncycastle.jce.spec.ECNamedCurveParameterSpec;

/**
 * A parsed TPMT_PUBLIC (TCG TPM 2.0 Library Part 2, "TPMT_PUBLIC"): the public area of an RSA or ECC key as the TPM
 * marshals it, such as an EK or an AK an agent sends. Parsing is strict: the whole input must be consumed, every sized
 * field is bounded by the structure's maximum, and the key itself must be usable (an RSA modulus of the size its
 * {@code keyBits} say, at most 4096 bits; an ECC point on a NIST curve). Keyed-hash and symmetric objects, other
 * curves and unknown hash algorithms are rejected with a {@link TpmFormatException} naming the field.
 *
 * <p>The {@link #name()} is computed here from the exact bytes parsed: the server never trusts a name the agent sends.
 */
public final class TpmPublic {

    /** TPM_ALG_NULL: no symmetric algorithm, scheme or KDF. */
    static final int ALG_NULL = 0x0010;
    /** TPM_ALG_AES. */
    public static final int ALG_AES = 0x0006;
    /** TPM_ALG_CFB. */
    public static final int ALG_CFB = 0x0043;
    /** TPM_ALG_XOR (a keyed-hash object's symmetric scheme: never valid in an RSA or ECC key's parameters). */
    private static final int ALG_XOR = 0x000A;

    /** Larger than any RSA or ECC TPMT_PUBLIC Bourne accepts (about 600 bytes for RSA-4096 with a SHA-512 policy). */
    public static final int MAX_ENCODED = 1024;
    /** RSA moduli are at most 4096 bits: larger keys are not made by TPMs and would only cost the server time. */
    public static final int MAX_RSA_BITS = 4096;
    public static final int MIN_RSA_BITS = 1024;
    private static final int MAX_DIGEST = 64;
    private static final int MAX_ECC_PARAMETER = 66;
    private static final int RSA_DEFAULT_EXPONENT = 65537;

    private static final String STRUCTURE = "TPMT_PUBLIC";

    /**
     * A key's symmetric algorithm for protecting child objects and credentials (TPMT_SYM_DEF_OBJECT), present on
     * storage keys such as the EK.
     *
     * @param alg TPM_ALG_ID, for example {@link #ALG_AES}
     * @param keyBits the key size in bits
     * @param mode TPM_ALG_ID of the mode, for example {@link #ALG_CFB}
     */
    public record SymmetricDefinition(int alg, int keyBits, int mode) {
    }

    private final byte[] encoded;
    private final TpmKeyType type;
    private final TpmHashAlg nameAlg;
    private final int attributes;
    private final byte[] authPolicy;
    private final SymmetricDefinition symmetric;
    private final int schemeAlg;
    private final SigScheme scheme;
    private final int rsaKeyBits;
    private final TpmEccCurve curve;
    private final byte[] eccX;
    private final byte[] eccY;
    private final PublicKey publicKey;
    private final byte[] name;
    /** {@link #verificationKey()}, made on first use. */
    private volatile PublicKey verificationKey;

    private TpmPublic(byte[] encoded, TpmKeyType type, TpmHashAlg nameAlg, int attributes, byte[] authPolicy,
            SymmetricDefinition symmetric, int schemeAlg, SigScheme scheme, int rsaKeyBits, TpmEccCurve curve,
            byte[] eccX, byte[] eccY, PublicKey publicKey) {
        this.encoded = encoded;
        this.type = type;
        this.nameAlg = nameAlg;
        this.attributes = attributes;
        this.authPolicy = authPolicy;
        this.symmetric = symmetric;
        this.schemeAlg = schemeAlg;
        this.scheme = scheme;
        this.rsaKeyBits = rsaKeyBits;
        this.curve = curve;
        this.eccX = eccX;
        this.eccY = eccY;
        this.publicKey = publicKey;
        byte[] digest = nameAlg.digest(encoded);
        byte[] n = new byte[2 + digest.length];
        n[0] = (byte) (nameAlg.id() >>> 8);
        n[1] = (byte) nameAlg.id();
        System.arraycopy(digest, 0, n, 2, digest.length);
        this.name = n;
    }

    /**
     * Parses a TPMT_PUBLIC (no size prefix), as TPM2_ReadPublic and TPM2_CreatePrimary return inside TPM2B_PUBLIC.
     *
     * @throws TpmFormatException naming the field that is malformed, truncated, oversized or not supported
     */
    public static TpmPublic parse(byte[] tpmtPublic) {
        TpmReader in = TpmReader.of(STRUCTURE, tpmtPublic, MAX_ENCODED);
        byte[] encoded = tpmtPublic.clone();
        int typeId = in.u16("type");
        TpmKeyType type = TpmKeyType.fromId(typeId).orElseThrow(() -> in.error("type " + hex(typeId)
                + " is not RSA (0x0001) or ECC (0x0023)"));
        int nameAlgId = in.u16("nameAlg");
        TpmHashAlg nameAlg = TpmHashAlg.fromId(nameAlgId).orElseThrow(() -> in.error("nameAlg " + hex(nameAlgId)
                + " is not a supported hash algorithm"));
        int attributes = in.u32("objectAttributes");
        byte[] authPolicy = in.sized(MAX_DIGEST, "authPolicy");
        SymmetricDefinition symmetric = symmetric(in);
        int schemeAlg = in.u16("scheme");
        SigScheme scheme = null;
        if (type == TpmKeyType.RSA) {
            scheme = rsaScheme(in, schemeAlg);
            int keyBits = in.u16("keyBits");
            if (keyBits < MIN_RSA_BITS || keyBits > MAX_RSA_BITS || keyBits % 8 != 0) {
                throw in.error("RSA keyBits " + keyBits + " is outside " + MIN_RSA_BITS + ".." + MAX_RSA_BITS);
            }
            long exponentField = Integer.toUnsignedLong(in.u32("exponent"));
            byte[] modulus = in.sized(MAX_RSA_BITS / 8, "unique");
            in.requireEnd();
            if (modulus.length != keyBits / 8) {
                throw in.error("RSA modulus has " + modulus.length + " bytes, keyBits says " + keyBits / 8);
            }
            BigInteger n = new BigInteger(1, modulus);
            if (n.bitLength() != keyBits) {
                throw in.error("RSA modulus is not " + keyBits + " bits long");
            }
            long exponent = exponentField == 0 ? RSA_DEFAULT_EXPONENT : exponentField;
            if (exponent < 3 || exponent % 2 == 0) {
                throw in.error("RSA exponent " + exponent + " is not an odd number of at least 3");
            }
            PublicKey key = rsaKey(in, n, BigInteger.valueOf(exponent));
            return new TpmPublic(encoded, type, nameAlg, attributes, authPolicy, symmetric, schemeAlg, scheme,
                    keyBits, null, null, null, key);
        }
        scheme = eccScheme(in, schemeAlg);
        int curveId = in.u16("curveID");
        TpmEccCurve curve = TpmEccCurve.fromId(curveId).orElseThrow(() -> in.error("ECC curve " + hex(curveId)
                + " is not NIST P-256, P-384 or P-521"));
        int kdf = in.u16("kdf");
        if (kdf != ALG_NULL) {
            hash(in, in.u16("kdf hashAlg"), "kdf hashAlg");
        }
        byte[] x = in.sized(MAX_ECC_PARAMETER, "unique.x");
        byte[] y = in.sized(MAX_ECC_PARAMETER, "unique.y");
        in.requireEnd();
        if (x.length == 0 || y.length == 0 || x.length > curve.coordinateLength()
                || y.length > curve.coordinateLength()) {
            throw in.error("ECC point coordinates must be 1.." + curve.coordinateLength() + " bytes for "
                    + curve.jcaName());
        }
        PublicKey key = eccKey(in, curve, new BigInteger(1, x), new BigInteger(1, y));
        return new TpmPublic(encoded, type, nameAlg, attributes, authPolicy, symmetric, schemeAlg, scheme, 0,
                curve, x, y, key);
    }

    /**
     * Parses a TPM2B_PUBLIC: a UINT16 size, then exactly that many bytes of TPMT_PUBLIC (the format of tpm2-tools'
     * {@code .pub} files and of TPM2_ReadPublic's response).
     */
    public static TpmPublic parseTpm2b(byte[] tpm2bPublic) {
        TpmReader in = TpmReader.of("TPM2B_PUBLIC", tpm2bPublic, MAX_ENCODED + 2);
        byte[] area = in.sized(MAX_ENCODED, "publicArea");
        in.requireEnd();
        return parse(area);
    }

    private static SymmetricDefinition symmetric(TpmReader in) {
        int alg = in.u16("symmetric.algorithm");
        if (alg == ALG_NULL) {
            return null;
        }
        if (alg == ALG_XOR) {
            throw in.error("symmetric.algorithm XOR is only valid for keyed-hash objects");
        }
        int keyBits = in.u16("symmetric.keyBits");
        int mode = in.u16("symmetric.mode");
        return new SymmetricDefinition(alg, keyBits, mode);
    }

    private static SigScheme rsaScheme(TpmReader in, int alg) {
        switch (alg) {
            case ALG_NULL:
                return null;
            case SigScheme.RSASSA:
            case SigScheme.RSAPSS:
                return new SigScheme(alg, hash(in, in.u16("scheme hashAlg"), "scheme hashAlg"));
            case 0x0015: // TPM_ALG_RSAES: no details
                return null;
            case 0x0017: // TPM_ALG_OAEP: a hash
                hash(in, in.u16("scheme hashAlg"), "scheme hashAlg");
                return null;
            default:
                throw in.error("RSA scheme " + hex(alg) + " is not RSASSA, RSAPSS, RSAES, OAEP or NULL");
        }
    }

    private static SigScheme eccScheme(TpmReader in, int alg) {
        switch (alg) {
            case ALG_NULL:
                return null;
            case SigScheme.ECDSA:
            case SigScheme.SM2:
            case SigScheme.ECSCHNORR:
                return new SigScheme(alg, hash(in, in.u16("scheme hashAlg"), "scheme hashAlg"));
            case SigScheme.ECDAA: {
                SigScheme ecdaa = new SigScheme(alg, hash(in, in.u16("scheme hashAlg"), "scheme hashAlg"));
                in.u16("scheme count");
                return ecdaa;
            }
            case 0x0019: // TPM_ALG_ECDH
            case 0x001D: // TPM_ALG_ECMQV
                hash(in, in.u16("scheme hashAlg"), "scheme hashAlg");
                return null;
            default:
                throw in.error("ECC scheme " + hex(alg) + " is not ECDSA, ECDAA, SM2, ECSCHNORR, ECDH, ECMQV or NULL");
        }
    }

    private static TpmHashAlg hash(TpmReader in, int id, String field) {
        return TpmHashAlg.fromId(id).orElseThrow(() -> in.error(field + " " + hex(id)
                + " is not a supported hash algorithm"));
    }

    private static PublicKey rsaKey(TpmReader in, BigInteger modulus, BigInteger exponent) {
        try {
            return KeyFactory.getInstance("RSA").generatePublic(new RSAPublicKeySpec(modulus, exponent));
        } catch (GeneralSecurityException e) {
            throw in.error("RSA key is not valid: " + e.getMessage());
        }
    }

    private static PublicKey eccKey(TpmReader in, TpmEccCurve curve, BigInteger x, BigInteger y) {
        // The JDK does not check that a point is on its curve; a point off the curve in an EK would make the ECDH in
        // MakeCredential leak nothing useful, but a malformed key is refused here, once, for every caller.
        ECNamedCurveParameterSpec bc = ECNamedCurveTable.getParameterSpec(curve.jcaName());
        boolean valid;
        try {
            valid = bc.getCurve().validatePoint(x, y).isValid();
        } catch (IllegalArgumentException e) {
            valid = false;
        }
        if (!valid) {
            throw in.error("ECC point is not on " + curve.jcaName());
        }
        try {
            return KeyFactory.getInstance("EC").generatePublic(new ECPublicKeySpec(new ECPoint(x, y),
                    curve.parameterSpec()));
        } catch (GeneralSecurityException e) {
            throw in.error("ECC key is not valid: " + e.getMessage());
        }
    }

    static String hex(int id) {
        return String.format(Locale.ROOT, "0x%04X", id);
    }

    public TpmKeyType type() {
        return type;
    }

    public TpmHashAlg nameAlg() {
        return nameAlg;
    }

    /** The TPMA_OBJECT bits. */
    public int attributes() {
        return attributes;
    }

    public boolean has(ObjectAttribute attribute) {
        return attribute.in(attributes);
    }

    public byte[] authPolicy() {
        return authPolicy.clone();
    }

    /** The TPMT_SYM_DEF_OBJECT of a storage key (such as an EK); empty when its algorithm is TPM_ALG_NULL. */
    public Optional<SymmetricDefinition> symmetric() {
        return Optional.ofNullable(symmetric);
    }

    /** The RSA key size in bits; 0 for an ECC key. */
    public int rsaKeyBits() {
        return rsaKeyBits;
    }

    /** The curve of an ECC key; empty for RSA. */
    public Optional<TpmEccCurve> curve() {
        return Optional.ofNullable(curve);
    }

    /**
     * The key's signing scheme; empty when its scheme is TPM_ALG_NULL or a decryption or key-exchange scheme (RSAES,
     * OAEP, ECDH, ECMQV).
     */
    public Optional<SigScheme> scheme() {
        return Optional.ofNullable(scheme);
    }

    /** The TPM_ALG_ID of the scheme field, whatever it is (TPM_ALG_NULL is 0x0010). */
    public int schemeAlg() {
        return schemeAlg;
    }

    /** The ECC point's x coordinate exactly as in the public area; empty for RSA. */
    byte[] eccX() {
        return eccX == null ? new byte[0] : eccX.clone();
    }

    byte[] eccY() {
        return eccY == null ? new byte[0] : eccY.clone();
    }

    /** The JCA key: an {@link java.security.interfaces.RSAPublicKey} or {@link java.security.interfaces.ECPublicKey}. */
    public PublicKey publicKey() {
        return publicKey;
    }

    /**
     * The key as {@link TpmSignature} verifies fastest: an ECC key as a BouncyCastle key, made once (BouncyCastle
     * converts a JDK EC key on every verification, which cost about three quarters of a quote verification here);
     * an RSA key as it is.
     */
    PublicKey verificationKey() {
        PublicKey key = verificationKey;
        if (key == null) {
            key = publicKey;
            if (type == TpmKeyType.ECC) {
                try {
                    key = KeyFactory.getInstance("EC", TpmSignature.BOUNCY_CASTLE).generatePublic(
                            new ECPublicKeySpec(new ECPoint(new BigInteger(1, eccX), new BigInteger(1, eccY)),
                                    curve.parameterSpec()));
                } catch (GeneralSecurityException e) {
                    throw new IllegalStateException("BouncyCastle refused an EC key the JDK accepted", e);
                }
            }
            verificationKey = key;
        }
        return key;
    }

    /** The TPM name: nameAlg's TPM_ALG_ID (2 bytes, big-endian) followed by H_nameAlg({@link #encoded()}). */
    public byte[] name() {
        return name.clone();
    }

    /** The exact bytes parsed. */
    public byte[] encoded() {
        return encoded.clone();
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof TpmPublic that && Arrays.equals(encoded, that.encoded);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(encoded);
    }

    @Override
    public String toString() {
        String key = type == TpmKeyType.RSA ? "RSA-" + rsaKeyBits : "ECC " + Objects.requireNonNull(curve).jcaName();
        return "TpmPublic[" + key + ", nameAlg " + nameAlg.configName() + ", attributes 0x"
                + Integer.toHexString(attributes) + "]";
    }
}
