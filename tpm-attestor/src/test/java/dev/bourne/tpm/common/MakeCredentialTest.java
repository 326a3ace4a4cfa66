package dev.bourne.tpm.common;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.bourne.testing.tpm.Swtpm;
import dev.bourne.testing.tpm.WithSwtpm;
import dev.bourne.tpm.agent.AgentTpmException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import tss.tpm.TPM_ALG_ID;
import tss.tpm.TPM_ECC_CURVE;

/**
 * MakeCredential made in Java, activated by swtpm: for the RSA-2048 EK and the ECC P-384 EK (SHA-384, AES-256), the
 * TPM's TPM2_ActivateCredential returns the secret; with a wrong AK name it refuses. tpm2-tools' offline
 * tpm2_makecredential is the cross-check of the format.
 */
@WithSwtpm
class MakeCredentialTest {

    private static final SecureRandom RANDOM = new SecureRandom();
    /** TPM_RC_INTEGRITY, format one, error number 0x1F (with any parameter or handle number). */
    private static final int RC_INTEGRITY = 0x9F;

    @TempDir
    Path dir;

    private static byte[] secret(int length) {
        byte[] secret = new byte[length];
        RANDOM.nextBytes(secret);
        return secret;
    }

    @ParameterizedTest
    @ValueSource(ints = {TpmDriver.RSA_EK, TpmDriver.ECC_P384_EK})
    void make_activatedBySwtpm_returnsTheSecret(int ekHandle, Swtpm swtpm) throws Exception {
        TpmDriver tpm = new TpmDriver(swtpm);
        TpmPublic ek = TpmPublic.parse(tpm.readPublic(ekHandle));
        TpmDriver.Key ak = tpm.createPrimary(TpmDriver.eccAk(TPM_ECC_CURVE.NIST_P256, TPM_ALG_ID.SHA256));
        try {
            for (int length : new int[] {1, 16, 32}) {
                byte[] secret = secret(length);
                MakeCredential.Credential credential = MakeCredential.make(ek, TpmPublic.parse(ak.publicArea()).name(),
                        secret, RANDOM);

                byte[] activated = tpm.activate(ak.handle(), ekHandle, ek, credential.credentialBlob(),
                        credential.encryptedSecret());

                assertArrayEquals(secret, activated);
            }
        } finally {
            tpm.flush(ak.handle());
        }
    }

