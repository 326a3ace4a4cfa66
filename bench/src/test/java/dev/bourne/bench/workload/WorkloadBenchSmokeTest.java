package dev.bourne.bench.workload;

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
 * A smallest whole run against the real agent server on a real Unix socket: every measurement produces samples (each
 * checked by the probes: echoed bytes, the workload's SPIFFE ID, the rotated leaf on every stream) and the report
 * has its rows. Nothing about speed is asserted.
 */
class WorkloadBenchSmokeTest {
    @TempDir
    Path dir;

    @Test
    void aQuickRunReportsEveryMeasurementWithSamples() throws Exception {
        WorkloadBench.Arguments arguments = WorkloadBench.Arguments.parse(new String[] {"--quick", "--clients", "1,3",
                "--rounds", "1", "--streams", "20", "--streams-per-connection", "4", "--rotations", "3"});
        String report = WorkloadBench.run(arguments, dir);

        for (String kind : List.of("bare UDS round trip", "gRPC unary no-op", "FetchX509SVID first response")) {
            for (int clients : List.of(1, 3)) {
                Matcher row = Pattern.compile("\\| " + Pattern.quote(kind) + " \\| " + clients + " \\| ([0-9,]+) \\|")
                        .matcher(report);
                assertTrue(row.find(), kind + " with " + clients + " clients missing:\n" + report);
                assertTrue(Long.parseLong(row.group(1).replace(",", "")) > 0, report);
            }
        }
        assertTrue(report.contains("SVID rotation to 20 FetchX509SVID streams over 5 connection(s) (3 rotations"),
                report);
        assertTrue(report.contains("| update() call to the last stream's new SVID |"), report);
        // The servers removed their sockets (and their lock files) on close.
        try (Stream<Path> left = Files.walk(dir)) {
            assertEquals(List.of(), left.filter(Files::isRegularFile).map(Path::toString)
                    .filter(name -> !name.endsWith(".lock")).toList());
        }
        try (Stream<Path> left = Files.walk(dir)) {
            assertEquals(0, left.filter(p -> p.getFileName().toString().endsWith(".sock")).count());
        }
    }
}
