package dev.bourne.tpm.common;

import dev.bourne.tpm.common.internal.TpmWriter;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Provider;
import java.security.SecureRandom;
import java.security.interfaces.ECPublicKey;
import java.security.spec.MGF1ParameterSpec;
import java.util.Arrays;
import java.util.Objects;
import javax.crypto.Cipher;
import javax.crypto.KeyAgreement;
import javax.crypto.Mac;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.OAEPParameterSpec;
import javax.crypto.spec.PSource;
import javax.crypto.spec.SecretKeySpec;
import org.bouncycastle.jce.provider.BouncyCastleProvider;

/**
 * TPM2_MakeCredential in software (TCG TPM 2.0 Library Part 1, "Credential Protection"; Part 3, TPM2_MakeCredential):
 * encrypts a secret to an EK so that only the TPM holding that EK can recover it, and only through
 * TPM2_ActivateCredential with a loaded object whose name is {@code akName}. The server uses it to learn that the AK it
 * checked lives in the same TPM as the EK it trusts.
 *
 * <p>Recipe: a seed (digest size of the EK's nameAlg) is encrypted to the EK (RSA: OAEP with the nameAlg hash and
 * label "IDENTITY\0"; ECC: an ephemeral ECDH key whose shared x-coordinate goes through KDFe with "IDENTITY"). From
 * the seed, KDFa derives an AES key ("STORAGE", context the AK name) that encrypts TPM2B(secret) in CFB mode with a
 * zero IV, and an HMAC key ("INTEGRITY") that authenticates the ciphertext and the AK name. The symmetric algorithm is
 * the EK's own (AES-128-CFB for the TCG default templates, AES-256 for the high-range ones).
 */
public final class MakeCredential {

    public static final String EK_NOT_STORAGE_KEY = "EK is not a restricted decryption key";
    public static final String EK_SYMMETRIC_NOT_AES_CFB = "EK symmetric algorithm is not AES in CFB mode";
    public static final String AK_NAME_MALFORMED = "AK name is not a hash algorithm identifier and its digest";
    public static final String SECRET_SIZE = "credential secret must be 1 byte up to the EK name algorithm's digest size";

    private static final byte[] IDENTITY = label("IDENTITY");
    private static final byte[] STORAGE = label("STORAGE");
    private static final byte[] INTEGRITY = label("INTEGRITY");
    private static final Provider BOUNCY_CASTLE = new BouncyCastleProvider();

    private MakeCredential() {
    }

    /** What TPM2_MakeCredential returns, in the wire format of the challenge (ARCHITECTURE.md section 3, step 2). */
    public static final class Credential {
        private final byte[] credentialBlob;
        private final byte[] encryptedSecret;

        Credential(byte[] credentialBlob, byte[] encryptedSecret) {
            this.credentialBlob = credentialBlob;
            this.encryptedSecret = encryptedSecret;
        }

        /** TPM2B_ID_OBJECT contents (no outer size): integrityHMAC as a TPM2B_DIGEST, then encIdentity. */
        public byte[] credentialBlob() {
            return credentialBlob.clone();
        }

        /** TPM2B_ENCRYPTED_SECRET contents: the OAEP ciphertext (RSA) or a marshalled TPMS_ECC_POINT (ECC). */
        public byte[] encryptedSecret() {
            return encryptedSecret.clone();
        }

        @Override
        public String toString() {
            return "Credential[" + credentialBlob.length + " + " + encryptedSecret.length + " bytes]";
        }
    }

