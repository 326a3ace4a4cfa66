package dev.bourne.tpm.common.eventlog;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.bourne.testing.tpm.RealTpmData;
import dev.bourne.tpm.common.TpmFormatException;
import dev.bourne.tpm.common.TpmHashAlg;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SortedMap;
import java.util.regex.Pattern;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Fuzzes {@link EventLog#parse} with arbitrary bytes: every input must either parse (and then replay and compare
 * without error) or be refused with a {@link TpmFormatException} whose message is one of {@link EventLog}'s documented
 * templates. Any other exception (ArrayIndexOutOfBounds, NegativeArraySize, OutOfMemory, NullPointer) is a finding.
 *
 * <p>In a normal build Jazzer runs in regression mode over the committed seeds (small synthetic logs) under
 * {@code src/test/resources/dev/bourne/tpm/common/eventlog/EventLogFuzzTestInputs/parse/}, and
 * {@link #parse_mutatedRealLogs_onlyDocumentedErrors} runs the same target over every real log in
 * {@code shared/testdata/tpm/eventlogs/} and thousands of deterministic mutations of each (truncations, flipped bytes,
 * length fields set to extremes): the real logs cannot be committed as seeds. To fuzz for real:
 * <pre>
 * mkdir -p tpm-attestor/.cifuzz-corpus/dev.bourne.tpm.common.eventlog.EventLogFuzzTest/parse
 * cp ../shared/testdata/tpm/eventlogs/*.bin tpm-attestor/.cifuzz-corpus/dev.bourne.tpm.common.eventlog.EventLogFuzzTest/parse/
 * JAZZER_FUZZ=1 mvn -B -o -pl tpm-attestor -am verify -Dtest=EventLogFuzzTest#parse -Dsurefire.failIfNoSpecifiedTests=false \
 *   "-DargLine=-Djazzer.internal.arg.0=fuzz -Djazzer.internal.arg.1=-max_total_time=300"
 * </pre>
 */
class EventLogFuzzTest {
    private static final List<Pattern> MESSAGES = new ArrayList<>();

    static {
        for (Field field : EventLog.class.getFields()) {
            if (Modifier.isStatic(field.getModifiers()) && field.getType() == String.class) {
                try {
                    String template = (String) field.get(null);
                    MESSAGES.add(Pattern.compile(Arrays.stream(template.split("%(?:d|s|04x)", -1))
                            .map(Pattern::quote).reduce((a, b) -> a + ".+?" + b).orElseThrow()));
                } catch (IllegalAccessException e) {
                    throw new ExceptionInInitializerError(e);
                }
            }
        }
    }

    @FuzzTest(maxDuration = "10m")
    void parse(byte[] input) {
        EventLog log;
        try {
            log = EventLog.parse(input);
        } catch (TpmFormatException e) {
            String message = e.getMessage();
            assertTrue(MESSAGES.stream().anyMatch(p -> p.matcher(message).matches()),
                    "not a documented event-log error: " + message);
            return;
        }
        Map<TpmHashAlg, SortedMap<Integer, byte[]>> replay = log.replay();
        for (TpmHashAlg bank : TpmHashAlg.values()) {
            log.mismatchedPcrs(bank, replay.getOrDefault(bank, new java.util.TreeMap<>()));
        }
    }

    @org.junit.jupiter.api.Test
    void seeds_areValidLogs() throws Exception {
        Path seeds = Path.of(EventLogFuzzTest.class.getResource("EventLogFuzzTestInputs/parse").toURI());
        try (java.util.stream.Stream<Path> files = java.nio.file.Files.list(seeds)) {
            List<Path> all = files.collect(java.util.stream.Collectors.toList());
            assertTrue(all.size() >= 3, "seeds: " + all);
            for (Path seed : all) {
                assertTrue(EventLog.parse(RealTpmData.read(seed)).events().size() >= 2, seed.toString());
            }
        }
    }

    static List<Path> realLogs() {
        return RealTpmData.eventLogs();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("realLogs")
    void parse_mutatedRealLogs_onlyDocumentedErrors(Path file) {
        byte[] log = RealTpmData.read(file);
        parse(log);
        Random random = new Random(file.getFileName().toString().hashCode());
        for (int i = 0; i < 200; i++) {
            parse(Arrays.copyOf(log, random.nextInt(log.length)));
        }
        for (int i = 0; i < 1000; i++) {
            byte[] mutated = log.clone();
            mutated[random.nextInt(mutated.length)] ^= (byte) (1 + random.nextInt(255));
            parse(mutated);
        }
        for (int offset = 0; offset + 4 <= Math.min(log.length, 1024); offset++) {
            for (int extreme : new int[] {0xFFFFFFFF, 0x7FFFFFFF, 0x80000000, 0x00010000}) {
                byte[] mutated = log.clone();
                mutated[offset] = (byte) extreme;
                mutated[offset + 1] = (byte) (extreme >>> 8);
                mutated[offset + 2] = (byte) (extreme >>> 16);
                mutated[offset + 3] = (byte) (extreme >>> 24);
                parse(mutated);
            }
        }
    }
}
