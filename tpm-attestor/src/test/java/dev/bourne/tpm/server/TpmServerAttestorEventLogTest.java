package dev.bourne.tpm.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bourne.core.config.PluginConfig;
import dev.bourne.testing.time.MutableClock;
import dev.bourne.testing.tpm.RealTpmData;
import dev.bourne.testing.tpm.Swtpm;
import dev.bourne.testing.tpm.WithSwtpm;
import dev.bourne.tpm.agent.AgentTpm;
import dev.bourne.tpm.agent.TpmAgentAttestor;
import dev.bourne.tpm.agent.TpmAgentSettings;
import dev.bourne.tpm.common.TpmHashAlg;
import dev.bourne.tpm.common.eventlog.EventLog;
import dev.bourne.tpm.common.eventlog.EventLogReplayer;
import dev.bourne.tpm.server.TpmServerAttestor.Attested;
import dev.bourne.tpm.server.TpmServerAttestor.Pending;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tss.tpm.TPMT_HA;
import tss.tpm.TPM_ALG_ID;
import tss.tpm.TPM_HANDLE;

/**
 * The boot event log path end to end: a real firmware log (Arch Linux on UEFI, crypto-agile, no StartupLocality) sent
 * by the agent must replay to the quoted PCRs. Its own swtpm: PCRs 0-7 are extended and cannot be reset.
 */
@WithSwtpm
class TpmServerAttestorEventLogTest {

    private static final String LOG = "tpm2-tools-event-arch-linux.bin";
    private static final List<Integer> QUOTED = List.of(0, 1, 2, 3, 4, 5, 6, 7);

    @TempDir
    Path dir;

    private Attested attest(Swtpm swtpm, TpmServerAttestor server, Path eventLog) throws Exception {
        swtpm.disconnect();
        try (AgentTpm tpm = AgentTpm.open(TpmAgentSettings.defaults("tcp://127.0.0.1:" + swtpm.dataPort())
                .withEventLogPath(eventLog))) {
            TpmAgentAttestor agent = new TpmAgentAttestor(tpm);
            Pending pending = server.begin(agent.payload());
            return server.finish(pending, agent.answer(pending.challenge()));
        }
    }

    @Test
    void realFirmwareLog_mustReplayToTheQuotedPcrs(Swtpm swtpm) throws Exception {
        byte[] bytes = Files.readAllBytes(RealTpmData.root().resolve("eventlogs").resolve(LOG));
        Path logFile = Files.write(dir.resolve("binary_bios_measurements"), bytes);
        EventLog log = EventLog.parse(bytes);
        SortedMap<Integer, byte[]> replay = log.replay(TpmHashAlg.SHA256);

        MutableClock clock = new MutableClock(Instant.now());
        String ekHash;
        swtpm.disconnect();
        try (AgentTpm tpm = AgentTpm.open(TpmAgentSettings.defaults("tcp://127.0.0.1:" + swtpm.dataPort()))) {
            ekHash = tpm.endorsementKey().ekHash();
        }
        TpmEnrollment enrollment = new TpmEnrollment(ekHash, new TreeMap<>(), Optional.empty(), Optional.empty(),
                clock.instant(), Optional.empty());
        TpmEnrollments enrollments = hash -> Optional.of(enrollment).filter(e -> e.ekHash().equals(hash));
        // The golden policy: what this firmware's log says PCRs 0-7 hold after a good boot.
        Map<String, Object> golden = new LinkedHashMap<>();
        for (int pcr : QUOTED) {
            golden.put(Integer.toString(pcr), List.of(HexFormat.of().formatHex(replay.get(pcr))));
        }
        Map<String, Object> data = Map.of("pcr_policies", Map.of("arch-golden", golden));
        TpmServerSettings settings = TpmServerSettings.validate(new PluginConfig("server.conf", "NodeAttestor", "tpm",
                true, data)).orElseThrow();
        TpmServerAttestor server = new TpmServerAttestor(settings, EkCaStore.of(List.of(), clock), enrollments,
                clock, new SecureRandom());

        // Before boot measurements: the PCRs are zero, the log claims otherwise.
        String extended = QUOTED.stream().filter(replay::containsKey).map(String::valueOf)
                .collect(Collectors.joining(", "));
        TpmAttestationException e = assertThrows(TpmAttestationException.class,
                () -> attest(swtpm, server, logFile));
        assertEquals(TpmServerAttestor.EVENT_LOG_MISMATCH + ": PCR " + extended, e.getMessage());

        // A truncated log is malformed.
        Path truncated = Files.write(dir.resolve("truncated"), Arrays.copyOf(bytes, bytes.length - 7));
        e = assertThrows(TpmAttestationException.class, () -> attest(swtpm, server, truncated));
        assertTrue(e.getMessage().startsWith(TpmServerAttestor.EVENT_LOG_MALFORMED + ": event "), e.getMessage());

        // The firmware's measurements, as a real boot would make them: the log matches and the policy too.
        EventLogReplayer.extendInto(swtpm.tpm(), log, TpmHashAlg.SHA256);
        Attested attested = attest(swtpm, server, logFile);
        assertEquals(List.of("pub_hash:" + ekHash, "pcr_policy:arch-golden"), attested.selectorValues());

        // Without the log the quote alone still satisfies the policy.
        assertEquals(attested.selectorValues(), attest(swtpm, server, dir.resolve("absent")).selectorValues());

        // One measurement the log does not record (a tampered bootloader measured into PCR 4).
        swtpm.tpm().PCR_Extend(TPM_HANDLE.pcr(4), new TPMT_HA[] {new TPMT_HA(TPM_ALG_ID.SHA256,
                TpmHashAlg.SHA256.digest(new byte[] {1}))});
        e = assertThrows(TpmAttestationException.class, () -> attest(swtpm, server, logFile));
        assertEquals(TpmServerAttestor.EVENT_LOG_MISMATCH + ": PCR 4", e.getMessage());
    }
}
