package dev.bourne.tpm.common;

import dev.bourne.tpm.common.internal.TpmWriter;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.util.Arrays;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.ASN1Sequence;

/**
 * Software keys dressed as TPM keys: a TPMT_PUBLIC claiming any attributes for a JCA key pair, and TPMT_SIGNATUREs made
 * with its private key. They model an attacker who controls the bytes, not a TPM: tests use them for cases a real TPM
 * refuses to produce (a "restricted" key signing data without the magic).
 */
final class SoftwareKeys {

    static final int AK_ATTRIBUTES = ObjectAttribute.FIXED_TPM.mask() | ObjectAttribute.FIXED_PARENT.mask()
            | ObjectAttribute.SENSITIVE_DATA_ORIGIN.mask() | ObjectAttribute.USER_WITH_AUTH.mask()
            | ObjectAttribute.RESTRICTED.mask() | ObjectAttribute.SIGN_ENCRYPT.mask();

    private SoftwareKeys() {
    }

    static KeyPair ecP256() {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"));
            return generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    static KeyPair rsa(int bits) {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
            generator.initialize(bits);
            return generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** TPMT_PUBLIC of an ECC P-256 key with an ECDSA-SHA256 scheme and the given attributes. */
    static byte[] eccPublic(ECPublicKey key, int attributes) {
        return new TpmWriter().u16(TpmKeyType.ECC.id()).u16(TpmHashAlg.SHA256.id()).u32(attributes)
                .sized(new byte[0]).u16(0x0010).u16(SigScheme.ECDSA).u16(TpmHashAlg.SHA256.id())
                .u16(TpmEccCurve.NIST_P256.id()).u16(0x0010)
                .sized(fixed(key.getW().getAffineX(), 32)).sized(fixed(key.getW().getAffineY(), 32))
                .toByteArray();
    }

    /** TPMT_PUBLIC of an RSA key with an RSASSA-SHA256 scheme, exponent field 0 (65537). */
    static byte[] rsaPublic(RSAPublicKey key, int attributes) {
        int bits = key.getModulus().bitLength();
        return new TpmWriter().u16(TpmKeyType.RSA.id()).u16(TpmHashAlg.SHA256.id()).u32(attributes)
                .sized(new byte[0]).u16(0x0010).u16(SigScheme.RSASSA).u16(TpmHashAlg.SHA256.id())
                .u16(bits).u32(0).sized(fixed(key.getModulus(), bits / 8)).toByteArray();
    }

    /** TPMT_SIGNATURE (ECDSA, SHA-256) over {@code data}. */
    static byte[] ecdsaSignature(PrivateKey key, byte[] data) {
        try {
            Signature signer = Signature.getInstance("SHA256withECDSA");
            signer.initSign(key);
            signer.update(data);
            ASN1Sequence der = ASN1Sequence.getInstance(signer.sign());
            BigInteger r = ASN1Integer.getInstance(der.getObjectAt(0)).getValue();
            BigInteger s = ASN1Integer.getInstance(der.getObjectAt(1)).getValue();
            return new TpmWriter().u16(SigScheme.ECDSA).u16(TpmHashAlg.SHA256.id()).sized(fixed(r, 32))
                    .sized(fixed(s, 32)).toByteArray();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** TPMT_SIGNATURE (RSASSA, SHA-256) over {@code data}. */
    static byte[] rsassaSignature(PrivateKey key, byte[] data) {
        try {
            Signature signer = Signature.getInstance("SHA256withRSA");
            signer.initSign(key);
            signer.update(data);
            return new TpmWriter().u16(SigScheme.RSASSA).u16(TpmHashAlg.SHA256.id()).sized(signer.sign())
                    .toByteArray();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    static byte[] fixed(BigInteger value, int length) {
        byte[] raw = value.toByteArray();
        if (raw.length > length) {
            return Arrays.copyOfRange(raw, raw.length - length, raw.length);
        }
        byte[] out = new byte[length];
        System.arraycopy(raw, 0, out, length - raw.length, raw.length);
        return out;
    }

    /**
     * A TPMS_ATTEST for a quote: magic, type, qualifiedSigner, extraData, clockInfo, firmwareVersion, the selection and
     * the pcrDigest.
     */
    static byte[] attest(int magic, int type, byte[] nonce, PcrSelection selection, byte[] pcrDigest) {
        TpmWriter out = new TpmWriter().u32(magic).u16(type).sized(new byte[34]).sized(nonce)
                .u64(123456789L).u32(7).u32(0).u8(1).u64(0x2023_0101_0000_0000L);
        if (type == TpmsAttest.TYPE_QUOTE) {
            out.bytes(selection.marshal()).sized(pcrDigest);
        }
        return out.toByteArray();
    }
}
