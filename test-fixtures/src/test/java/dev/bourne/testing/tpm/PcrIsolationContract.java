package dev.bourne.testing.tpm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import org.junit.jupiter.api.Test;
import tss.Tpm;
import tss.tpm.TPMS_PCR_SELECTION;
import tss.tpm.TPMT_HA;
import tss.tpm.TPM_ALG_ID;
import tss.tpm.TPM_HANDLE;

/**
 * Two test classes each get their own TPM: each subclass finds PCR 16 at zero and extends it, so whichever runs second
 * would fail if the TPMs were shared. Order-independent by construction.
 */
abstract class PcrIsolationContract {

    private static final int PCR = 16;

    /** The measurement this class extends into PCR 16; different per subclass. */
    abstract byte[] measurement();

    @Test
    void pcr16_ownTpm_startsAtZeroAndExtends(Swtpm swtpm) throws NoSuchAlgorithmException {
        Tpm tpm = swtpm.tpm();
        assertArrayEquals(new byte[32], readPcr16(tpm), "PCR 16 must start at zero on a fresh TPM");

        byte[] digest = MessageDigest.getInstance("SHA-256").digest(measurement());
        tpm.PCR_Extend(TPM_HANDLE.pcr(PCR), new TPMT_HA[] {new TPMT_HA(TPM_ALG_ID.SHA256, digest)});

        MessageDigest extend = MessageDigest.getInstance("SHA-256");
        extend.update(new byte[32]);
        extend.update(digest);
        assertArrayEquals(extend.digest(), readPcr16(tpm));
    }

    private static byte[] readPcr16(Tpm tpm) {
        TPMS_PCR_SELECTION[] selection = {new TPMS_PCR_SELECTION(TPM_ALG_ID.SHA256, PCR)};
        return tpm.PCR_Read(selection).pcrValues[0].buffer;
    }
}
