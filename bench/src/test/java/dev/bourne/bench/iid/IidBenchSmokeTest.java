package dev.bourne.bench.iid;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bourne.bench.tpm.Throughput;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A smallest whole run of the IID suite: the real attestor over the SQLite datastore and an in-memory ledger (each
 * attestation checked, a replay refused before measuring), IidSigner on a SoftHSM2 token through the pkcs11 KeyManager
 * beside raw PKCS#11 signatures, and the signing service over real HTTPS (every answer a JWS). Every row and ratio is
 * in the report, and the scratch directory is left empty; nothing about speed is asserted.
 */
class IidBenchSmokeTest {
    @TempDir
    Path dir;

    @Test
    void aQuickRunReportsEveryMeasurement() throws Exception {
        IidBench.Arguments arguments = IidBench.Arguments.parse(new String[] {"--quick", "--slice-ms", "10",
                "--warmup-ms", "0", "--requests", "3"});
        String report = IidBench.run(arguments, dir);

        for (String name : List.of(ServerPhase.RAW_VERIFY, ServerPhase.VERIFY, ServerPhase.ATTEST_MEMORY,
                ServerPhase.ATTEST_SQLITE, ServerPhase.LEDGER_SQLITE, ServerPhase.RAW_VERIFY_SUNEC,
                ServerPhase.RAW_VERIFY_BC_NEW_KEY, SigningPhase.RAW_SIGN, SigningPhase.SIGN)) {
            Matcher row = Pattern.compile("\\| " + Pattern.quote(name) + " \\| ([0-9,]+) \\|").matcher(report);
            assertTrue(row.find(), name + " missing:\n" + report);
            assertTrue(Long.parseLong(row.group(1).replace(",", "")) > 0, report);
        }
        List<ServerPhase.Limit> limits = new ArrayList<>(ServerPhase.LIMITS);
        limits.addAll(SigningPhase.LIMITS);
        for (ServerPhase.Limit limit : limits) {
            assertTrue(report.contains("| " + limit.measurement() + " | "
                    + String.join(" + ", limit.limitOperations()) + " | "), limit + " missing:\n" + report);
        }
        assertTrue(report.contains("| " + HttpsPhase.LIVE + " | 3 |"), report);
        assertTrue(report.contains("| " + HttpsPhase.IID + " | 3 |"), report);
        assertTrue(Pattern.compile("\\| " + Pattern.quote(HttpsPhase.IID) + " \\| [0-9.]+ \\| [0-9.]+ \\|")
                .matcher(report).find(), report);
        try (Stream<Path> left = Files.list(dir)) {
            assertEquals(List.of(), left.toList());
        }
    }

    @Test
    void ratios_limitOfSeveralOperationsIsTheirTimesSummed() throws Exception {
        Throughput throughput = new Throughput();
        // 1 ms, 4 ms and 5 ms per call, whatever the wall time.
        throughput.add("a", i -> 1_000_000);
        throughput.add("b", i -> 4_000_000);
        throughput.add("m", i -> 5_000_000);
        Throughput.Rates rates = throughput.measure(2, 0, 1, 1);
        double[] both = IidBench.ratios(rates, new ServerPhase.Limit("m", List.of("a", "b")));
        double[] one = IidBench.ratios(rates, new ServerPhase.Limit("m", List.of("a")));
        assertEquals(1.0, both[0], 1e-9);
        assertEquals(1.0, both[1], 1e-9);
        assertEquals(0.2, one[0], 1e-9);
    }
}
