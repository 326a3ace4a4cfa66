package dev.bourne.openstack.server;

import static dev.bourne.openstack.server.IidTestSupport.EC256;
import static dev.bourne.openstack.server.IidTestSupport.KID_EC256;
import static dev.bourne.openstack.server.IidTestSupport.encode;
import static dev.bourne.openstack.server.IidTestSupport.header;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.util.JSONObjectUtils;
import dev.bourne.openstack.common.IidClaims;
import dev.bourne.openstack.server.IidAttestationException.Kind;
import dev.bourne.testing.time.MutableClock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Malformed documents, table-driven: each is refused with its exact constant message and kind, before anything is
 * looked up or consumed. Documents whose claims are malformed are signed with a trusted key, so the claims parser is
 * what refuses them.
 */
class IidVerifierMalformedTest {

    private static final Instant NOW = Instant.parse("2026-06-01T10:00:00Z");
    private static final String VALID = IidTestSupport.sign(EC256, "ES256", KID_EC256, IidTestSupport.claims(NOW));
    private static final String[] PARTS = VALID.split("\\.");
    private static final String HEADER = PARTS[0];
    private static IidVerifier verifier;
    private static final IidTestSupport.MemoryJtiLedger LEDGER = new IidTestSupport.MemoryJtiLedger();

    @TempDir
    static Path dir;

    @BeforeAll
    static void setUp() throws Exception {
        Path jwks = IidTestSupport.writeJwks(Files.createDirectories(dir), IidTestSupport.standardJwks());
        OpenStackServerSettings settings = IidTestSupport.settings(jwks, false);
        MutableClock clock = new MutableClock(NOW);
        verifier = IidVerifier.of(settings, IidTestSupport.fileSource(settings, clock), clock);
    }

    private static Arguments row(String name, String document, Kind kind, String message) {
        return Arguments.of(name, document.getBytes(StandardCharsets.ISO_8859_1), kind, message);
    }

    private static Arguments invalid(String name, String document, String message) {
        return row(name, document, Kind.INVALID_REQUEST, message);
    }

    /** A document with a header of our choosing, signed properly. */
    private static String withHeader(Consumer<Map<String, Object>> change) {
        Map<String, Object> header = header("ES256", KID_EC256);
        change.accept(header);
        return IidTestSupport.sign(EC256, JWSAlgorithm.ES256, header,
                JSONObjectUtils.toJSONString(IidTestSupport.claims(NOW)));
    }

    /** A document with claims of our choosing (any text), signed properly. */
    private static String withClaimsJson(String claimsJson) {
        return IidTestSupport.sign(EC256, JWSAlgorithm.ES256, header("ES256", KID_EC256), claimsJson);
    }

    private static String withClaims(Consumer<Map<String, Object>> change) {
        Map<String, Object> claims = IidTestSupport.claims(NOW);
        change.accept(claims);
        return withClaimsJson(JSONObjectUtils.toJSONString(claims));
    }

