package dev.bourne.tpm.common.eventlog;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bourne.testing.tpm.RealTpmData;
import dev.bourne.testing.tpm.Swtpm;
import dev.bourne.testing.tpm.WithSwtpm;
import dev.bourne.tpm.common.TpmHashAlg;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.SortedSet;
import org.junit.jupiter.api.Test;

/**
 * A real firmware log's SHA-256 digests, extended into a fresh swtpm, leave its PCRs exactly where our replay says:
 * the replay models what a TPM does, and an agent on such a TPM can send this log and match its quote.
 */
@WithSwtpm
class EventLogSwtpmReplayTest {
    /** Arch Linux on real UEFI firmware (tpm2-tools fixtures): crypto-agile, SHA-1 and SHA-256, no StartupLocality. */
    private static final String LOG = "tpm2-tools-event-arch-linux.bin";

    @Test
    void realLog_extendedIntoSwtpm_pcrsEqualReplay(Swtpm swtpm) {
        Path file = RealTpmData.root().resolve("eventlogs").resolve(LOG);
        EventLog log = EventLog.parse(RealTpmData.read(file));
        assertEquals(EventLog.Format.CRYPTO_AGILE, log.format());

        SortedSet<Integer> extended = EventLogReplayer.extendInto(swtpm.tpm(), log, TpmHashAlg.SHA256);
        Map<Integer, byte[]> tpmPcrs = EventLogReplayer.readAll(swtpm.tpm(), TpmHashAlg.SHA256);

        assertTrue(extended.containsAll(List.of(0, 1, 2, 3, 4, 5, 6, 7)), "extended: " + extended);
        SortedMap<Integer, byte[]> replay = log.replay(TpmHashAlg.SHA256);
        assertEquals(extended, replay.keySet());
        for (int pcr : extended) {
            assertArrayEquals(replay.get(pcr), tpmPcrs.get(pcr), "PCR " + pcr);
        }
        // All 24 PCRs, including the ones the log never touches (zero; all ones for 17-22 on swtpm too).
        assertEquals(List.of(), List.copyOf(log.mismatchedPcrs(TpmHashAlg.SHA256, tpmPcrs)));

        // One more measurement outside the log is caught.
        swtpm.tpm().PCR_Extend(tss.tpm.TPM_HANDLE.pcr(8), new tss.tpm.TPMT_HA[] {
            new tss.tpm.TPMT_HA(tss.tpm.TPM_ALG_ID.SHA256, TpmHashAlg.SHA256.digest(new byte[] {1}))});
        assertEquals(List.of(8),
                List.copyOf(log.mismatchedPcrs(TpmHashAlg.SHA256, EventLogReplayer.readAll(swtpm.tpm(),
                        TpmHashAlg.SHA256))));
    }
}