    /**
     * Makes a credential for {@code secret}, recoverable only by the TPM holding {@code ek} with the object named
     * {@code akName} loaded.
     *
     * @param ek the EK's public area (an RSA or ECC restricted decryption key with an AES-CFB symmetric definition)
     * @param akName the AK's name as the server computed it ({@link TpmPublic#name()})
     * @param secret 1 byte up to the digest size of the EK's nameAlg (32 for SHA-256); never logged
     * @throws IllegalArgumentException with one of this class's constants when the EK, name or secret is unusable
     */
    public static Credential make(TpmPublic ek, byte[] akName, byte[] secret, SecureRandom random) {
        Objects.requireNonNull(ek, "ek");
        Objects.requireNonNull(akName, "akName");
        Objects.requireNonNull(secret, "secret");
        Objects.requireNonNull(random, "random");
        if (!ek.has(ObjectAttribute.RESTRICTED) || !ek.has(ObjectAttribute.DECRYPT)
                || ek.has(ObjectAttribute.SIGN_ENCRYPT)) {
            throw new IllegalArgumentException(EK_NOT_STORAGE_KEY);
        }
        TpmPublic.SymmetricDefinition symmetric = ek.symmetric().orElseThrow(() -> new IllegalArgumentException(
                EK_SYMMETRIC_NOT_AES_CFB));
        if (symmetric.alg() != TpmPublic.ALG_AES || symmetric.mode() != TpmPublic.ALG_CFB
                || (symmetric.keyBits() != 128 && symmetric.keyBits() != 192 && symmetric.keyBits() != 256)) {
            throw new IllegalArgumentException(EK_SYMMETRIC_NOT_AES_CFB);
        }
        requireName(akName);
        TpmHashAlg nameAlg = ek.nameAlg();
        if (secret.length == 0 || secret.length > nameAlg.digestLength()) {
            throw new IllegalArgumentException(SECRET_SIZE);
        }
        try {
            byte[] seed;
            byte[] encryptedSecret;
            if (ek.type() == TpmKeyType.RSA) {
                seed = new byte[nameAlg.digestLength()];
                random.nextBytes(seed);
                encryptedSecret = oaep(ek, nameAlg, seed, random);
            } else {
                byte[][] seedAndPoint = ecdh(ek, nameAlg, random);
                seed = seedAndPoint[0];
                encryptedSecret = seedAndPoint[1];
            }
            byte[] symKey = kdfa(nameAlg, seed, STORAGE, akName, new byte[0], symmetric.keyBits());
            Cipher aes = Cipher.getInstance("AES/CFB/NoPadding");
            aes.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(symKey, "AES"), new IvParameterSpec(new byte[16]));
            byte[] encIdentity = aes.doFinal(new TpmWriter().sized(secret).toByteArray());
            byte[] hmacKey = kdfa(nameAlg, seed, INTEGRITY, new byte[0], new byte[0], nameAlg.digestLength() * 8);
            Mac hmac = hmac(nameAlg, hmacKey);
            hmac.update(encIdentity);
            hmac.update(akName);
            byte[] integrity = hmac.doFinal();
            Arrays.fill(seed, (byte) 0);
            Arrays.fill(symKey, (byte) 0);
            Arrays.fill(hmacKey, (byte) 0);
            byte[] blob = new TpmWriter().sized(integrity).bytes(encIdentity).toByteArray();
            return new Credential(blob, encryptedSecret);
        } catch (InvalidKeyException e) {
            throw new IllegalArgumentException(EK_NOT_STORAGE_KEY, e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("a mandatory JCA algorithm failed", e);
        }
    }

    private static void requireName(byte[] name) {
        if (name.length < 2) {
            throw new IllegalArgumentException(AK_NAME_MALFORMED);
        }
        int alg = ((name[0] & 0xff) << 8) | (name[1] & 0xff);
        TpmHashAlg hash = TpmHashAlg.fromId(alg).orElseThrow(() -> new IllegalArgumentException(AK_NAME_MALFORMED));
        if (name.length != 2 + hash.digestLength()) {
            throw new IllegalArgumentException(AK_NAME_MALFORMED);
        }
    }

    private static byte[] oaep(TpmPublic ek, TpmHashAlg nameAlg, byte[] seed, SecureRandom random)
            throws GeneralSecurityException {
        Cipher rsa = Cipher.getInstance("RSA/ECB/OAEPPadding");
        rsa.init(Cipher.ENCRYPT_MODE, ek.publicKey(), new OAEPParameterSpec(nameAlg.jcaName(), "MGF1",
                new MGF1ParameterSpec(nameAlg.jcaName()), new PSource.PSpecified(IDENTITY)), random);
        return rsa.doFinal(seed);
    }

