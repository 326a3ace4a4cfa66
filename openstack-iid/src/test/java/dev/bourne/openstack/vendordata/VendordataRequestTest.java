package dev.bourne.openstack.vendordata;

import static dev.bourne.openstack.vendordata.VendordataTestSupport.HOSTNAME;
import static dev.bourne.openstack.vendordata.VendordataTestSupport.IMAGE;
import static dev.bourne.openstack.vendordata.VendordataTestSupport.INSTANCE;
import static dev.bourne.openstack.vendordata.VendordataTestSupport.PROJECT;
import static dev.bourne.openstack.vendordata.VendordataTestSupport.json;
import static dev.bourne.openstack.vendordata.VendordataTestSupport.novaBody;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.bourne.openstack.common.IidClaims;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Nova's request body: what is read, what is ignored, and every refusal with its exact message. */
class VendordataRequestTest {

    private static VendordataRequest parse(String body) {
        return VendordataRequest.parse(body.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void parse_novaBody_readsTheFieldsIgnoresUserDataAndBootRoles() {
        VendordataRequest request = parse(json(novaBody()));

        assertEquals(new VendordataRequest(PROJECT, INSTANCE, IMAGE, HOSTNAME,
                new TreeMap<>(Map.of("role", "web", "tier", "frontend"))), request);
    }

    @Test
    void parse_asNovaSerialisesIt_nullUserData_escapedUnicode_unknownFieldsIgnored() {
        // oslo jsonutils.dumps: ensure_ascii, ", " and ": " separators; a field Nova may add later.
        String body = "{\"project-id\": \"" + PROJECT + "\", \"instance-id\": \"" + INSTANCE + "\", \"image-id\": \"\", "
                + "\"user-data\": null, \"hostname\": \"caf\\u00e9\", \"metadata\": {\"owner\": \"j\\u00fcrgen\"}, "
                + "\"boot-roles\": \"admin,member\", \"some-future-field\": {\"x\": [1, 2]}}";

        VendordataRequest request = parse(body);

        assertEquals("café", request.hostname());
        assertEquals("", request.imageId());
        assertEquals(Map.of("owner", "jürgen"), request.metadata());
    }

    @Test
    void parse_userDataOfAnyType_ignored() {
        for (Object userData : new Object[] {null, 42, List.of("a"), Map.of("k", "v"), "not base64 at all"}) {
            Map<String, Object> body = novaBody();
            body.put("user-data", userData);
            assertEquals(PROJECT, parse(json(body)).projectId());
        }
    }

    private static String with(Consumer<Map<String, Object>> change) {
        Map<String, Object> body = novaBody();
        change.accept(body);
        return json(body);
    }

    static Stream<Arguments> refused() {
        Map<String, Object> tooMany = new LinkedHashMap<>();
        for (int i = 0; i <= IidClaims.MAX_METADATA_ITEMS; i++) {
            tooMany.put("k" + i, "v");
        }
        return Stream.of(
                Arguments.of("", VendordataRequest.NOT_AN_OBJECT),
                Arguments.of("null", VendordataRequest.NOT_AN_OBJECT),
                Arguments.of("[]", VendordataRequest.NOT_AN_OBJECT),
                Arguments.of("\"project-id\"", VendordataRequest.NOT_AN_OBJECT),
                Arguments.of("{\"project-id\": ", VendordataRequest.NOT_AN_OBJECT),
                Arguments.of(json(novaBody()) + " trailing", VendordataRequest.NOT_AN_OBJECT),
                Arguments.of("{\"project-id\": \"a\", \"project-id\": \"b\"}", VendordataRequest.NOT_AN_OBJECT),
                Arguments.of("{\"a\": " + "[".repeat(100_000) + "}", VendordataRequest.NOT_AN_OBJECT),
                Arguments.of(with(b -> b.remove("project-id")), "project-id is missing"),
                Arguments.of(with(b -> b.remove("instance-id")), "instance-id is missing"),
                Arguments.of(with(b -> b.remove("image-id")), "image-id is missing"),
                Arguments.of(with(b -> b.remove("hostname")), "hostname is missing"),
                Arguments.of(with(b -> b.remove("metadata")), "metadata is missing"),
                Arguments.of(with(b -> b.put("project-id", null)), "project-id must be a string"),
                Arguments.of(with(b -> b.put("instance-id", List.of(INSTANCE))), "instance-id must be a string"),
                Arguments.of(with(b -> b.put("image-id", null)), "image-id must be a string"),
                Arguments.of(with(b -> b.put("hostname", 7)), "hostname must be a string"),
                Arguments.of(with(b -> b.put("metadata", "role=web")), VendordataRequest.METADATA_NOT_AN_OBJECT),
                Arguments.of(with(b -> b.put("metadata", Map.of("a", Map.of()))), VendordataRequest.METADATA_NOT_AN_OBJECT),
                Arguments.of(with(b -> b.put("project-id", "")),
                        "project-id is refused: " + IidClaims.PROJECT_BAD_CHARACTERS),
                Arguments.of(with(b -> b.put("project-id", "p/../../admin")),
                        "project-id is refused: " + IidClaims.PROJECT_BAD_CHARACTERS),
                Arguments.of(with(b -> b.put("project-id", "p".repeat(IidClaims.MAX_PROJECT_ID_CHARS + 1))),
                        "project-id is refused: " + IidClaims.PROJECT_BAD_CHARACTERS),
                Arguments.of(with(b -> b.put("instance-id", "i-0123456789")),
                        "instance-id is refused: " + IidClaims.INSTANCE_NOT_UUID),
                Arguments.of(with(b -> b.put("instance-id", INSTANCE.toUpperCase())),
                        "instance-id is refused: " + IidClaims.INSTANCE_NOT_UUID),
                Arguments.of(with(b -> b.put("image-id", "x".repeat(IidClaims.MAX_IMAGE_ID_CHARS + 1))),
                        "image-id is refused: IID claim imageID is too long"),
                Arguments.of(with(b -> b.put("hostname", "")), "hostname is refused: IID claim hostname must not be empty"),
                Arguments.of(with(b -> b.put("hostname", "web-1\nforged log line")),
                        "hostname is refused: IID claim hostname contains characters it may not hold"),
                Arguments.of(with(b -> b.put("metadata", tooMany)),
                        "metadata is refused: " + IidClaims.TOO_MANY_METADATA_ITEMS),
                Arguments.of(with(b -> b.put("metadata", Map.of("", "v"))),
                        "metadata is refused: " + IidClaims.METADATA_BAD_ITEM),
                Arguments.of(with(b -> b.put("metadata", Map.of("k", "v".repeat(256)))),
                        "metadata is refused: " + IidClaims.METADATA_BAD_ITEM));
    }

    @ParameterizedTest
    @MethodSource("refused")
    void parse_refused_exactMessage(String body, String message) {
        VendordataRequestException e = assertThrows(VendordataRequestException.class, () -> parse(body));
        assertEquals(message, e.getMessage());
    }

    @Test
    void parse_notUtf8_refused() {
        byte[] body = {'{', '"', (byte) 0xc3, (byte) 0x28, '"', '}'};

        VendordataRequestException e = assertThrows(VendordataRequestException.class,
                () -> VendordataRequest.parse(body));

        assertEquals(VendordataRequest.NOT_UTF8, e.getMessage());
    }

    @Test
    void parse_tooLarge_refusedBeforeParsing() {
        byte[] body = new byte[VendordataRequest.MAX_BODY_BYTES + 1];

        VendordataRequestException e = assertThrows(VendordataRequestException.class,
                () -> VendordataRequest.parse(body));

        assertEquals(VendordataRequest.TOO_LARGE, e.getMessage());
    }
}
