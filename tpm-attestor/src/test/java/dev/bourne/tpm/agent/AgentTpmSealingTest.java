package dev.bourne.tpm.agent;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bourne.testing.tpm.Swtpm;
import dev.bourne.testing.tpm.WithSwtpm;
import dev.bourne.tpm.common.TpmFormatException;
import dev.bourne.tpm.common.TpmHashAlg;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import tss.tpm.TPMT_HA;
import tss.tpm.TPM_ALG_ID;
import tss.tpm.TPM_HANDLE;

/** Sealing to PCRs 16 and 23 (resettable at locality 0) on swtpm: unseal, break, restore, tamper. */
@WithSwtpm
class AgentTpmSealingTest {

    private static final int SHA256 = TpmHashAlg.SHA256.id();
    private static final int[] PCRS = {16, 23};
    private static final byte[] SECRET = "the agent's private key would go here".getBytes(StandardCharsets.UTF_8);

    private static byte[] seal(Swtpm swtpm, byte[] secret) throws AgentTpmException {
        try (AgentTpm tpm = Tpm2Tools.open(swtpm, Tpm2Tools.settings(swtpm))) {
            return tpm.seal(secret, SHA256, PCRS);
        }
    }

    private static byte[] unseal(Swtpm swtpm, byte[] blob) throws AgentTpmException {
        try (AgentTpm tpm = Tpm2Tools.open(swtpm, Tpm2Tools.settings(swtpm))) {
            return tpm.unseal(blob);
        }
    }

    private static void extend(Swtpm swtpm, int pcr) {
        swtpm.tpm().PCR_Extend(TPM_HANDLE.pcr(pcr), new TPMT_HA[] {new TPMT_HA(TPM_ALG_ID.SHA256, new byte[32])});
        swtpm.disconnect();
    }

    private static void reset(Swtpm swtpm, int pcr) {
        swtpm.tpm().PCR_Reset(TPM_HANDLE.pcr(pcr));
        swtpm.disconnect();
    }

    @Test
    void seal_pcrsExtendedThenReset_unsealBreaksThenWorksAgain(Swtpm swtpm) throws Exception {
        reset(swtpm, 16);
        byte[] blob = seal(swtpm, SECRET);
        assertArrayEquals(SECRET, unseal(swtpm, blob));
        assertEquals(List.of(), Tpm2Tools.loadedHandles(swtpm));

        extend(swtpm, 16);
        SealBrokenException broken = assertThrows(SealBrokenException.class, () -> unseal(swtpm, blob));
        assertTrue(broken.getMessage().contains(SealBrokenException.PCRS_CHANGED), broken.getMessage());
        assertEquals(List.of(), Tpm2Tools.loadedHandles(swtpm));

        reset(swtpm, 16);
        assertArrayEquals(SECRET, unseal(swtpm, blob));
        assertEquals(List.of(), Tpm2Tools.loadedHandles(swtpm));
    }

    @Test
    void seal_defaultsOfTheSettings_sealToTheConfiguredPcrs(Swtpm swtpm) throws Exception {
        byte[] blob;
        try (AgentTpm tpm = Tpm2Tools.open(swtpm, Tpm2Tools.settings(swtpm))) {
            blob = tpm.seal(SECRET);
            assertArrayEquals(SECRET, tpm.unseal(blob));
        }
        SealedBlob decoded = SealedBlob.decode(blob);
        assertArrayEquals(new int[] {0, 2, 4, 7}, decoded.pcrs());
        assertEquals(TpmHashAlg.SHA256, decoded.bank());
    }

