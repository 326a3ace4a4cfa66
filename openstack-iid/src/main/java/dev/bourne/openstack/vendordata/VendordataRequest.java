package dev.bourne.openstack.vendordata;

import com.nimbusds.jose.util.JSONObjectUtils;
import dev.bourne.openstack.common.IidClaims;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.text.ParseException;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * What Nova's DynamicJSON vendordata tells us about an instance (nova/api/metadata/vendordata_dynamic.py): the body
 * of its {@code POST}, a JSON object with {@code project-id}, {@code instance-id}, {@code image-id} ({@code ""} for a
 * volume-backed instance), {@code user-data}, {@code hostname}, {@code metadata} and {@code boot-roles}.
 *
 * <p>{@link #parse} reads a bounded body and checks each field's type, then its value against the bounds of
 * {@link IidClaims} (project ID characters, lowercase UUID instance ID, Nova's metadata limits), so that anything
 * accepted here can be signed. {@code user-data} and {@code boot-roles} are ignored: they are not part of the document,
 * and user data may hold the user's secrets, so it is not even type-checked, kept or logged. Fields Nova may add later
 * are ignored too.
 *
 * @param projectId the Keystone project owning the instance
 * @param instanceId the instance UUID
 * @param imageId the image UUID, or empty for a volume-backed instance
 * @param hostname the instance's hostname
 * @param metadata the instance's user metadata
 */
public record VendordataRequest(String projectId, String instanceId, String imageId, String hostname,
        SortedMap<String, String> metadata) {

    /**
     * Largest body read, checked before anything is parsed. Nova puts the instance's user data in every request
     * (base64, up to 65535 characters by Nova's API schema) beside up to 128 metadata items of 255-character keys and
     * values: a legitimate body can exceed 64 KiB by itself, and 256 KiB holds the largest Nova sends with ASCII
     * metadata.
     */
    public static final int MAX_BODY_BYTES = 256 * 1024;

    public static final String PROJECT_ID = "project-id";
    public static final String INSTANCE_ID = "instance-id";
    public static final String IMAGE_ID = "image-id";
    public static final String HOSTNAME = "hostname";
    public static final String METADATA = "metadata";

    public static final String TOO_LARGE = "the request body is larger than " + MAX_BODY_BYTES + " bytes";
    public static final String NOT_UTF8 = "the request body is not UTF-8";
    public static final String NOT_AN_OBJECT = "the request body must be a JSON object";
    /** {@code %s}: the field. */
    public static final String MISSING = "%s is missing";
    public static final String NOT_A_STRING = "%s must be a string";
    public static final String METADATA_NOT_AN_OBJECT = "metadata must be an object whose values are strings";
    /** {@code %s}: the field, then why {@link IidClaims} refuses its value. */
    public static final String REFUSED = "%s is refused: %s";

    /** Placeholders for the fields not under test when one field is checked against {@link IidClaims}. */
    private static final String PROBE_UUID = "00000000-0000-0000-0000-000000000000";
    private static final Instant PROBE_TIME = Instant.ofEpochSecond(1_000_000_000L);

    public VendordataRequest {
        Objects.requireNonNull(projectId, "projectId");
        Objects.requireNonNull(instanceId, "instanceId");
        Objects.requireNonNull(imageId, "imageId");
        Objects.requireNonNull(hostname, "hostname");
        metadata = java.util.Collections.unmodifiableSortedMap(new TreeMap<>(metadata));
    }

    /**
     * Parses Nova's request body.
     *
     * @throws VendordataRequestException naming the field and what is wrong with it
     */
    public static VendordataRequest parse(byte[] body) {
        Objects.requireNonNull(body, "body");
        if (body.length > MAX_BODY_BYTES) {
            throw new VendordataRequestException(TOO_LARGE);
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(body)).toString();
        } catch (CharacterCodingException e) {
            throw new VendordataRequestException(NOT_UTF8);
        }
        if (!text.stripLeading().startsWith("{")) {
            // The JSON parser reads a top-level array as an empty object; only an object is Nova's body.
            throw new VendordataRequestException(NOT_AN_OBJECT);
        }
        Map<String, Object> json;
        try {
            json = JSONObjectUtils.parse(text, MAX_BODY_BYTES);
        } catch (ParseException | RuntimeException | StackOverflowError e) {
            // A parser's own error for hostile input (deep nesting included) is still only "not a JSON object".
            throw new VendordataRequestException(NOT_AN_OBJECT);
        }
        if (json == null) {
            throw new VendordataRequestException(NOT_AN_OBJECT);
        }
        String projectId = string(json, PROJECT_ID);
        String instanceId = string(json, INSTANCE_ID);
        String imageId = string(json, IMAGE_ID);
        String hostname = string(json, HOSTNAME);
        SortedMap<String, String> metadata = metadata(json);

        probe(PROJECT_ID, projectId, PROBE_UUID, "", "h", new TreeMap<>());
        probe(INSTANCE_ID, "p", instanceId, "", "h", new TreeMap<>());
        probe(IMAGE_ID, "p", PROBE_UUID, imageId, "h", new TreeMap<>());
        probe(HOSTNAME, "p", PROBE_UUID, "", hostname, new TreeMap<>());
        probe(METADATA, "p", PROBE_UUID, "", "h", metadata);
        return new VendordataRequest(projectId, instanceId, imageId, hostname, metadata);
    }

    /** Checks one field's value against {@link IidClaims}, the others being valid placeholders. */
    private static void probe(String field, String projectId, String instanceId, String imageId, String hostname,
            SortedMap<String, String> metadata) {
        try {
            new IidClaims("probe", List.of("probe"), "probe", projectId, instanceId, imageId, hostname, metadata,
                    PROBE_TIME, PROBE_TIME.plusSeconds(1));
        } catch (IllegalArgumentException e) {
            throw new VendordataRequestException(String.format(REFUSED, field, e.getMessage()));
        }
    }

    private static String string(Map<String, Object> json, String field) {
        if (!json.containsKey(field)) {
            throw new VendordataRequestException(String.format(MISSING, field));
        }
        if (!(json.get(field) instanceof String text)) {
            throw new VendordataRequestException(String.format(NOT_A_STRING, field));
        }
        return text;
    }

    private static SortedMap<String, String> metadata(Map<String, Object> json) {
        if (!json.containsKey(METADATA)) {
            throw new VendordataRequestException(String.format(MISSING, METADATA));
        }
        if (!(json.get(METADATA) instanceof Map<?, ?> map)) {
            throw new VendordataRequestException(METADATA_NOT_AN_OBJECT);
        }
        SortedMap<String, String> metadata = new TreeMap<>();
        for (Map.Entry<?, ?> item : map.entrySet()) {
            if (!(item.getKey() instanceof String key) || !(item.getValue() instanceof String value)) {
                throw new VendordataRequestException(METADATA_NOT_AN_OBJECT);
            }
            metadata.put(key, value);
        }
        return metadata;
    }
}
