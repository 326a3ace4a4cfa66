package dev.bourne.openstack.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSObject;
import com.nimbusds.jose.Payload;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.util.JSONObjectUtils;
import dev.bourne.openstack.common.OpenStackIid;
import dev.bourne.testing.openstack.FakeOpenStackMetadata;
import dev.bourne.testing.pki.TestKeys;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.interfaces.ECPrivateKey;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The agent's metadata client against the fake metadata service over a real socket: the document Nova hands over,
 * and every way the service or its answer can be wrong, each with its exact message.
 */
class VendorDataClientTest {

    private static final String NAME = OpenStackIid.DEFAULT_VENDORDATA_NAME;
    private static final Duration SHORT_TIMEOUT = Duration.ofMillis(300);

    private final FakeOpenStackMetadata metadata = FakeOpenStackMetadata.start();

    @AfterEach
    void close() {
        metadata.close();
    }

    /** A real compact JWS (ES256, the IID's type header) over {@code claims}; the agent only checks its shape. */
    static String jws(String claims) {
        try {
            JWSObject jws = new JWSObject(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID("A")
                    .type(new JOSEObjectType(OpenStackIid.JWS_TYPE)).build(), new Payload(claims));
            jws.sign(new ECDSASigner((ECPrivateKey) TestKeys.ecP256(1).getPrivate()));
            return jws.serialize();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private VendorDataClient client(URI url, String name, Duration timeout) {
        return new VendorDataClient(new OpenStackAgentSettings(url, name, timeout));
    }

    private VendorDataClient client() {
        return client(metadata.vendorData2Url(), NAME, Duration.ofSeconds(5));
    }

    private IidFetchException failure(VendorDataClient client) {
        return assertThrows(IidFetchException.class, client::fetchDocument);
    }

    @Test
    void fetch_documentUnderTheName_returned() throws Exception {
        String document = jws("{\"sub\":\"" + metadata.instance().uuid() + "\"}");
        metadata.vendorData2(FakeOpenStackMetadata.vendorData2With(NAME, document));

        assertEquals(document, client().fetchDocument());
        assertEquals(List.of(FakeOpenStackMetadata.VENDOR_DATA2_PATH), metadata.requestPaths());
    }

    @Test
    void fetch_everyCall_aFreshRequest() throws Exception {
        AtomicInteger issued = new AtomicInteger();
        metadata.vendorData2(() -> FakeOpenStackMetadata.vendorData2With(NAME,
                jws("{\"jti\":\"" + issued.incrementAndGet() + "\"}")));
        VendorDataClient client = client();

        String first = client.fetchDocument();
        String second = client.fetchDocument();

        assertNotEquals(first, second);
        assertEquals(2, metadata.requestCount());
    }

    @Test
    void fetch_configuredNameBesideOtherTargets_thatOne() throws Exception {
        String ours = jws("{\"n\":1}");
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("static", Map.of("motd", "hello"));
        body.put("other-target", Map.of("data", jws("{\"n\":2}")));
        body.put("spiffe-iid", Map.of("data", ours, "extra", 1));
        metadata.vendorData2(JSONObjectUtils.toJSONString(body));

        assertEquals(ours, client(metadata.vendorData2Url(), "spiffe-iid", Duration.ofSeconds(5)).fetchDocument());
    }

    static Stream<Arguments> malformed() {
        String valid = jws("{}");
        String name = NAME;
        return Stream.of(
                Arguments.of("", VendorDataClient.NOT_JSON),
                Arguments.of("not json", VendorDataClient.NOT_JSON),
                Arguments.of("[]", VendorDataClient.NOT_JSON),
                Arguments.of("[{\"" + name + "\": {\"data\": \"" + valid + "\"}}]", VendorDataClient.NOT_JSON),
                Arguments.of("\"" + valid + "\"", VendorDataClient.NOT_JSON),
                Arguments.of("null", VendorDataClient.NOT_JSON),
                Arguments.of("{\"" + name + "\": {}", VendorDataClient.NOT_JSON),
                Arguments.of("{}{}", VendorDataClient.NOT_JSON),
                Arguments.of("{\"a\":".repeat(20_000), VendorDataClient.NOT_JSON),
                Arguments.of("{}", String.format(VendorDataClient.NO_MEMBER, name, name)),
                Arguments.of("{\"other\": {\"data\": \"" + valid + "\"}}",
                        String.format(VendorDataClient.NO_MEMBER, name, name)),
                Arguments.of("{\"Bourne\": {\"data\": \"" + valid + "\"}}",
                        String.format(VendorDataClient.NO_MEMBER, name, name)),
                Arguments.of("{\"" + name + "\": {}}", String.format(VendorDataClient.NO_DOCUMENT, name)),
                Arguments.of("{\"" + name + "\": null}", String.format(VendorDataClient.MEMBER_NOT_OBJECT, name)),
                Arguments.of("{\"" + name + "\": \"" + valid + "\"}",
                        String.format(VendorDataClient.MEMBER_NOT_OBJECT, name)),
                Arguments.of("{\"" + name + "\": [\"" + valid + "\"]}",
                        String.format(VendorDataClient.MEMBER_NOT_OBJECT, name)),
                Arguments.of("{\"" + name + "\": {\"error\": \"signing failed\"}}",
                        String.format(VendorDataClient.NO_DATA_STRING, name)),
                Arguments.of("{\"" + name + "\": {\"data\": 1}}", String.format(VendorDataClient.NO_DATA_STRING, name)),
                Arguments.of("{\"" + name + "\": {\"data\": null}}",
                        String.format(VendorDataClient.NO_DATA_STRING, name)),
                Arguments.of("{\"" + name + "\": {\"data\": {\"jws\": \"" + valid + "\"}}}",
                        String.format(VendorDataClient.NO_DATA_STRING, name)),
                Arguments.of(data(""), notJws()),
                Arguments.of(data("a.b"), notJws()),
                Arguments.of(data("a..c"), notJws()),
                Arguments.of(data("a.b.c.d.e"), notJws()),
                Arguments.of(data(valid + "."), notJws()),
                Arguments.of(data(valid + "\\n"), notJws()),
                Arguments.of(data(" " + valid), notJws()),
                Arguments.of(data(valid.replace('-', '+') + "+/="), notJws()),
                Arguments.of(data(valid.substring(0, valid.lastIndexOf('.')) + ".c2ln\\u00e9"), notJws()),
                Arguments.of(data("a.b." + "c".repeat(OpenStackIid.MAX_JWS_BYTES - 3)),
                        String.format(VendorDataClient.JWS_TOO_LARGE, name)),
                Arguments.of("{\"" + name + "\": {\"data\": \"" + "x".repeat(VendorDataClient.MAX_BODY_BYTES) + "\"}}",
                        VendorDataClient.TOO_LARGE));
    }

    private static String data(String value) {
        return "{\"" + NAME + "\": {\"data\": \"" + value + "\"}}";
    }

    private static String notJws() {
        return String.format(VendorDataClient.NOT_A_JWS, NAME);
    }

    @ParameterizedTest
    @MethodSource("malformed")
    void fetch_malformedVendorData2_exactError(String body, String expected) {
        metadata.rawBody(body.getBytes(StandardCharsets.UTF_8));

        IidFetchException e = failure(client());

        assertEquals(expected, e.getMessage());
    }

    @Test
    void fetch_exactlyTheLargestJws_accepted() throws Exception {
        String largest = "a.b." + "c".repeat(OpenStackIid.MAX_JWS_BYTES - 4);
        metadata.vendorData2(data(largest));

        assertEquals(largest, client().fetchDocument());
    }

    @Test
    void fetch_notUtf8_notJson() {
        byte[] body = data(jws("{}")).getBytes(StandardCharsets.UTF_8);
        body[body.length - 3] = (byte) 0xC3;
        metadata.rawBody(body);

        assertEquals(VendorDataClient.NOT_JSON, failure(client()).getMessage());
    }

    @Test
    void fetch_oversizedWithContentLength_tooLarge() {
        metadata.vendorData2(data("x".repeat(VendorDataClient.MAX_BODY_BYTES)));

        assertEquals(VendorDataClient.TOO_LARGE, failure(client()).getMessage());
    }

    @Test
    void fetch_oversizedEndlessBody_refusedWithoutReadingItAll() {
        metadata.rawBody(new byte[8 * 1024 * 1024]);

        assertEquals(VendorDataClient.TOO_LARGE, failure(client()).getMessage());
    }

    @Test
    void fetch_wrongName_errorDoesNotQuoteTheDocument() {
        String document = jws("{\"secret-ish\":true}");
        metadata.vendorData2(FakeOpenStackMetadata.vendorData2With("other", document));

        IidFetchException e = failure(client());

        assertFalse(e.getMessage().contains(document));
        assertFalse(e.getMessage().contains(document.substring(0, document.indexOf('.'))));
    }

    @Test
    void fetch_httpStatus_named() {
        metadata.failWith(500);

        assertEquals(String.format(VendorDataClient.HTTP_STATUS, 500, metadata.vendorData2Url()),
                failure(client()).getMessage());
    }

    @Test
    void fetch_noSuchPath_404Named() {
        URI url = URI.create(metadata.uri() + "/openstack/2015-10-15/vendor_data2.json");

        assertEquals(String.format(VendorDataClient.HTTP_STATUS, 404, url),
                failure(client(url, NAME, Duration.ofSeconds(5))).getMessage());
    }

    @Test
    void fetch_slowService_timesOut() {
        metadata.delay(SHORT_TIMEOUT.multipliedBy(4));

        IidFetchException e = failure(client(metadata.vendorData2Url(), NAME, SHORT_TIMEOUT));

        assertEquals(String.format(VendorDataClient.TIMED_OUT, metadata.vendorData2Url(), "300ms"), e.getMessage());
    }

    @Test
    void fetch_connectionDropped_unreachable() {
        metadata.dropConnections();

        IidFetchException e = failure(client());

        assertTrue(e.getMessage().startsWith(String.format(VendorDataClient.UNREACHABLE, metadata.vendorData2Url(),
                "")), e.getMessage());
    }

    @Test
    void fetch_serviceDown_unreachable() {
        URI url = metadata.vendorData2Url();
        metadata.close();

        IidFetchException e = failure(client(url, NAME, Duration.ofSeconds(5)));

        assertTrue(e.getMessage().startsWith(String.format(VendorDataClient.UNREACHABLE, url, "")), e.getMessage());
    }

    @Test
    void toString_namesUrlAndTarget() {
        String text = client(metadata.vendorData2Url(), "t-" + UUID.randomUUID(), Duration.ofSeconds(1)).toString();

        assertTrue(text.contains(metadata.vendorData2Url().toString()));
    }
}