    /**
     * The ECC P-256 EK most real TPMs carry (TCG template L-2, SHA-256, AES-128, PolicySecret(endorsement)), recreated
     * here as a transient primary from the template the agent uses.
     */
    @Test
    void make_eccP256EkFromTheTcgTemplate_activatedBySwtpm(Swtpm swtpm) throws Exception {
        TpmDriver tpm = new TpmDriver(swtpm);
        TpmDriver.Key ekKey = tpm.createPrimary(dev.bourne.tpm.agent.internal.KeyTemplates.eccEk());
        TpmDriver.Key ak = tpm.createPrimary(TpmDriver.eccAk(TPM_ECC_CURVE.NIST_P256, TPM_ALG_ID.SHA256));
        try {
            TpmPublic ek = TpmPublic.parse(ekKey.publicArea());
            assertEquals(java.util.Optional.of(TpmEccCurve.NIST_P256), ek.curve());
            byte[] secret = secret(32);
            MakeCredential.Credential credential = MakeCredential.make(ek, ak.name(), secret, RANDOM);

            assertArrayEquals(secret, tpm.activate(ak.handle(), ekKey.handle().handle, ek,
                    credential.credentialBlob(), credential.encryptedSecret()));
        } finally {
            tpm.flush(ak.handle());
            tpm.flush(ekKey.handle());
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {TpmDriver.RSA_EK, TpmDriver.ECC_P384_EK})
    void make_forAnotherAkName_tpmRefusesWithIntegrityError(int ekHandle, Swtpm swtpm) throws Exception {
        TpmDriver tpm = new TpmDriver(swtpm);
        TpmPublic ek = TpmPublic.parse(tpm.readPublic(ekHandle));
        TpmDriver.Key ak = tpm.createPrimary(TpmDriver.eccAk(TPM_ECC_CURVE.NIST_P256, TPM_ALG_ID.SHA256));
        try {
            byte[] otherName = TpmPublic.parse(ak.publicArea()).name();
            otherName[otherName.length - 1] ^= 1;
            MakeCredential.Credential credential = MakeCredential.make(ek, otherName, secret(32), RANDOM);

            AgentTpmException refused = assertThrows(AgentTpmException.class, () -> tpm.activate(ak.handle(),
                    ekHandle, ek, credential.credentialBlob(), credential.encryptedSecret()));

            assertEquals(RC_INTEGRITY, refused.responseCode().orElseThrow() & 0xBF, refused.getMessage());
        } finally {
            tpm.flush(ak.handle());
        }
    }

    @Test
    void make_tamperedBlob_tpmRefuses(Swtpm swtpm) throws Exception {
        TpmDriver tpm = new TpmDriver(swtpm);
        TpmPublic ek = TpmPublic.parse(tpm.readPublic(TpmDriver.RSA_EK));
        TpmDriver.Key ak = tpm.createPrimary(TpmDriver.eccAk(TPM_ECC_CURVE.NIST_P256, TPM_ALG_ID.SHA256));
        try {
            MakeCredential.Credential credential = MakeCredential.make(ek, ak.name(), secret(32), RANDOM);
            byte[] blob = credential.credentialBlob();
            blob[blob.length - 1] ^= 1;

            AgentTpmException refused = assertThrows(AgentTpmException.class, () -> tpm.activate(ak.handle(),
                    TpmDriver.RSA_EK, ek, blob, credential.encryptedSecret()));

            assertEquals(RC_INTEGRITY, refused.responseCode().orElseThrow() & 0xBF, refused.getMessage());
        } finally {
            tpm.flush(ak.handle());
        }
    }

    /**
     * tpm2_makecredential -T none encrypts offline to the RSA EK's PEM: its blob has the same layout as ours (sizes,
     * HMAC length, ciphertext length) and both activate in the TPM (random seeds make the bytes differ).
     */
    @Test
    void make_rsa_sameFormatAsTpm2Makecredential_bothActivate(Swtpm swtpm) throws Exception {
        TpmDriver tpm = new TpmDriver(swtpm);
        TpmPublic ek = TpmPublic.parse(tpm.readPublic(TpmDriver.RSA_EK));
        TpmDriver.Key ak = tpm.createPrimary(TpmDriver.eccAk(TPM_ECC_CURVE.NIST_P256, TPM_ALG_ID.SHA256));
        try {
            byte[] secret = secret(32);
            byte[] name = ak.name();
            Path pem = dir.resolve("ek.pem");
            Files.write(dir.resolve("secret"), secret);
            tpm.tool("tpm2_readpublic", "-c", "0x81010001", "-f", "pem", "-o", pem.toString());
            tpm.tool("tpm2_makecredential", "-T", "none", "-u", pem.toString(), "-G", "rsa", "-s",
                    dir.resolve("secret").toString(), "-n", HexFormat.of().formatHex(name), "-o",
                    dir.resolve("credential").toString());
            ByteBuffer in = ByteBuffer.wrap(Files.readAllBytes(dir.resolve("credential")));
            assertEquals(0xBADCC0DE, in.getInt());
            assertEquals(1, in.getInt());
            byte[] toolBlob = new byte[Short.toUnsignedInt(in.getShort())];
            in.get(toolBlob);
            byte[] toolSecret = new byte[Short.toUnsignedInt(in.getShort())];
            in.get(toolSecret);

            MakeCredential.Credential ours = MakeCredential.make(ek, name, secret, RANDOM);

            assertEquals(toolBlob.length, ours.credentialBlob().length);
            assertArrayEquals(java.util.Arrays.copyOf(toolBlob, 2), java.util.Arrays.copyOf(ours.credentialBlob(), 2));
            assertEquals(toolSecret.length, ours.encryptedSecret().length);
            assertArrayEquals(secret, tpm.activate(ak.handle(), TpmDriver.RSA_EK, ek, toolBlob,
                    toolSecret));
            assertArrayEquals(secret, tpm.activate(ak.handle(), TpmDriver.RSA_EK, ek,
                    ours.credentialBlob(), ours.encryptedSecret()));
        } finally {
            tpm.flush(ak.handle());
        }
    }
}
