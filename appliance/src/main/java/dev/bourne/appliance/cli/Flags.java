package dev.bourne.appliance.cli;

import dev.bourne.core.config.internal.GoDuration;
import dev.bourne.core.selector.Selector;
import dev.bourne.core.spiffeid.SpiffeId;
import dev.bourne.core.spiffeid.TrustDomain;
import java.time.Duration;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** Flag value converters: each refuses a bad value before any call, and picocli names the flag in the error. */
final class Flags {
    static final String DURATION_INVALID = "must be whole seconds (3600) or a duration such as 1h, 5m or 90s";
    static final String DURATION_NEGATIVE = "cannot be negative";
    static final String DURATION_TOO_LONG = "is longer than 3650 days";
    static final Duration MAX_DURATION = Duration.ofDays(3650);

    private Flags() {
    }

    /** Whole seconds ({@code 3600}, SPIRE's integer TTL flags) or a Go duration ({@code 1h}). */
    static final class Ttl implements ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            Duration duration;
            if (!value.isEmpty() && value.chars().allMatch(Character::isDigit)) {
                if (value.length() > 10) {
                    throw new TypeConversionException(DURATION_TOO_LONG);
                }
                duration = Duration.ofSeconds(Long.parseLong(value));
            } else if (value.startsWith("-")) {
                throw new TypeConversionException(DURATION_NEGATIVE);
            } else {
                try {
                    duration = GoDuration.parse(value);
                } catch (RuntimeException e) {
                    throw new TypeConversionException(DURATION_INVALID);
                }
            }
            if (duration.isNegative()) {
                throw new TypeConversionException(DURATION_NEGATIVE);
            }
            if (duration.compareTo(MAX_DURATION) > 0) {
                throw new TypeConversionException(DURATION_TOO_LONG);
            }
            if (duration.getNano() != 0) {
                throw new TypeConversionException(DURATION_INVALID);
            }
            return duration;
        }
    }

    static final class Id implements ITypeConverter<SpiffeId> {
        @Override
        public SpiffeId convert(String value) {
            try {
                return SpiffeId.parse(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }

    static final class Domain implements ITypeConverter<TrustDomain> {
        @Override
        public TrustDomain convert(String value) {
            try {
                return TrustDomain.parse(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }

    static final class SelectorFlag implements ITypeConverter<Selector> {
        @Override
        public Selector convert(String value) {
            try {
                return Selector.parse(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }
}
