package dev.bourne.bench.iid;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every argument check of the IID suite's runner, with the exact message it prints, and the defaults. */
class IidBenchArgumentsTest {

    static Stream<Arguments> rejected() {
        return Stream.of(
                Arguments.of(new String[] {"--rounds"}, "--rounds needs a value"),
                Arguments.of(new String[] {"--rounds", "--quick"}, "--rounds needs a value"),
                Arguments.of(new String[] {"--rounds", "0"}, "--rounds must be 1..100, got 0"),
                Arguments.of(new String[] {"--rounds", "x"}, "--rounds takes a whole number, got 'x'"),
                Arguments.of(new String[] {"--slice-ms", "9"}, "--slice-ms must be 10..60000, got 9"),
                Arguments.of(new String[] {"--warmup-ms", "-1"}, "--warmup-ms must be 0..600000, got -1"),
                Arguments.of(new String[] {"--requests", "-1"}, "--requests must be 0..1000000, got -1"),
                Arguments.of(new String[] {"--requests", "1e3"}, "--requests takes a whole number, got '1e3'"),
                Arguments.of(new String[] {"--out"}, "--out needs a value"),
                Arguments.of(new String[] {"--threads\u0007", "2"}, "unknown argument '--threads?'"));
    }

    @ParameterizedTest
    @MethodSource("rejected")
    void parse_badArgument_rejectedNamingIt(String[] args, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> IidBench.Arguments.parse(args));
        assertEquals(message, e.getMessage());
    }

    @Test
    void parse_nothing_defaults() {
        IidBench.Arguments a = IidBench.Arguments.parse(new String[0]);
        assertEquals(10, a.rounds);
        assertEquals(500, a.sliceMillis);
        assertEquals(1500, a.warmupMillis);
        assertEquals(1000, a.requests);
        assertFalse(a.serverNagle);
        assertEquals(null, a.out);
    }

    @Test
    void parse_quick_smokeValuesUnlessGivenExplicitly() {
        IidBench.Arguments a = IidBench.Arguments.parse(new String[] {"--requests", "0", "--quick",
                "--server-nagle", "--out", "/tmp/iid.md"});
        assertEquals(1, a.rounds);
        assertEquals(100, a.sliceMillis);
        assertEquals(200, a.warmupMillis);
        assertEquals(0, a.requests);
        assertTrue(a.serverNagle);
        assertEquals(Path.of("/tmp/iid.md"), a.out);
    }
}
