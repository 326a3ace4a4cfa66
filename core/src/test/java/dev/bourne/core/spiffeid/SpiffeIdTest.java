package dev.bourne.core.spiffeid;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class SpiffeIdTest {

    static Stream<Arguments> invalidIds() {
        return Stream.of(
                Arguments.of("", SpiffeIdRules.EMPTY),
                Arguments.of("example.org/workload", SpiffeIdRules.WRONG_SCHEME),
                Arguments.of("https://example.org/workload", SpiffeIdRules.WRONG_SCHEME),
                Arguments.of("spiffe:/example.org/workload", SpiffeIdRules.WRONG_SCHEME),
                Arguments.of("spiffe:example.org", SpiffeIdRules.WRONG_SCHEME),
                Arguments.of("SPIFFE://example.org/workload", SpiffeIdRules.SCHEME_NOT_LOWERCASE),
                Arguments.of("Spiffe://example.org/workload", SpiffeIdRules.SCHEME_NOT_LOWERCASE),
                Arguments.of("spiffe://", SpiffeIdRules.MISSING_TRUST_DOMAIN),
                Arguments.of("spiffe:///workload", SpiffeIdRules.MISSING_TRUST_DOMAIN),
                Arguments.of("spiffe://Example.org/workload", SpiffeIdRules.TRUST_DOMAIN_UPPERCASE),
                Arguments.of("spiffe://example.ORG", SpiffeIdRules.TRUST_DOMAIN_UPPERCASE),
                Arguments.of("spiffe://example.org:8443/workload", SpiffeIdRules.TRUST_DOMAIN_PORT),
                Arguments.of("spiffe://user@example.org/workload", SpiffeIdRules.TRUST_DOMAIN_USERINFO),
                Arguments.of("spiffe://user:pass@example.org", SpiffeIdRules.TRUST_DOMAIN_PORT),
                Arguments.of("spiffe://exa%6dple.org/workload", SpiffeIdRules.PERCENT_ENCODED),
                Arguments.of("spiffe://example.org?x=1", SpiffeIdRules.QUERY),
                Arguments.of("spiffe://example.org#frag", SpiffeIdRules.FRAGMENT),
                Arguments.of("spiffe://exa mple.org", SpiffeIdRules.TRUST_DOMAIN_BAD_CHAR),
                Arguments.of("spiffe://exämple.org", SpiffeIdRules.TRUST_DOMAIN_BAD_CHAR),
                Arguments.of("spiffe://[::1]/workload", SpiffeIdRules.TRUST_DOMAIN_BAD_CHAR),
                Arguments.of("spiffe://example.org/", SpiffeIdRules.PATH_TRAILING_SLASH),
                Arguments.of("spiffe://example.org/ns/prod/", SpiffeIdRules.PATH_TRAILING_SLASH),
                Arguments.of("spiffe://example.org//workload", SpiffeIdRules.PATH_EMPTY_SEGMENT),
                Arguments.of("spiffe://example.org/ns//workload", SpiffeIdRules.PATH_EMPTY_SEGMENT),
                Arguments.of("spiffe://example.org/.", SpiffeIdRules.PATH_DOT_SEGMENT),
                Arguments.of("spiffe://example.org/..", SpiffeIdRules.PATH_DOT_SEGMENT),
                Arguments.of("spiffe://example.org/ns/./workload", SpiffeIdRules.PATH_DOT_SEGMENT),
                Arguments.of("spiffe://example.org/ns/../admin", SpiffeIdRules.PATH_DOT_SEGMENT),
                Arguments.of("spiffe://example.org/work%2Fload", SpiffeIdRules.PERCENT_ENCODED),
                Arguments.of("spiffe://example.org/workload?x=1", SpiffeIdRules.QUERY),
                Arguments.of("spiffe://example.org/workload#f", SpiffeIdRules.FRAGMENT),
                Arguments.of("spiffe://example.org/work load", SpiffeIdRules.PATH_BAD_CHAR),
                Arguments.of("spiffe://example.org/wörk", SpiffeIdRules.PATH_BAD_CHAR),
                Arguments.of("spiffe://example.org/a:b", SpiffeIdRules.PATH_BAD_CHAR),
                Arguments.of("spiffe://example.org/a@b", SpiffeIdRules.PATH_BAD_CHAR),
                Arguments.of("spiffe://example.org/a\nb", SpiffeIdRules.PATH_BAD_CHAR),
                Arguments.of("spiffe://example.org/a\\b", SpiffeIdRules.PATH_BAD_CHAR),
                Arguments.of("spiffe://" + "a".repeat(256), SpiffeIdRules.TRUST_DOMAIN_TOO_LONG),
                Arguments.of("spiffe://example.org/" + "a".repeat(2048), SpiffeIdRules.ID_TOO_LONG),
                // 2049 bytes, but only 1025 chars: the limit is in bytes.
                Arguments.of("spiffe://example.org/" + "é".repeat(1014), SpiffeIdRules.ID_TOO_LONG));
    }

    @ParameterizedTest(name = "[{index}] {1}")
    @MethodSource("invalidIds")
    void parse_invalid_rejectedWithReason(String input, String reason) {
        InvalidSpiffeIdException e = assertThrows(InvalidSpiffeIdException.class, () -> SpiffeId.parse(input));
        assertEquals(reason, e.reason());
        assertTrue(e.getMessage().endsWith(": " + reason), e.getMessage());
    }

    @Test
    void parse_null_rejectedAsEmpty() {
        InvalidSpiffeIdException e = assertThrows(InvalidSpiffeIdException.class, () -> SpiffeId.parse(null));
        assertEquals(SpiffeIdRules.EMPTY, e.reason());
    }

    @Test
    void parse_invalid_messageQuotesInputSafely() {
        InvalidSpiffeIdException e = assertThrows(InvalidSpiffeIdException.class,
                () -> SpiffeId.parse("spiffe://example.org/a\nforged log line"));
        assertEquals("invalid SPIFFE ID \"spiffe://example.org/a\\u000aforged log line\": "
                + SpiffeIdRules.PATH_BAD_CHAR, e.getMessage());
    }

    @Test
    void parse_hugeInput_messageIsBounded() {
        String huge = "spiffe://example.org/" + "x".repeat(1_000_000);
        InvalidSpiffeIdException e = assertThrows(InvalidSpiffeIdException.class, () -> SpiffeId.parse(huge));
        assertEquals(SpiffeIdRules.ID_TOO_LONG, e.reason());
        assertTrue(e.getMessage().length() < 300, "message length " + e.getMessage().length());
        assertTrue(e.getMessage().contains("(1000021 chars)"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "spiffe://example.org",
            "spiffe://example.org/workload",
            "spiffe://example.org/ns/prod/sa/web",
            "spiffe://a",
            "spiffe://1.2.3.4/x",
            "spiffe://my_domain-01.example.org/Path.With-Mixed_Case/...x/.hidden/a..b",
            "spiffe://example.org/spire/agent/tpm/7c2ab3f1",
    })
    void parse_valid_roundTrips(String input) {
        SpiffeId id = SpiffeId.parse(input);
        assertEquals(input, id.toString());
        assertEquals(id, SpiffeId.parse(id.toString()));
    }

    @Test
    void parse_exactLimits_accepted() {
        String td = "a".repeat(SpiffeIdRules.MAX_TRUST_DOMAIN_BYTES);
        assertEquals(td, SpiffeId.parse("spiffe://" + td).trustDomain().name());
        String prefix = "spiffe://example.org/";
        String longest = prefix + "a".repeat(SpiffeIdRules.MAX_ID_BYTES - prefix.length());
        assertEquals(SpiffeIdRules.MAX_ID_BYTES, longest.length());
        assertEquals(longest, SpiffeId.parse(longest).toString());
    }

    @Test
    void parse_splitsTrustDomainAndPath() {
        SpiffeId id = SpiffeId.parse("spiffe://example.org/ns/prod/sa/web");
        assertEquals(new TrustDomain("example.org"), id.trustDomain());
        assertEquals("/ns/prod/sa/web", id.path());
        assertEquals(List.of("ns", "prod", "sa", "web"), id.segments());
        assertTrue(id.hasPathPrefix("ns", "prod"));
        assertFalse(id.hasPathPrefix("ns", "pro"));
        assertFalse(id.isTrustDomainId());
        assertTrue(SpiffeId.parse("spiffe://example.org").isTrustDomainId());
        assertEquals(List.of(), SpiffeId.parse("spiffe://example.org").segments());
    }

    @Test
    void memberOf_comparesTrustDomainExactly() {
        SpiffeId id = SpiffeId.parse("spiffe://example.org/web");
        assertTrue(id.memberOf(TrustDomain.parse("example.org")));
        assertFalse(id.memberOf(TrustDomain.parse("example.org.evil")));
        assertFalse(id.memberOf(TrustDomain.parse("org")));
    }

    static Stream<Arguments> invalidSegments() {
        return Stream.of(
                Arguments.of("", SpiffeIdRules.SEGMENT_EMPTY),
                Arguments.of(".", SpiffeIdRules.SEGMENT_DOT),
                Arguments.of("..", SpiffeIdRules.SEGMENT_DOT),
                Arguments.of("a/b", SpiffeIdRules.SEGMENT_SLASH),
                Arguments.of("a%2fb", SpiffeIdRules.PERCENT_ENCODED),
                Arguments.of("a b", SpiffeIdRules.PATH_BAD_CHAR));
    }

    @ParameterizedTest(name = "[{index}] {1}")
    @MethodSource("invalidSegments")
    void of_invalidSegment_rejected(String segment, String reason) {
        TrustDomain td = TrustDomain.parse("example.org");
        InvalidSpiffeIdException e = assertThrows(InvalidSpiffeIdException.class,
                () -> SpiffeId.of(td, "spire", segment));
        assertEquals(reason, e.reason());
    }

    @Test
    void of_segments_buildsPath() {
        TrustDomain td = TrustDomain.parse("example.org");
        assertEquals("spiffe://example.org/spire/agent/join_token/abc",
                SpiffeId.of(td, "spire", "agent", "join_token", "abc").toString());
        assertEquals("spiffe://example.org", SpiffeId.of(td).toString());
    }

    @Test
    void constructor_invalidPath_rejected() {
        TrustDomain td = TrustDomain.parse("example.org");
        InvalidSpiffeIdException e = assertThrows(InvalidSpiffeIdException.class, () -> new SpiffeId(td, "web"));
        assertEquals(SpiffeIdRules.PATH_NO_LEADING_SLASH, e.reason());
        e = assertThrows(InvalidSpiffeIdException.class,
                () -> new SpiffeId(td, "/" + "a".repeat(SpiffeIdRules.MAX_ID_BYTES)));
        assertEquals(SpiffeIdRules.ID_TOO_LONG, e.reason());
    }

    @Test
    void equality_isExact() {
        assertEquals(SpiffeId.parse("spiffe://example.org/a"), SpiffeId.parse("spiffe://example.org/a"));
        assertFalse(SpiffeId.parse("spiffe://example.org/a").equals(SpiffeId.parse("spiffe://example.org/A")));
    }
}