    @Test
    void seal_128Bytes_accepted129Refused(Swtpm swtpm) throws Exception {
        byte[] max = new byte[AgentTpm.MAX_SEALED_SECRET];
        Arrays.fill(max, (byte) 7);
        assertArrayEquals(max, unseal(swtpm, seal(swtpm, max)));

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> seal(swtpm, new byte[AgentTpm.MAX_SEALED_SECRET + 1]));
        assertEquals(AgentTpm.SECRET_TOO_LONG, e.getMessage());
        assertEquals(List.of(), Tpm2Tools.loadedHandles(swtpm));
    }

    @Test
    void unseal_privateAreaAltered_rejectedByTheTpmNotReportedAsPcrChange(Swtpm swtpm) throws Exception {
        byte[] blob = seal(swtpm, SECRET);
        byte[] altered = blob.clone();
        altered[altered.length - 5] ^= 0x01;

        AgentTpmException e = assertThrows(AgentTpmException.class, () -> unseal(swtpm, altered));
        assertFalse(e instanceof SealBrokenException);
        assertTrue(e.getMessage().startsWith("TPM2_Load failed with TPM response code 0x"), e.getMessage());
        assertTrue(e.getMessage().endsWith(AgentTpm.SEALED_BLOB_REJECTED), e.getMessage());
        assertEquals(List.of(), Tpm2Tools.loadedHandles(swtpm));
    }

    @Test
    void unseal_authPolicyAltered_rejectedByTheTpm(Swtpm swtpm) throws Exception {
        byte[] blob = seal(swtpm, SECRET);
        SealedBlob decoded = SealedBlob.decode(blob);
        byte[] publicArea = decoded.publicArea();
        // TPMT_PUBLIC: type(2) nameAlg(2) objectAttributes(4) authPolicy(2 + 32): flip the policy's first byte.
        publicArea[10] ^= 0x01;
        byte[] altered = new SealedBlob(decoded.bank(), decoded.pcrs(), publicArea, decoded.privateArea()).encode();

        AgentTpmException e = assertThrows(AgentTpmException.class, () -> unseal(swtpm, altered));
        assertFalse(e instanceof SealBrokenException);
        assertTrue(e.getMessage().endsWith(AgentTpm.SEALED_BLOB_REJECTED), e.getMessage());
    }

    @Test
    void unseal_userWithAuthAddedToThePublicArea_refusedBeforeTheTpm(Swtpm swtpm) throws Exception {
        SealedBlob decoded = SealedBlob.decode(seal(swtpm, SECRET));
        byte[] publicArea = decoded.publicArea();
        // TPMT_PUBLIC: type(2) nameAlg(2) objectAttributes(4): set userWithAuth (bit 6).
        ByteBuffer area = ByteBuffer.wrap(publicArea);
        area.putInt(4, area.getInt(4) | 0x40);
        byte[] altered = new SealedBlob(decoded.bank(), decoded.pcrs(), publicArea, decoded.privateArea()).encode();

        TpmFormatException e = assertThrows(TpmFormatException.class, () -> unseal(swtpm, altered));
        assertEquals(SealedBlob.BAD_PUBLIC, e.getMessage());
    }

    @Test
    void unseal_badMagic_rejectedWithAClearError(Swtpm swtpm) throws Exception {
        byte[] blob = seal(swtpm, SECRET);
        blob[0] = 'X';

        TpmFormatException e = assertThrows(TpmFormatException.class, () -> unseal(swtpm, blob));
        assertEquals(SealedBlob.BAD_MAGIC, e.getMessage());
    }

    @Test
    void sealAndUnseal_twentyTimes_measured(Swtpm swtpm) throws Exception {
        long[] seals = new long[20];
        long[] unseals = new long[20];
        try (AgentTpm tpm = Tpm2Tools.open(swtpm, Tpm2Tools.settings(swtpm))) {
            for (int i = 0; i < 20; i++) {
                long start = System.nanoTime();
                byte[] blob = tpm.seal(SECRET, SHA256, PCRS);
                seals[i] = System.nanoTime() - start;
                start = System.nanoTime();
                assertArrayEquals(SECRET, tpm.unseal(blob));
                unseals[i] = System.nanoTime() - start;
            }
        }
        assertEquals(List.of(), Tpm2Tools.loadedHandles(swtpm));
        System.out.printf("MEASURE seal (ECC SRK CreatePrimary + Create) against swtpm: median %.2f ms%n",
                TpmAgentAttestorTest.median(seals));
        System.out.printf("MEASURE unseal (SRK + Load + PolicyPCR + Unseal) against swtpm: median %.2f ms%n",
                TpmAgentAttestorTest.median(unseals));
    }
}
