package dev.bourne.bench.tpm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A smallest whole run of the TPM suite against a real swtpm: attestations through the agent's code answered to the
 * real server (each recorded session verified), the raw TPM commands, AttestAgent and RenewAgent over the agent API
 * of a real Bourne server (each issuing the TPM agent ID), then every server measurement over the
 * recording (each checks its result: the EK hash, the matching PCR policy) with the vendor CA store. Every row and
 * ratio is in the report; nothing about speed is asserted.
 */
class TpmBenchSmokeTest {
    @TempDir
    Path dir;

    @Test
    void aQuickRunReportsEveryMeasurement() throws Exception {
        TpmBench.Arguments arguments = TpmBench.Arguments.parse(new String[] {"--quick", "--slice-ms", "10",
                "--warmup-ms", "0", "--samples", "2", "--cold", "1"});
        String report = TpmBench.run(arguments, dir);

        for (String name : new ServerPhaseNames().all()) {
            Matcher row = Pattern.compile("\\| " + Pattern.quote(name) + " \\| ([0-9,]+) \\|").matcher(report);
            assertTrue(row.find(), name + " missing:\n" + report);
            assertTrue(Long.parseLong(row.group(1).replace(",", "")) > 0, report);
        }
        for (ServerPhase.Limit limit : ServerPhase.LIMITS) {
            assertTrue(Pattern.compile("\\| " + Pattern.quote(limit.measurement()) + " \\| [^|]+ \\| [0-9.]+ \\(")
                    .matcher(report).find(), limit.measurement() + " ratio missing:\n" + report);
        }
        for (String ak : List.of("ECC P-256 AK", "RSA-2048 AK")) {
            for (String row : List.of("agent: attestation, TPM open", "agent: first attestation after start",
                    "agent: renewal evidence", "raw TPM2_Quote", "raw credential activation",
                    "raw TPM2_ActivateCredential alone", "raw TPM2_PCR_Read")) {
                int samples = row.startsWith("agent: first") ? 1 : 2;
                assertTrue(Pattern.compile("\\| " + Pattern.quote(row) + "[^|]*" + Pattern.quote(ak) + " \\| "
                        + samples + " \\|").matcher(report).find(), row + ", " + ak + " missing:\n" + report);
            }
            assertTrue(report.contains("| agent: attestation, TPM open, " + ak + " | credential activation + "
                    + "TPM2_Quote | "), report);
        }
        for (String row : List.of(AgentApiPhase.ATTEST, AgentApiPhase.RENEW)) {
            assertTrue(report.contains("| " + row + " | 2 |"), row + " missing:\n" + report);
        }
        assertTrue(report.contains("| agent API: AttestAgent, ECC P-256 AK | agent: attestation, TPM open | "), report);
        assertTrue(report.contains("| agent API: RenewAgent, ECC P-256 AK | agent: renewal evidence | "), report);
                assertTrue(report.contains("ek_trust ca: 45 distinct manufacturer CA certificates"), report);
        try (Stream<Path> left = Files.list(dir)) {
            // No event log (the agent was pointed at one that does not exist), no datastore left.
            assertEquals(List.of(), left.toList());
        }
    }

    /** The server measurements' names, as ServerPhase defines them. */
    private static final class ServerPhaseNames {
        List<String> all() {
            return List.of(ServerPhase.RAW_RSA_VERIFY, ServerPhase.RAW_ECDSA_VERIFY,
                    ServerPhase.RAW_ECDSA_VERIFY_NEW_KEY, ServerPhase.RAW_OAEP,
                    ServerPhase.QUOTE_ECC, ServerPhase.QUOTE_RSA, ServerPhase.QUOTE_ECC_PARSED, ServerPhase.BEGIN_ECC,
                    ServerPhase.FINISH_ECC, ServerPhase.FULL_ENROLLED_ECC, ServerPhase.FULL_CA_ECC,
                    ServerPhase.FULL_SQLITE_ECC,
                    ServerPhase.FULL_ENROLLED_RSA, ServerPhase.RENEWAL_ECC, ServerPhase.RENEWAL_RSA);
        }
    }
}
