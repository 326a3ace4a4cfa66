package dev.bourne.core.spiffeid;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class TrustDomainTest {

    static Stream<Arguments> invalidNames() {
        return Stream.of(
                Arguments.of("", SpiffeIdRules.EMPTY),
                Arguments.of("Example.org", SpiffeIdRules.TRUST_DOMAIN_UPPERCASE),
                Arguments.of("example.org:443", SpiffeIdRules.TRUST_DOMAIN_PORT),
                Arguments.of("admin@example.org", SpiffeIdRules.TRUST_DOMAIN_USERINFO),
                Arguments.of("example%2eorg", SpiffeIdRules.PERCENT_ENCODED),
                Arguments.of("example.org/path", SpiffeIdRules.TRUST_DOMAIN_HAS_PATH),
                Arguments.of("example.org?q", SpiffeIdRules.QUERY),
                Arguments.of("example.org#f", SpiffeIdRules.FRAGMENT),
                Arguments.of("exa mple.org", SpiffeIdRules.TRUST_DOMAIN_BAD_CHAR),
                Arguments.of("exa+mple.org", SpiffeIdRules.TRUST_DOMAIN_BAD_CHAR),
                Arguments.of("a".repeat(256), SpiffeIdRules.TRUST_DOMAIN_TOO_LONG),
                Arguments.of("spiffe://example.org/workload", SpiffeIdRules.TRUST_DOMAIN_HAS_PATH),
                Arguments.of("spiffe://", SpiffeIdRules.MISSING_TRUST_DOMAIN),
                Arguments.of("SPIFFE://example.org", SpiffeIdRules.SCHEME_NOT_LOWERCASE));
    }

    @ParameterizedTest(name = "[{index}] {1}")
    @MethodSource("invalidNames")
    void parse_invalid_rejectedWithReason(String input, String reason) {
        InvalidSpiffeIdException e = assertThrows(InvalidSpiffeIdException.class, () -> TrustDomain.parse(input));
        assertEquals(reason, e.reason());
    }

    @ParameterizedTest
    @ValueSource(strings = {"example.org", "a", "prod-01.corp_internal.example", "1.2.3.4"})
    void parse_validName_accepted(String name) {
        TrustDomain td = TrustDomain.parse(name);
        assertEquals(name, td.name());
        assertEquals(name, td.toString());
        assertEquals("spiffe://" + name, td.idString());
        assertEquals(td, TrustDomain.parse("spiffe://" + name));
        assertEquals(td, td.id().trustDomain());
    }

    @Test
    void parse_exactly255Bytes_accepted() {
        assertEquals(255, TrustDomain.parse("b".repeat(255)).name().length());
    }

    @Test
    void constructor_validates() {
        InvalidSpiffeIdException e = assertThrows(InvalidSpiffeIdException.class, () -> new TrustDomain("BAD"));
        assertEquals("invalid trust domain \"BAD\": " + SpiffeIdRules.TRUST_DOMAIN_UPPERCASE, e.getMessage());
    }
}
