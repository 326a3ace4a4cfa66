package dev.bourne.bench.tpm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every argument check of the TPM suite's runner, with the exact message it prints, and the defaults. */
class TpmBenchArgumentsTest {
    @TempDir
    Path dir;

    static Stream<Arguments> rejected() {
        return Stream.of(
                Arguments.of(new String[] {"--rounds"}, "--rounds needs a value"),
                Arguments.of(new String[] {"--rounds", "--quick"}, "--rounds needs a value"),
                Arguments.of(new String[] {"--rounds", "0"}, "--rounds must be 1..100, got 0"),
                Arguments.of(new String[] {"--rounds", "x"}, "--rounds takes a whole number, got 'x'"),
                Arguments.of(new String[] {"--slice-ms", "9"}, "--slice-ms must be 10..60000, got 9"),
                Arguments.of(new String[] {"--warmup-ms", "-1"}, "--warmup-ms must be 0..600000, got -1"),
                Arguments.of(new String[] {"--samples", "1"}, "--samples must be 2..100000, got 1"),
                Arguments.of(new String[] {"--cold", "0"}, "--cold must be 1..10000, got 0"),
                Arguments.of(new String[] {"--ek-cas", "/nonexistent/\u0001dir"},
                        "--ek-cas: '/nonexistent/?dir' is not a directory"),
                Arguments.of(new String[] {"--threads", "2"}, "unknown argument '--threads'"));
    }

    @ParameterizedTest
    @MethodSource("rejected")
    void parse_badArgument_rejectedNamingIt(String[] args, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TpmBench.Arguments.parse(args));
        assertEquals(message, e.getMessage());
    }

    @Test
    void parse_nothing_defaults() {
        TpmBench.Arguments a = TpmBench.Arguments.parse(new String[0]);
        assertEquals(5, a.rounds);
        assertEquals(1000, a.sliceMillis);
        assertEquals(1500, a.warmupMillis);
        assertEquals(200, a.samples);
        assertEquals(10, a.cold);
        assertEquals(null, a.ekCas);
    }

    @Test
    void parse_quick_smokeValuesUnlessGivenExplicitly() {
        TpmBench.Arguments a = TpmBench.Arguments.parse(new String[] {"--samples", "3", "--quick", "--ek-cas",
                dir.toString()});
        assertEquals(1, a.rounds);
        assertEquals(100, a.sliceMillis);
        assertEquals(200, a.warmupMillis);
        assertEquals(3, a.samples);
        assertEquals(2, a.cold);
        assertEquals(dir, a.ekCas);
    }

    @Test
    void findVendorCas_missing_failsNamingTheFlag() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TpmBench.findVendorCas(dir));
        assertEquals("shared/testdata/tpm/vendor-ek-ca not found beside the repository (searched upwards from "
                + dir + "); name a directory of EK CA certificates with --ek-cas", e.getMessage());
    }
}
