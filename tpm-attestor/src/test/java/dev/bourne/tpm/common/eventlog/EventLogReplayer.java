package dev.bourne.tpm.common.eventlog;

import dev.bourne.tpm.common.TpmHashAlg;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import tss.Tpm;
import tss.tpm.TPMS_PCR_SELECTION;
import tss.tpm.TPMT_HA;
import tss.tpm.TPM_ALG_ID;
import tss.tpm.TPM_HANDLE;

/**
 * Test helper: makes a TPM's PCRs hold what a real boot event log replays to, by extending each measured event's
 * digest into its PCR in log order ({@code TPM2_PCR_Extend} at locality 0). End-to-end tests use it to quote a swtpm
 * whose PCRs match a real firmware log, so the agent can send that log and the server's replay check passes.
 *
 * <p>Works on a freshly started TPM (PCRs at their start values) and only for logs without a non-zero StartupLocality
 * (PCR 0 cannot start at 3 or 4 on a TPM started at locality 0) whose events use PCRs 0-16 or 23 (the ones
 * extendable at locality 0).
 */
public final class EventLogReplayer {

    private EventLogReplayer() {
    }

    /**
     * Extends every measured event of {@code log} into {@code tpm}'s {@code bank} bank.
     *
     * @return the PCRs extended
     * @throws IllegalArgumentException when the log has no digests in {@code bank}, starts PCR 0 at a non-zero
     *     locality, or extends a PCR that locality 0 cannot extend
     */
    public static SortedSet<Integer> extendInto(Tpm tpm, EventLog log, TpmHashAlg bank) {
        if (!log.banks().contains(bank)) {
            throw new IllegalArgumentException("the log has no " + bank.configName() + " digests");
        }
        if (log.startupLocality().orElse(0) != 0) {
            throw new IllegalArgumentException("the log starts PCR 0 at locality " + log.startupLocality().getAsInt()
                    + "; a TPM started at locality 0 cannot reproduce it");
        }
        TPM_ALG_ID alg = TPM_ALG_ID.fromInt(bank.id());
        TreeSet<Integer> extended = new TreeSet<>();
        for (Event event : log.events()) {
            if (event.isNoAction()) {
                continue;
            }
            int pcr = event.pcrIndex();
            if (pcr > 16 && pcr != 23) {
                throw new IllegalArgumentException("PCR " + pcr + " cannot be extended at locality 0");
            }
            tpm.PCR_Extend(TPM_HANDLE.pcr(pcr), new TPMT_HA[] {new TPMT_HA(alg, event.digest(bank).orElseThrow())});
            extended.add(pcr);
        }
        return extended;
    }

    /** Every PCR of {@code bank}, 0 to 23, as the TPM reports it (one PCR_Read per PCR). */
    public static Map<Integer, byte[]> readAll(Tpm tpm, TpmHashAlg bank) {
        TPM_ALG_ID alg = TPM_ALG_ID.fromInt(bank.id());
        TreeMap<Integer, byte[]> values = new TreeMap<>();
        for (int pcr = 0; pcr < EventLog.PCR_COUNT; pcr++) {
            values.put(pcr, tpm.PCR_Read(new TPMS_PCR_SELECTION[] {new TPMS_PCR_SELECTION(alg, pcr)})
                    .pcrValues[0].buffer);
        }
        return values;
    }
}
