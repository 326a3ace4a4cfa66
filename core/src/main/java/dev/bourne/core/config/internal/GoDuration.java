package dev.bourne.core.config.internal;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Duration;
import java.util.Map;

/**
 * Parses durations written the way Go's {@code time.ParseDuration} reads them ({@code 1h30m}, {@code 500ms},
 * {@code 1.5h}), so SPIRE configurations keep their meaning. Units: ns, us (or µs), ms, s, m, h; no days, because
 * Go has none.
 */
public final class GoDuration {

    /** Go's largest duration: 2^63 - 1 nanoseconds. */
    private static final BigInteger MAX_NANOS = BigInteger.valueOf(Long.MAX_VALUE);

    private static final Map<String, BigDecimal> NANOS_PER_UNIT = Map.of(
            "ns", BigDecimal.ONE,
            "us", BigDecimal.valueOf(1_000L),
            "\u00b5s", BigDecimal.valueOf(1_000L),
            "\u03bcs", BigDecimal.valueOf(1_000L),
            "ms", BigDecimal.valueOf(1_000_000L),
            "s", BigDecimal.valueOf(1_000_000_000L),
            "m", BigDecimal.valueOf(60_000_000_000L),
            "h", BigDecimal.valueOf(3_600_000_000_000L));

    static final String UNITS = "ns, us, ms, s, m, h";

    private GoDuration() {
    }

    /**
     * Returns the duration {@code text} denotes, which may be negative or zero.
     *
     * @throws IllegalArgumentException with a reason suitable for a configuration error
     */
    public static Duration parse(String text) {
        if (text.isEmpty()) {
            throw new IllegalArgumentException("empty");
        }
        int i = 0;
        boolean negative = false;
        if (text.charAt(0) == '-' || text.charAt(0) == '+') {
            negative = text.charAt(0) == '-';
            i++;
        }
        if (text.substring(i).equals("0")) {
            return Duration.ZERO;
        }
        if (i == text.length()) {
            throw new IllegalArgumentException("missing number");
        }
        BigDecimal total = BigDecimal.ZERO;
        while (i < text.length()) {
            int numberStart = i;
            while (i < text.length() && isDigit(text.charAt(i))) {
                i++;
            }
            if (i < text.length() && text.charAt(i) == '.') {
                i++;
                while (i < text.length() && isDigit(text.charAt(i))) {
                    i++;
                }
            }
            String number = text.substring(numberStart, i);
            if (number.isEmpty() || number.equals(".")) {
                throw new IllegalArgumentException("unexpected " + Values.quote(String.valueOf(text.charAt(numberStart)))
                        + " at offset " + numberStart);
            }
            int unitStart = i;
            while (i < text.length() && !isDigit(text.charAt(i)) && text.charAt(i) != '.'
                    && text.charAt(i) != '-' && text.charAt(i) != '+') {
                i++;
            }
            String unit = text.substring(unitStart, i);
            if (unit.isEmpty()) {
                if (i < text.length()) {
                    throw new IllegalArgumentException("unexpected " + Values.quote(String.valueOf(text.charAt(i))) + " at offset "
                            + i);
                }
                throw new IllegalArgumentException("missing unit (" + UNITS + ")");
            }
            BigDecimal perUnit = NANOS_PER_UNIT.get(unit);
            if (perUnit == null) {
                throw new IllegalArgumentException("unknown unit " + Values.quote(unit) + " (" + UNITS + ")");
            }
            String digits = number.endsWith(".") ? number + "0" : number;
            if (digits.startsWith(".")) {
                digits = "0" + digits;
            }
            total = total.add(new BigDecimal(digits).multiply(perUnit));
            if (total.toBigInteger().compareTo(MAX_NANOS) > 0) {
                throw new IllegalArgumentException("out of range");
            }
        }
        long nanos = total.toBigInteger().longValueExact();
        return Duration.ofNanos(negative ? -nanos : nanos);
    }

    /** Formats {@code duration} the way Go prints it ({@code 1h30m0s} becomes {@code 1h30m}, zero parts dropped). */
    public static String format(Duration duration) {
        if (duration.isZero()) {
            return "0s";
        }
        StringBuilder out = new StringBuilder();
        Duration rest = duration;
        if (rest.isNegative()) {
            out.append('-');
            rest = rest.negated();
        }
        long hours = rest.toHours();
        int minutes = rest.toMinutesPart();
        int seconds = rest.toSecondsPart();
        int nanos = rest.toNanosPart();
        if (hours > 0) {
            out.append(hours).append('h');
        }
        if (minutes > 0) {
            out.append(minutes).append('m');
        }
        if (seconds > 0 || nanos > 0) {
            if (nanos == 0) {
                out.append(seconds).append('s');
            } else if (seconds == 0 && nanos % 1_000_000 == 0) {
                out.append(nanos / 1_000_000).append("ms");
            } else {
                out.append(BigDecimal.valueOf(seconds).add(BigDecimal.valueOf(nanos, 9)).stripTrailingZeros().toPlainString())
                        .append('s');
            }
        }
        return out.toString();
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }
}
