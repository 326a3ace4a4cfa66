package dev.bourne.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ConfigReaderTest {

    private static ConfigReader reader(Object value) {
        return ConfigReader.of("f.conf", "b", Map.of("k", value));
    }

    static Stream<Arguments> reads() {
        Function<ConfigReader, Object> integer = r -> r.optionalInt("k", -1, 0, 100);
        Function<ConfigReader, Object> bool = r -> r.optionalBool("k", false);
        Function<ConfigReader, Object> list = r -> r.optionalStringList("k");
        Function<ConfigReader, Object> path = r -> r.optionalPath("k");
        Function<ConfigReader, Object> duration = r -> r.optionalDuration("k", Duration.ZERO);
        return Stream.of(
                Arguments.of("optionalInt_number_read", 42.0, integer, 42, null),
                Arguments.of("optionalInt_quotedNumber_read", "42", integer, 42, null),
                Arguments.of("optionalInt_negativeBelowRange_rejected", -1.0, integer, -1,
                        "b.k: must be between 0 and 100, got -1"),
                Arguments.of("optionalInt_hugeNumber_rejected", 1e300, integer, -1,
                        "b.k: must be between 0 and 100, got 9223372036854775807"),
                Arguments.of("optionalInt_tooManyDigits_rejected", "1234567890123456789012", integer, -1,
                        "b.k: expected a number, got string \"1234567890123456789012\""),
                Arguments.of("optionalInt_list_rejected", List.of(1.0), integer, -1, "b.k: expected a number, got list"),
                Arguments.of("optionalInt_block_rejected", Map.of(), integer, -1, "b.k: expected a number, got block"),
                Arguments.of("optionalBool_true_read", true, bool, true, null),
                Arguments.of("optionalBool_quoted_read", "true", bool, true, null),
                Arguments.of("optionalBool_number_rejected", 0.0, bool, false, "b.k: expected true or false, got number 0"),
                Arguments.of("optionalStringList_strings_read", List.of("a", "b"), list, List.of("a", "b"), null),
                Arguments.of("optionalStringList_string_rejected", "a", list, List.of(),
                        "b.k: expected a list of strings, got string \"a\""),
                Arguments.of("optionalPath_string_read", "/var/lib/bourne", path, Optional.of(Path.of("/var/lib/bourne")),
                        null),
                Arguments.of("optionalPath_nul_rejected", "a\u0000b", path, Optional.empty(),
                        "b.k: is not a valid path: Nul character not allowed"),
                Arguments.of("optionalDuration_longString_quotedShort", "x".repeat(100), duration, Duration.ZERO,
                        "b.k: invalid duration \"" + "x".repeat(64) + "...\": unexpected \"x\" at offset 0"),
                Arguments.of("optionalDuration_controlCharacters_escaped", "1h\n", duration, Duration.ZERO,
                        "b.k: invalid duration \"1h\\n\": unknown unit \"h\\n\" (ns, us, ms, s, m, h)"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reads")
    void read_value_returnsOrReports(String name, Object value, Function<ConfigReader, Object> read, Object expected,
            String error) {
        ConfigReader r = reader(value);

        assertEquals(expected, read.apply(r));
        assertEquals(error == null ? List.of() : List.of("f.conf: " + error), ConfigTexts.strings(r.errors()));
    }

    @Test
    void rejectUnknownKeys_keysNeverAskedFor_reportedInFileOrder() {
        Map<String, Object> map = new java.util.LinkedHashMap<>();
        map.put("bind_prot", 1.0);
        map.put("trust_domain", "x");
        map.put("zzz", 1.0);
        map.put("line\nbreak", 1.0);
        ConfigReader r = ConfigReader.of("f.conf", "server", map);
        r.optionalString("trust_domain");
        r.optionalPort("bind_port", 1);

        r.rejectUnknownKeys();

        assertEquals(List.of("f.conf: server.bind_prot: unknown key (did you mean \"bind_port\"?)",
                "f.conf: server.zzz: unknown key", "f.conf: server.line\\u000abreak: unknown key"), ConfigTexts.strings(r.errors()));
    }
}
