package dev.bourne.core.config.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class GoDurationTest {

    static Stream<Arguments> valid() {
        return Stream.of(
                Arguments.of("1h", Duration.ofHours(1)),
                Arguments.of("5m", Duration.ofMinutes(5)),
                Arguments.of("30s", Duration.ofSeconds(30)),
                Arguments.of("1h30m", Duration.ofMinutes(90)),
                Arguments.of("500ms", Duration.ofMillis(500)),
                Arguments.of("1.5h", Duration.ofMinutes(90)),
                Arguments.of("2us", Duration.ofNanos(2_000)),
                Arguments.of("2\u00b5s", Duration.ofNanos(2_000)),
                Arguments.of("7ns", Duration.ofNanos(7)),
                Arguments.of("1h1m1s1ms", Duration.ofMillis(3_661_001)),
                Arguments.of("-5m", Duration.ofMinutes(-5)),
                Arguments.of("0", Duration.ZERO),
                Arguments.of("2562047h47m16.854775807s", Duration.ofNanos(Long.MAX_VALUE)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("valid")
    void parse_valid_returnsDuration(String text, Duration expected) {
        assertEquals(expected, GoDuration.parse(text));
    }

    static Stream<Arguments> invalid() {
        return Stream.of(
                Arguments.of("", "empty"),
                Arguments.of("5", "missing unit (ns, us, ms, s, m, h)"),
                Arguments.of("1d", "unknown unit \"d\" (ns, us, ms, s, m, h)"),
                Arguments.of("1h-5m", "unexpected \"-\" at offset 2"),
                Arguments.of("h", "unexpected \"h\" at offset 0"),
                Arguments.of("-", "missing number"),
                Arguments.of("1 h", "unknown unit \" h\" (ns, us, ms, s, m, h)"),
                Arguments.of("999999999999h", "out of range"),
                Arguments.of("2562047h47m16.854775808s", "out of range"));
    }

    @ParameterizedTest(name = "\"{0}\"")
    @MethodSource("invalid")
    void parse_invalid_rejected(String text, String reason) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GoDuration.parse(text));

        assertEquals(reason, e.getMessage());
    }

    static Stream<Arguments> formats() {
        return Stream.of(
                Arguments.of(Duration.ofHours(24), "24h"),
                Arguments.of(Duration.ofMinutes(90), "1h30m"),
                Arguments.of(Duration.ofMillis(500), "500ms"),
                Arguments.of(Duration.ofMillis(1500), "1.5s"),
                Arguments.of(Duration.ZERO, "0s"));
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("formats")
    void format_duration_printsLikeGo(Duration duration, String expected) {
        assertEquals(expected, GoDuration.format(duration));
    }
}
