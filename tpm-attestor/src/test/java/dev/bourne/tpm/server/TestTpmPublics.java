package dev.bourne.tpm.server;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.util.Arrays;

/**
 * TPMT_PUBLIC areas built in code around software keys (TCG TPM 2.0 Part 2, big-endian), for tests that need an EK
 * or AK public area without a TPM: the TCG default RSA-2048 EK template and a restricted ECDSA P-256 AK. The server
 * cannot tell such an area from a TPM's: only credential activation proves a key is in the TPM.
 */
final class TestTpmPublics {

    static final int FIXED_TPM = 1 << 1;
    static final int FIXED_PARENT = 1 << 4;
    static final int SENSITIVE_DATA_ORIGIN = 1 << 5;
    static final int USER_WITH_AUTH = 1 << 6;
    static final int ADMIN_WITH_POLICY = 1 << 7;
    static final int RESTRICTED = 1 << 16;
    static final int DECRYPT = 1 << 17;
    static final int SIGN = 1 << 18;
    /** PolicySecret(TPM_RH_ENDORSEMENT), the TCG EK template's authPolicy. */
    static final byte[] EK_POLICY = java.util.HexFormat.of().parseHex(
            "837197674484b3f81a90cc8d46a5d724fd52d76e06520b64f2a1da1b331469aa");

    private TestTpmPublics() {
    }

    /** TCG EK template L-1 (RSA 2048, AES-128-CFB) with this key's modulus. */
    static byte[] rsaEk(RSAPublicKey key) {
        byte[] modulus = unsigned(key.getModulus(), 256);
        ByteBuffer b = ByteBuffer.allocate(2 + 2 + 4 + 2 + 32 + 2 + 2 + 2 + 2 + 2 + 4 + 2 + 256);
        b.putShort((short) 0x0001).putShort((short) 0x000B)
                .putInt(FIXED_TPM | FIXED_PARENT | SENSITIVE_DATA_ORIGIN | ADMIN_WITH_POLICY | RESTRICTED | DECRYPT)
                .putShort((short) 32).put(EK_POLICY)
                .putShort((short) 0x0006).putShort((short) 128).putShort((short) 0x0043) // AES-128-CFB
                .putShort((short) 0x0010) // scheme NULL
                .putShort((short) 2048).putInt(0)
                .putShort((short) 256).put(modulus);
        return b.array();
    }

    /** A restricted ECDSA-SHA256 signing key on NIST P-256 with this key's point, with {@code attributes}. */
    static byte[] eccAk(ECPublicKey key, int attributes) {
        byte[] x = unsigned(key.getW().getAffineX(), 32);
        byte[] y = unsigned(key.getW().getAffineY(), 32);
        ByteBuffer b = ByteBuffer.allocate(2 + 2 + 4 + 2 + 2 + 2 + 2 + 2 + 2 + 2 + 32 + 2 + 32);
        b.putShort((short) 0x0023).putShort((short) 0x000B).putInt(attributes)
                .putShort((short) 0) // authPolicy
                .putShort((short) 0x0010) // symmetric NULL
                .putShort((short) 0x0018).putShort((short) 0x000B) // ECDSA SHA-256
                .putShort((short) 0x0003) // NIST P-256
                .putShort((short) 0x0010) // KDF NULL
                .putShort((short) 32).put(x).putShort((short) 32).put(y);
        return b.array();
    }

    static byte[] eccAk(ECPublicKey key) {
        return eccAk(key, FIXED_TPM | FIXED_PARENT | SENSITIVE_DATA_ORIGIN | USER_WITH_AUTH | RESTRICTED | SIGN);
    }

    private static byte[] unsigned(BigInteger value, int length) {
        byte[] bytes = value.toByteArray();
        if (bytes.length == length) {
            return bytes;
        }
        if (bytes.length == length + 1 && bytes[0] == 0) {
            return Arrays.copyOfRange(bytes, 1, bytes.length);
        }
        byte[] padded = new byte[length];
        System.arraycopy(bytes, 0, padded, length - bytes.length, bytes.length);
        return padded;
    }
}
