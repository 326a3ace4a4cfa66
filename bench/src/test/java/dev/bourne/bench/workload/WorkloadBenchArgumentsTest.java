package dev.bourne.bench.workload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Workload API runner's command line: defaults, every argument's checks, the file-descriptor check. */
class WorkloadBenchArgumentsTest {
    @TempDir
    Path dir;

    @Test
    void defaultsAreOneAndSixtyFourClientsAndAThousandStreamsOnTheirOwnConnections() {
        WorkloadBench.Arguments a = WorkloadBench.Arguments.parse(new String[0]);
        assertEquals(List.of(1, 64), a.clients);
        assertEquals(1000, a.streams);
        assertEquals(1, a.streamsPerConnection);
        assertEquals(1000, a.connections());
        assertEquals(100, a.rotations);
        assertEquals(6, a.rounds);
        assertFalse(a.quick);
    }

    @Test
    void quickShortensRoundsAndRotationsUnlessGiven() {
        WorkloadBench.Arguments quick = WorkloadBench.Arguments.parse(new String[] {"--quick"});
        assertEquals(3, quick.rounds);
        assertEquals(20, quick.rotations);
        WorkloadBench.Arguments given = WorkloadBench.Arguments.parse(
                new String[] {"--quick", "--rotations", "7", "--rounds", "2"});
        assertEquals(7, given.rotations);
        assertEquals(2, given.rounds);
    }

    @Test
    void streamsPerConnectionRoundsConnectionsUp() {
        WorkloadBench.Arguments a = WorkloadBench.Arguments.parse(
                new String[] {"--streams", "1000", "--streams-per-connection", "300", "--clients", "2,8"});
        assertEquals(4, a.connections());
        assertEquals(List.of(2, 8), a.clients);
    }

    @Test
    void rejectsEachBadArgumentNamingIt() {
        assertMessage(WorkloadBench.Arguments.UNKNOWN, "--bogus");
        assertMessage("--rotations" + WorkloadBench.Arguments.NEEDS_VALUE, "--rotations");
        assertMessage("--out" + WorkloadBench.Arguments.NEEDS_VALUE, "--out", "--quick");
        assertMessage("--clients" + WorkloadBench.Arguments.NOT_A_NUMBER, "--clients", "1,x");
        assertMessage("--clients" + WorkloadBench.Arguments.NOT_A_NUMBER, "--clients", "1,");
        assertMessage("--clients" + WorkloadBench.Arguments.OUT_OF_RANGE, "--clients", "0");
        assertMessage("--clients" + WorkloadBench.Arguments.OUT_OF_RANGE, "--clients", "257");
        assertMessage("--streams" + WorkloadBench.Arguments.OUT_OF_RANGE, "--streams", "5001");
        assertMessage("--streams-per-connection" + WorkloadBench.Arguments.OUT_OF_RANGE,
                "--streams-per-connection", "0");
        assertMessage("--rounds" + WorkloadBench.Arguments.NOT_A_NUMBER, "--rounds", "99999999999");
    }

    @Test
    void unprintableArgumentsAreNotEchoedRaw() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> WorkloadBench.Arguments.parse(new String[] {"--\u001b[31mred"}));
        assertFalse(e.getMessage().contains("\u001b"));
    }

    @Test
    void refusesARunThatWouldRunOutOfFileDescriptors() throws IOException {
        Path limits = limits("1024");
        WorkloadBench.Arguments thousand = WorkloadBench.Arguments.parse(new String[0]);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> thousand.checkDescriptorLimit(limits));
        assertTrue(e.getMessage().contains(WorkloadBench.Arguments.TOO_FEW_DESCRIPTORS + "1024"), e.getMessage());
        // Multiplexed, the same streams fit.
        WorkloadBench.Arguments multiplexed = WorkloadBench.Arguments.parse(
                new String[] {"--streams-per-connection", "10"});
        multiplexed.checkDescriptorLimit(limits);
        WorkloadBench.Arguments.parse(new String[0]).checkDescriptorLimit(limits("unlimited"));
    }

    private Path limits(String soft) throws IOException {
        Path file = dir.resolve("limits-" + soft);
        Files.writeString(file, """
                Limit                     Soft Limit           Hard Limit           Units
                Max cpu time              unlimited            unlimited            seconds
                Max open files            %s                 20000                files
                """.formatted(soft));
        return file;
    }

    private static void assertMessage(String expected, String... args) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> WorkloadBench.Arguments.parse(args));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }
}