    /** The seed from KDFe over an ephemeral ECDH, and the ephemeral public point as a marshalled TPMS_ECC_POINT. */
    private static byte[][] ecdh(TpmPublic ek, TpmHashAlg nameAlg, SecureRandom random)
            throws GeneralSecurityException {
        TpmEccCurve curve = ek.curve().orElseThrow();
        int length = curve.coordinateLength();
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC", BOUNCY_CASTLE);
        generator.initialize(curve.parameterSpec(), random);
        KeyPair ephemeral = generator.generateKeyPair();
        KeyAgreement agreement = KeyAgreement.getInstance("ECDH", BOUNCY_CASTLE);
        agreement.init(ephemeral.getPrivate());
        agreement.doPhase(ek.publicKey(), true);
        byte[] z = fixed(new BigInteger(1, agreement.generateSecret()), length);
        ECPublicKey ephemeralPublic = (ECPublicKey) ephemeral.getPublic();
        byte[] x = fixed(ephemeralPublic.getW().getAffineX(), length);
        byte[] y = fixed(ephemeralPublic.getW().getAffineY(), length);
        byte[] seed = kdfe(nameAlg, z, IDENTITY, x, ek.eccX(), nameAlg.digestLength() * 8);
        Arrays.fill(z, (byte) 0);
        byte[] point = new TpmWriter().sized(x).sized(y).toByteArray();
        return new byte[][] {seed, point};
    }

    /**
     * KDFa (TCG TPM 2.0 Library Part 1, "KDFa"; NIST SP 800-108 counter mode with HMAC):
     * HMAC(key, counter || label || contextU || contextV || bits), counters from 1, truncated to {@code bits}.
     *
     * @param label the label including its terminating zero byte
     */
    static byte[] kdfa(TpmHashAlg hash, byte[] key, byte[] label, byte[] contextU, byte[] contextV, int bits)
            throws GeneralSecurityException {
        int bytes = (bits + 7) / 8;
        byte[] out = new byte[bytes];
        Mac mac = hmac(hash, key);
        int done = 0;
        for (int counter = 1; done < bytes; counter++) {
            mac.update(new TpmWriter().u32(counter).toByteArray());
            mac.update(label);
            mac.update(contextU);
            mac.update(contextV);
            mac.update(new TpmWriter().u32(bits).toByteArray());
            byte[] block = mac.doFinal();
            int take = Math.min(block.length, bytes - done);
            System.arraycopy(block, 0, out, done, take);
            done += take;
        }
        return out;
    }

    /**
     * KDFe (TCG TPM 2.0 Library Part 1, "KDFe"; NIST SP 800-56A concatenation KDF):
     * H(counter || Z || label || partyUInfo || partyVInfo), counters from 1, truncated to {@code bits}.
     */
    static byte[] kdfe(TpmHashAlg hash, byte[] z, byte[] label, byte[] partyU, byte[] partyV, int bits) {
        int bytes = (bits + 7) / 8;
        byte[] out = new byte[bytes];
        int done = 0;
        for (int counter = 1; done < bytes; counter++) {
            var digest = hash.newDigest();
            digest.update(new TpmWriter().u32(counter).toByteArray());
            digest.update(z);
            digest.update(label);
            digest.update(partyU);
            digest.update(partyV);
            byte[] block = digest.digest();
            int take = Math.min(block.length, bytes - done);
            System.arraycopy(block, 0, out, done, take);
            done += take;
        }
        return out;
    }

    private static Mac hmac(TpmHashAlg hash, byte[] key) throws GeneralSecurityException {
        String name = "Hmac" + hash.jcaName().replace("-", "");
        Mac mac = Mac.getInstance(name);
        mac.init(new SecretKeySpec(key, name));
        return mac;
    }

    /** An unsigned big-endian integer in exactly {@code length} bytes. */
    private static byte[] fixed(BigInteger value, int length) {
        byte[] raw = value.toByteArray();
        if (raw.length == length) {
            return raw;
        }
        byte[] out = new byte[length];
        if (raw.length > length) {
            System.arraycopy(raw, raw.length - length, out, 0, length);
        } else {
            System.arraycopy(raw, 0, out, length - raw.length, raw.length);
        }
        return out;
    }

    /** A KDF label as the TPM hashes it: the ASCII string and its terminating zero byte. */
    private static byte[] label(String text) {
        byte[] ascii = text.getBytes(StandardCharsets.US_ASCII);
        return Arrays.copyOf(ascii, ascii.length + 1);
    }
}
