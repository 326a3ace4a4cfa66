package dev.bourne.agent.node;

import dev.bourne.agent.workloadapi.WorkloadKey;
import dev.bourne.tpm.agent.AgentTpmException;
import dev.bourne.tpm.agent.SealedBlob;
import dev.bourne.tpm.common.TpmFormatException;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * The agent's private key sealed to its TPM, as {@code agent_svid.sealed} holds it (issue 5, "sealed credential").
 *
 * <p><b>Why a sealed key-encryption key rather than the key itself.</b> A TPM sealed data object holds at most 128
 * bytes, and the agent key's PKCS#8 encoding (BouncyCastle's, with the public key) is already larger for P-256
 * ({@code SealedAgentStateStoreTest} asserts it) and more so for any larger key. So the TPM seals a fresh random 32-byte key-encryption key (KEK) and the PKCS#8 key is encrypted
 * under it with AES-256-GCM, in the same file. The TPM never sees the agent key, the format does not depend on the key
 * type, and the GCM associated data binds the file to its header, its sealed blob and the agent SVID it belongs to
 * (SHA-256 of the leaf certificate): a key file put beside another {@code agent_svid.pem}, or any altered byte, fails
 * to decrypt. Every save seals a new KEK, so a renewal never reuses a KEK or a nonce.
 *
 * <p>Format, all integers big-endian; nothing may follow:
 * <pre>
 * magic       4 bytes  "BASK" (0x4241534B)
 * version     uint16   1
 * blob_size   uint16   1..{@link SealedBlob#MAX_BLOB}
 * blob        the TPM-sealed KEK ({@link SealedBlob} encoding)
 * nonce       12 bytes AES-GCM nonce
 * ct_size     uint16   {@value #MIN_CIPHERTEXT}..{@value #MAX_CIPHERTEXT}
 * ciphertext  AES-256-GCM(KEK, nonce, PKCS#8 key, AAD) with its 16-byte tag
 * AAD = every byte from magic to nonce || SHA-256(leaf certificate DER)
 * </pre>
 */
public final class SealedAgentKey {
    public static final int MAGIC = 0x4241534B;
    public static final int VERSION = 1;
    public static final int KEK_BYTES = 32;
    public static final int NONCE_BYTES = 12;
    public static final int TAG_BYTES = 16;
    /** The PKCS#8 of an EC P-521 or RSA-4096 key stays well below 4 KiB. */
    public static final int MAX_PKCS8 = 4096;
    public static final int MIN_CIPHERTEXT = 1 + TAG_BYTES;
    public static final int MAX_CIPHERTEXT = MAX_PKCS8 + TAG_BYTES;
    public static final int MAX_FILE = 4 + 2 + 2 + SealedBlob.MAX_BLOB + NONCE_BYTES + 2 + MAX_CIPHERTEXT;

    public static final String TOO_LONG = "sealed agent key: longer than " + MAX_FILE + " bytes";
    public static final String TRUNCATED = "sealed agent key: truncated";
    public static final String BAD_MAGIC = "sealed agent key: not a Bourne sealed agent key (bad magic)";
    public static final String BAD_VERSION = "sealed agent key: unsupported version";
    public static final String BAD_BLOB_SIZE = "sealed agent key: sealed blob size must be 1 to " + SealedBlob.MAX_BLOB;
    public static final String BAD_CIPHERTEXT_SIZE = "sealed agent key: ciphertext size must be " + MIN_CIPHERTEXT
            + " to " + MAX_CIPHERTEXT;
    public static final String TRAILING = "sealed agent key: trailing bytes after the ciphertext";
    public static final String KEK_SIZE = "sealed agent key: the unsealed key-encryption key is not 32 bytes";
    public static final String DOES_NOT_DECRYPT = "sealed agent key: does not decrypt (altered, or not the key of "
            + "this agent SVID)";

    private static final int HEADER = 4 + 2 + 2;

    private final byte[] sealedKek;
    private final byte[] nonce;
    private final byte[] ciphertext;

    private SealedAgentKey(byte[] sealedKek, byte[] nonce, byte[] ciphertext) {
        this.sealedKek = sealedKek;
        this.nonce = nonce;
        this.ciphertext = ciphertext;
    }

    /**
     * Seals a fresh KEK to the TPM and encrypts {@code key} under it, bound to {@code leaf}.
     *
     * @return the file's bytes
     */
    public static byte[] seal(TpmSealer tpm, WorkloadKey key, X509Certificate leaf, SecureRandom random)
            throws AgentTpmException, GeneralSecurityException {
        byte[] pkcs8 = key.pkcs8();
        byte[] kek = new byte[KEK_BYTES];
        try {
            if (pkcs8.length > MAX_PKCS8) {
                throw new IllegalArgumentException("the agent key's PKCS#8 is larger than " + MAX_PKCS8 + " bytes");
            }
            random.nextBytes(kek);
            byte[] sealedKek = tpm.seal(kek);
            byte[] nonce = new byte[NONCE_BYTES];
            random.nextBytes(nonce);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            out.writeBytes(ByteBuffer.allocate(HEADER).putInt(MAGIC).putShort((short) VERSION)
                    .putShort((short) sealedKek.length).array());
            out.writeBytes(sealedKek);
            out.writeBytes(nonce);
            byte[] prefix = out.toByteArray();
            byte[] ciphertext = cipher(Cipher.ENCRYPT_MODE, kek, nonce, prefix, leaf).doFinal(pkcs8);
            out.writeBytes(ByteBuffer.allocate(2).putShort((short) ciphertext.length).array());
            out.writeBytes(ciphertext);
            return out.toByteArray();
        } finally {
            Arrays.fill(kek, (byte) 0);
            Arrays.fill(pkcs8, (byte) 0);
        }
    }

    /**
     * Parses the file strictly, bounding every size before allocating.
     *
     * @throws TpmFormatException naming what is wrong (one of this class's constants)
     */
    public static SealedAgentKey parse(byte[] file) {
        if (file == null) {
            throw new TpmFormatException(TRUNCATED);
        }
        if (file.length > MAX_FILE) {
            throw new TpmFormatException(TOO_LONG);
        }
        ByteBuffer in = ByteBuffer.wrap(file);
        need(in, HEADER);
        if (in.getInt() != MAGIC) {
            throw new TpmFormatException(BAD_MAGIC);
        }
        if (Short.toUnsignedInt(in.getShort()) != VERSION) {
            throw new TpmFormatException(BAD_VERSION);
        }
        int blobSize = Short.toUnsignedInt(in.getShort());
        if (blobSize < 1 || blobSize > SealedBlob.MAX_BLOB) {
            throw new TpmFormatException(BAD_BLOB_SIZE);
        }
        need(in, blobSize);
        byte[] blob = new byte[blobSize];
        in.get(blob);
        need(in, NONCE_BYTES + 2);
        byte[] nonce = new byte[NONCE_BYTES];
        in.get(nonce);
        int ciphertextSize = Short.toUnsignedInt(in.getShort());
        if (ciphertextSize < MIN_CIPHERTEXT || ciphertextSize > MAX_CIPHERTEXT) {
            throw new TpmFormatException(BAD_CIPHERTEXT_SIZE);
        }
        need(in, ciphertextSize);
        byte[] ciphertext = new byte[ciphertextSize];
        in.get(ciphertext);
        if (in.hasRemaining()) {
            throw new TpmFormatException(TRAILING);
        }
        return new SealedAgentKey(blob, nonce, ciphertext);
    }

    private static void need(ByteBuffer in, int bytes) {
        if (in.remaining() < bytes) {
            throw new TpmFormatException(TRUNCATED);
        }
    }

    /**
     * Unseals the KEK with the TPM and decrypts the agent key.
     *
     * @throws dev.bourne.tpm.agent.SealBrokenException the PCRs changed since sealing: the key is lost on this boot
     * @throws AgentTpmException any other TPM failure
     * @throws TpmFormatException the sealed blob is malformed, the KEK is not 32 bytes, or the ciphertext does not
     *     decrypt for {@code leaf} ({@link #DOES_NOT_DECRYPT})
     */
    public WorkloadKey open(TpmSealer tpm, X509Certificate leaf) throws AgentTpmException {
        byte[] kek = tpm.unseal(sealedKek);
        byte[] pkcs8 = null;
        try {
            if (kek.length != KEK_BYTES) {
                throw new TpmFormatException(KEK_SIZE);
            }
            pkcs8 = cipher(Cipher.DECRYPT_MODE, kek, nonce, prefix(), leaf).doFinal(ciphertext);
            return new WorkloadKey(pkcs8);
        } catch (GeneralSecurityException e) {
            throw new TpmFormatException(DOES_NOT_DECRYPT, e);
        } finally {
            Arrays.fill(kek, (byte) 0);
            if (pkcs8 != null) {
                Arrays.fill(pkcs8, (byte) 0);
            }
        }
    }

    private byte[] prefix() {
        return ByteBuffer.allocate(HEADER + sealedKek.length + NONCE_BYTES).putInt(MAGIC).putShort((short) VERSION)
                .putShort((short) sealedKek.length).put(sealedKek).put(nonce).array();
    }

    private static Cipher cipher(int mode, byte[] kek, byte[] nonce, byte[] prefix, X509Certificate leaf)
            throws GeneralSecurityException {
        byte[] leafHash;
        try {
            leafHash = MessageDigest.getInstance("SHA-256").digest(leaf.getEncoded());
        } catch (CertificateEncodingException e) {
            throw new GeneralSecurityException("cannot encode the agent SVID", e);
        }
        Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
        cipher.init(mode, new SecretKeySpec(kek, "AES"), new GCMParameterSpec(TAG_BYTES * 8, nonce));
        cipher.updateAAD(prefix);
        cipher.updateAAD(leafHash);
        return cipher;
    }

    /** The TPM-sealed KEK, for tests that alter it. */
    byte[] sealedKek() {
        return sealedKek.clone();
    }

    @Override
    public String toString() {
        return "SealedAgentKey[" + ciphertext.length + " bytes of ciphertext]";
    }
}