    static Stream<Arguments> malformed() {
        String badUtf8 = Base64.getUrlEncoder().withoutPadding().encodeToString(new byte[] {(byte) 0xff, (byte) 0xfe});
        return Stream.of(
                invalid("empty", "", IidVerifier.NOT_COMPACT_JWS),
                invalid("one part", HEADER, IidVerifier.NOT_COMPACT_JWS),
                invalid("two parts", PARTS[0] + "." + PARTS[1], IidVerifier.NOT_COMPACT_JWS),
                invalid("four parts", VALID + ".AAAA", IidVerifier.NOT_COMPACT_JWS),
                invalid("empty header", "." + PARTS[1] + "." + PARTS[2], IidVerifier.NOT_COMPACT_JWS),
                invalid("empty claims", PARTS[0] + ".." + PARTS[2], IidVerifier.NOT_COMPACT_JWS),
                invalid("character outside base64url", "$" + VALID.substring(1), IidVerifier.NOT_COMPACT_JWS),
                invalid("standard base64 '+'", "+" + VALID.substring(1), IidVerifier.NOT_COMPACT_JWS),
                invalid("padding", PARTS[0] + "=." + PARTS[1] + "." + PARTS[2], IidVerifier.NOT_COMPACT_JWS),
                invalid("trailing newline", VALID + "\n", IidVerifier.NOT_COMPACT_JWS),
                invalid("leading space", " " + VALID, IidVerifier.NOT_COMPACT_JWS),
                invalid("JSON serialization", "{\"payload\":\"" + PARTS[1] + "\"}", IidVerifier.NOT_COMPACT_JWS),
                invalid("non-ASCII byte", VALID.substring(0, 5) + "\u00e9" + VALID.substring(6),
                        IidVerifier.NOT_COMPACT_JWS),
                invalid("impossible base64 length", "A." + PARTS[1] + "." + PARTS[2], IidVerifier.NOT_COMPACT_JWS),
                invalid("header not JSON", encode("not json") + "." + PARTS[1] + "." + PARTS[2],
                        IidVerifier.HEADER_MALFORMED),
                invalid("header a JSON array", encode("[\"ES256\"]") + "." + PARTS[1] + "." + PARTS[2],
                        IidVerifier.HEADER_MALFORMED),
                // Deep nesting must be refused as malformed, never overflow the parser's stack.
                invalid("header nested 480 deep", encode("{\"alg\":\"ES256\",\"x\":" + "[".repeat(480)
                        + "]".repeat(480) + "}") + "." + PARTS[1] + "." + PARTS[2], IidVerifier.HEADER_MALFORMED),
                invalid("claims nested 10,000 deep (signed)", withClaimsJson("{\"sub\":" + "{\"a\":".repeat(10_000)
                        + "1" + "}".repeat(10_000) + "}"), IidVerifier.CLAIMS_MALFORMED),
                invalid("header JSON with trailing data", encode("{\"alg\":\"ES256\"} x") + "." + PARTS[1] + "."
                        + PARTS[2], IidVerifier.HEADER_MALFORMED),
                invalid("header with a duplicate member", encode("{\"alg\":\"ES256\",\"alg\":\"none\"}") + "."
                        + PARTS[1] + "." + PARTS[2], IidVerifier.HEADER_MALFORMED),
                invalid("header not UTF-8", badUtf8 + "." + PARTS[1] + "." + PARTS[2], IidVerifier.HEADER_MALFORMED),
                invalid("header too large", encode("{\"alg\":\"ES256\",\"x\":\"" + "x".repeat(1100) + "\"}") + "."
                        + PARTS[1] + "." + PARTS[2], IidVerifier.HEADER_TOO_LARGE),
                invalid("alg a number", withHeader(h -> h.put("alg", 256)), IidVerifier.HEADER_MALFORMED),
                invalid("alg null", withHeader(h -> h.put("alg", null)), IidVerifier.ALG_MISSING),
                row("alg lower case", withHeader(h -> h.put("alg", "es256")), Kind.REJECTED,
                        IidVerifier.ALG_NOT_ALLOWED),
                row("typ a number", withHeader(h -> h.put("typ", 1)), Kind.REJECTED, IidVerifier.TYP_WRONG),
                row("crit empty", withHeader(h -> h.put("crit", List.of())), Kind.REJECTED, IidVerifier.CRIT_REFUSED),
                invalid("kid a number", withHeader(h -> h.put("kid", 7)), IidVerifier.HEADER_MALFORMED),
                invalid("kid empty", withHeader(h -> h.put("kid", "")), IidVerifier.HEADER_MALFORMED),
                invalid("claims not JSON", withClaimsJson("not json"), IidVerifier.CLAIMS_MALFORMED),
                invalid("claims a JSON array", withClaimsJson("[1,2]"), IidVerifier.CLAIMS_MALFORMED),
                invalid("claims with a duplicate member", withClaimsJson("{\"iss\":\"a\",\"iss\":\"b\"}"),
                        IidVerifier.CLAIMS_MALFORMED),
                invalid("iss a number", withClaims(c -> c.put(IidClaims.ISS, 1)),
                        String.format(IidClaims.NOT_A_STRING, IidClaims.ISS)),
                invalid("iat a string", withClaims(c -> c.put(IidClaims.IAT, "2026-06-01")),
                        String.format(IidClaims.NOT_A_NUMBER, IidClaims.IAT)),
                invalid("iat far out of range", withClaims(c -> c.put(IidClaims.IAT, 1e300)),
                        String.format(IidClaims.TIME_OUT_OF_RANGE, IidClaims.IAT)),
                invalid("exp negative", withClaims(c -> c.put(IidClaims.EXP, -5)),
                        String.format(IidClaims.TIME_OUT_OF_RANGE, IidClaims.EXP)),
                invalid("aud of numbers", withClaims(c -> c.put(IidClaims.AUD, List.of(1))),
                        IidClaims.AUDIENCE_NOT_STRINGS),
                invalid("aud an object", withClaims(c -> c.put(IidClaims.AUD, Map.of("a", "b"))),
                        IidClaims.AUDIENCE_NOT_STRINGS),
                invalid("metadata values not strings", withClaims(c -> c.put(IidClaims.METADATA, Map.of("a", 1))),
                        String.format(IidClaims.NOT_AN_OBJECT, IidClaims.METADATA)),
                invalid("metadata a list", withClaims(c -> c.put(IidClaims.METADATA, List.of("a"))),
                        String.format(IidClaims.NOT_AN_OBJECT, IidClaims.METADATA)),
                invalid("jti missing", withClaims(c -> c.remove(IidClaims.JTI)),
                        String.format(IidClaims.MISSING, IidClaims.JTI)),
                invalid("jti empty", withClaims(c -> c.put(IidClaims.JTI, "")),
                        String.format(IidClaims.EMPTY, IidClaims.JTI)),
                invalid("sub not the instance", withClaims(c -> c.put(IidClaims.SUB,
                        "00000000-0000-4000-8000-000000000000")), IidClaims.SUB_NOT_INSTANCE),
                invalid("instanceID not a lowercase UUID", withClaims(c -> {
                    c.put(IidClaims.INSTANCE_ID, "1B9C7D2E-3F4A-4B5C-8D6E-7F8091A2B3C4");
                    c.put(IidClaims.SUB, "1B9C7D2E-3F4A-4B5C-8D6E-7F8091A2B3C4");
                }), IidClaims.INSTANCE_NOT_UUID),
                invalid("projectID with a slash", withClaims(c -> c.put(IidClaims.PROJECT_ID, "a/../b")),
                        IidClaims.PROJECT_BAD_CHARACTERS),
                invalid("hostname with a control character", withClaims(c -> c.put(IidClaims.HOSTNAME, "web\n1")),
                        String.format(IidClaims.BAD_CHARACTERS, IidClaims.HOSTNAME)),
                invalid("lifetime over 10 minutes", withClaims(c -> c.put(IidClaims.EXP,
                        NOW.getEpochSecond() + 601)), IidClaims.LIFETIME_TOO_LONG));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformed")
    void verify_malformed_refusedWithItsMessage(String name, byte[] document, Kind kind, String message) {
        IidAttestationException e = assertThrows(IidAttestationException.class, () -> verifier.verify(document));
        assertEquals(message, e.getMessage(), name);
        assertEquals(kind, e.kind(), name);
        assertEquals(0, LEDGER.used.size());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformed")
    void attest_malformed_refusedWithItsMessage(String name, byte[] document, Kind kind, String message)
            throws Exception {
        OpenStackServerSettings settings = IidTestSupport.settings(dir.resolve("jwks.json"), false);
        MutableClock clock = new MutableClock(NOW);
        OpenStackServerAttestor attestor = new OpenStackServerAttestor(settings,
                IidTestSupport.fileSource(settings, clock), LEDGER, java.util.Optional.empty(), clock);

        IidAttestationException e = assertThrows(IidAttestationException.class, () -> attestor.attest(document));
        assertEquals(message, e.getMessage(), name);
        assertEquals(0, LEDGER.used.size(), "nothing consumed");
    }

    @org.junit.jupiter.api.Test
    void verify_theUnchangedDocument_passes() throws Exception {
        assertEquals(KID_EC256, verifier.verify(VALID.getBytes(StandardCharsets.US_ASCII)).kid());
    }
}
