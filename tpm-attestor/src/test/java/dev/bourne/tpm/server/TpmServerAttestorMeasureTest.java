package dev.bourne.tpm.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.bourne.core.config.PluginConfig;
import dev.bourne.testing.tpm.Swtpm;
import dev.bourne.testing.tpm.WithSwtpm;
import dev.bourne.tpm.agent.AgentTpm;
import dev.bourne.tpm.agent.TpmAgentAttestor;
import dev.bourne.tpm.agent.TpmAgentSettings;
import dev.bourne.tpm.server.TpmServerAttestor.Pending;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Measures the server's own time per attestation, begin() plus finish(), excluding the TPM's (the agent's activation
 * and quote run between the two and are not timed). RSA-2048 EK (MakeCredential with RSA-OAEP) and ECC P-256 AK
 * (ECDSA verification). Logs only: no assertion on speed.
 */
@WithSwtpm
class TpmServerAttestorMeasureTest {

    private static final int ROUNDS = 60;
    private static final int WARMUP = 15;

    @Test
    void measure_serverTimePerAttestation(Swtpm swtpm) throws Exception {
        List<X509Certificate> cas = new ArrayList<>(EkCaStore.load(List.of(RealTpmData.vendorEkCa()),
                Clock.systemUTC()).certificates());
        cas.add(swtpm.localCaCertificates().root());
        cas.add(swtpm.localCaCertificates().issuer());
        swtpm.disconnect();
        try (AgentTpm tpm = AgentTpm.open(TpmAgentSettings.defaults("tcp://127.0.0.1:" + swtpm.dataPort()))) {
            TpmAgentAttestor agent = new TpmAgentAttestor(tpm);
            String ekHash = tpm.endorsementKey().ekHash();
            TpmEnrollment enrollment = new TpmEnrollment(ekHash, new TreeMap<>(Map.of("rack", "r1")),
                    Optional.empty(), Optional.empty(), Clock.systemUTC().instant(), Optional.empty());
            TpmEnrollments enrollments = hash -> Optional.of(enrollment);
            for (String mode : List.of("enrolled", "ca")) {
                TpmServerSettings settings = TpmServerSettings.validate(new PluginConfig("server.conf",
                        "NodeAttestor", "tpm", true, mode.equals("ca")
                                ? Map.of("ek_trust", "ca", "ek_ca_paths", List.of("unused")) : Map.of()))
                        .orElseThrow();
                TpmServerAttestor server = new TpmServerAttestor(settings, EkCaStore.of(cas, Clock.systemUTC()),
                        enrollments, Clock.systemUTC(), new SecureRandom());
                byte[] payload = agent.payload();
                long[] begin = new long[ROUNDS];
                long[] finish = new long[ROUNDS];
                for (int i = 0; i < WARMUP + ROUNDS; i++) {
                    long t0 = System.nanoTime();
                    Pending pending = server.begin(payload);
                    long t1 = System.nanoTime();
                    byte[] answer = agent.answer(pending.challenge());
                    long t2 = System.nanoTime();
                    assertEquals(ekHash, server.finish(pending, answer).ekHash());
                    long t3 = System.nanoTime();
                    if (i >= WARMUP) {
                        begin[i - WARMUP] = t1 - t0;
                        finish[i - WARMUP] = t3 - t2;
                    }
                }
                long[] total = new long[ROUNDS];
                for (int i = 0; i < ROUNDS; i++) {
                    total[i] = begin[i] + finish[i];
                }
                System.out.printf("MEASURE server attestation (ek_trust=%s, RSA-2048 EK, ECC P-256 AK, %d rounds): "
                        + "begin median %.3f ms, finish median %.3f ms, begin+finish median %.3f ms (%.0f/s)%n",
                        mode, ROUNDS, median(begin), median(finish), median(total), 1000.0 / median(total));
            }
        }
    }

    private static double median(long[] nanos) {
        long[] sorted = nanos.clone();
        Arrays.sort(sorted);
        return (sorted[(sorted.length - 1) / 2] + sorted[sorted.length / 2]) / 2.0 / 1e6;
    }
}
