package dev.bourne.openstack.common;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The claims of an OpenStack instance identity document: who signed it for whom ({@code iss}, {@code aud}), its
 * single-use ID ({@code jti}), the instance Nova described ({@code sub} = {@code instanceID}, {@code projectID},
 * {@code imageID}, {@code hostname}, {@code metadata}) and its validity ({@code iat}, {@code exp}, at most
 * {@link OpenStackIid#MAX_TTL} apart).
 *
 * <p>Every value is bounded and checked here, in the constructor, so that no document that passes reaches a selector,
 * an agent ID or the datastore with a value it could not hold: the project and instance IDs become SPIFFE ID path
 * segments ({@code spire/agent/openstack_iid/<project>/<instance>}), so they are limited to the characters a segment
 * allows; the instance ID is Nova's canonical lowercase UUID; the image ID is empty for a volume-backed instance (Nova
 * sends {@code ""}); metadata follows Nova's own limits (128 items, keys of 1 to 255 characters, values up to 255).
 *
 * <p>{@link #toJson} writes the JSON claims object the vendordata service signs; {@link #fromJson} reads one back from
 * the parsed JSON of a verified JWS, with an error naming the claim when a claim is missing, mistyped or out of bounds.
 *
 * @param issuer {@code iss}: the vendordata service's configured issuer
 * @param audience {@code aud}: one or more audiences (written as a string when there is one, as JWT allows)
 * @param jti {@code jti}: random, unique per document
 * @param projectId {@code projectID}: the Keystone project that owns the instance
 * @param instanceId {@code instanceID} (and {@code sub}): the instance UUID
 * @param imageId {@code imageID}: the image UUID, or empty when the instance boots from a volume
 * @param hostname {@code hostname}: the instance's hostname as Nova knows it
 * @param metadata {@code metadata}: the instance's user metadata (sorted by key)
 * @param issuedAt {@code iat}
 * @param expiresAt {@code exp}
 */
public record IidClaims(String issuer, List<String> audience, String jti, String projectId, String instanceId,
        String imageId, String hostname, SortedMap<String, String> metadata, Instant issuedAt, Instant expiresAt) {

    public static final String ISS = "iss";
    public static final String AUD = "aud";
    public static final String JTI = "jti";
    public static final String SUB = "sub";
    public static final String PROJECT_ID = "projectID";
    public static final String INSTANCE_ID = "instanceID";
    public static final String IMAGE_ID = "imageID";
    public static final String HOSTNAME = "hostname";
    public static final String METADATA = "metadata";
    public static final String IAT = "iat";
    public static final String EXP = "exp";

    public static final int MAX_ISSUER_CHARS = 256;
    public static final int MAX_AUDIENCES = 8;
    public static final int MAX_AUDIENCE_CHARS = 256;
    public static final int MAX_JTI_CHARS = 128;
    public static final int MAX_PROJECT_ID_CHARS = 64;
    public static final int MAX_IMAGE_ID_CHARS = 255;
    public static final int MAX_HOSTNAME_CHARS = 255;
    /** Nova's limits on server metadata (quota {@code metadata_items} defaults to 128; 255 characters per key/value). */
    public static final int MAX_METADATA_ITEMS = 128;
    public static final int MAX_METADATA_KEY_CHARS = 255;
    public static final int MAX_METADATA_VALUE_CHARS = 255;

    /** Error texts; {@code %s} is the claim name. */
    public static final String MISSING = "IID claim %s is missing";
    public static final String NOT_A_STRING = "IID claim %s must be a string";
    public static final String NOT_A_NUMBER = "IID claim %s must be a number of seconds since the epoch";
    public static final String NOT_AN_OBJECT = "IID claim %s must be an object of strings";
    public static final String EMPTY = "IID claim %s must not be empty";
    public static final String TOO_LONG = "IID claim %s is too long";
    public static final String BAD_CHARACTERS = "IID claim %s contains characters it may not hold";
    public static final String AUDIENCE_NOT_STRINGS = "IID claim aud must be a string or an array of strings";
    public static final String TOO_MANY_AUDIENCES = "IID claim aud has more than " + MAX_AUDIENCES + " audiences";
    public static final String INSTANCE_NOT_UUID = "IID claim instanceID must be a lowercase UUID";
    public static final String SUB_NOT_INSTANCE = "IID claim sub must equal instanceID";
    public static final String PROJECT_BAD_CHARACTERS =
            "IID claim projectID may contain only letters, digits, '-' and '_' (at most 64)";
    public static final String TOO_MANY_METADATA_ITEMS = "IID claim metadata has more than " + MAX_METADATA_ITEMS
            + " items";
    public static final String METADATA_BAD_ITEM = "IID claim metadata has a key or value out of bounds (keys 1 to "
            + MAX_METADATA_KEY_CHARS + " characters, values up to " + MAX_METADATA_VALUE_CHARS
            + ", no control characters)";
    public static final String EXPIRY_NOT_AFTER_ISSUE = "IID claim exp must be after iat";
    public static final String LIFETIME_TOO_LONG = "IID lifetime (exp - iat) is longer than "
            + OpenStackIid.MAX_TTL.toMinutes() + " minutes";
    public static final String TIME_OUT_OF_RANGE = "IID claim %s is out of range";

    private static final Pattern UUID = Pattern.compile(
            "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
    private static final Pattern PROJECT = Pattern.compile("[A-Za-z0-9_-]{1," + MAX_PROJECT_ID_CHARS + "}");
    /** 1970 to 9999: anything else is not a time a document of ours can carry. */
    private static final long MAX_EPOCH_SECOND = 253_402_300_799L;

    public IidClaims {
        issuer = checkedText(ISS, issuer, MAX_ISSUER_CHARS, false);
        Objects.requireNonNull(audience, AUD);
        if (audience.isEmpty()) {
            throw new IllegalArgumentException(String.format(EMPTY, AUD));
        }
        if (audience.size() > MAX_AUDIENCES) {
            throw new IllegalArgumentException(TOO_MANY_AUDIENCES);
        }
        audience = List.copyOf(audience);
        for (String aud : audience) {
            checkedText(AUD, aud, MAX_AUDIENCE_CHARS, false);
        }
        jti = checkedText(JTI, jti, MAX_JTI_CHARS, false);
        Objects.requireNonNull(projectId, PROJECT_ID);
        if (!PROJECT.matcher(projectId).matches()) {
            throw new IllegalArgumentException(PROJECT_BAD_CHARACTERS);
        }
        Objects.requireNonNull(instanceId, INSTANCE_ID);
        if (!UUID.matcher(instanceId).matches()) {
            throw new IllegalArgumentException(INSTANCE_NOT_UUID);
        }
        imageId = checkedText(IMAGE_ID, imageId, MAX_IMAGE_ID_CHARS, true);
        hostname = checkedText(HOSTNAME, hostname, MAX_HOSTNAME_CHARS, false);
        Objects.requireNonNull(metadata, METADATA);
        if (metadata.size() > MAX_METADATA_ITEMS) {
            throw new IllegalArgumentException(TOO_MANY_METADATA_ITEMS);
        }
        TreeMap<String, String> copy = new TreeMap<>();
        for (Map.Entry<String, String> item : metadata.entrySet()) {
            String key = item.getKey();
            String value = item.getValue();
            if (key == null || value == null || key.isEmpty() || key.length() > MAX_METADATA_KEY_CHARS
                    || value.length() > MAX_METADATA_VALUE_CHARS || hasControl(key) || hasControl(value)) {
                throw new IllegalArgumentException(METADATA_BAD_ITEM);
            }
            copy.put(key, value);
        }
        metadata = Collections.unmodifiableSortedMap(copy);
        checkedTime(IAT, issuedAt);
        checkedTime(EXP, expiresAt);
        if (!expiresAt.isAfter(issuedAt)) {
            throw new IllegalArgumentException(EXPIRY_NOT_AFTER_ISSUE);
        }
        if (Duration.between(issuedAt, expiresAt).compareTo(OpenStackIid.MAX_TTL) > 0) {
            throw new IllegalArgumentException(LIFETIME_TOO_LONG);
        }
    }

    /** {@code sub}: the instance UUID, as {@code instanceID}. */
    public String subject() {
        return instanceId;
    }

    /** The claims as a JSON-ready object (insertion-ordered; numbers are epoch seconds), for the signer. */
    public Map<String, Object> toJson() {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put(ISS, issuer);
        json.put(AUD, audience.size() == 1 ? audience.get(0) : audience);
        json.put(JTI, jti);
        json.put(SUB, instanceId);
        json.put(PROJECT_ID, projectId);
        json.put(INSTANCE_ID, instanceId);
        json.put(IMAGE_ID, imageId);
        json.put(HOSTNAME, hostname);
        json.put(METADATA, new LinkedHashMap<>(metadata));
        json.put(IAT, issuedAt.getEpochSecond());
        json.put(EXP, expiresAt.getEpochSecond());
        return json;
    }

    /**
     * Reads claims from the parsed JSON object of a JWS payload. Unknown claims are ignored (RFC 7519 section 4).
     *
     * @throws IllegalArgumentException naming the claim that is missing, mistyped or out of bounds
     */
    public static IidClaims fromJson(Map<String, Object> json) {
        Objects.requireNonNull(json, "json");
        String subject = string(json, SUB);
        String instance = string(json, INSTANCE_ID);
        if (!subject.equals(instance)) {
            throw new IllegalArgumentException(SUB_NOT_INSTANCE);
        }
        return new IidClaims(string(json, ISS), audience(json), string(json, JTI), string(json, PROJECT_ID), instance,
                string(json, IMAGE_ID), string(json, HOSTNAME), metadata(json), time(json, IAT), time(json, EXP));
    }

    private static String string(Map<String, Object> json, String claim) {
        Object value = json.get(claim);
        if (value == null) {
            throw new IllegalArgumentException(String.format(MISSING, claim));
        }
        if (!(value instanceof String text)) {
            throw new IllegalArgumentException(String.format(NOT_A_STRING, claim));
        }
        return text;
    }

    private static List<String> audience(Map<String, Object> json) {
        Object value = json.get(AUD);
        if (value == null) {
            throw new IllegalArgumentException(String.format(MISSING, AUD));
        }
        if (value instanceof String text) {
            return List.of(text);
        }
        if (!(value instanceof List<?> list)) {
            throw new IllegalArgumentException(AUDIENCE_NOT_STRINGS);
        }
        if (list.size() > MAX_AUDIENCES) {
            throw new IllegalArgumentException(TOO_MANY_AUDIENCES);
        }
        List<String> audiences = new ArrayList<>(list.size());
        for (Object item : list) {
            if (!(item instanceof String text)) {
                throw new IllegalArgumentException(AUDIENCE_NOT_STRINGS);
            }
            audiences.add(text);
        }
        return audiences;
    }

    private static SortedMap<String, String> metadata(Map<String, Object> json) {
        Object value = json.get(METADATA);
        if (value == null) {
            throw new IllegalArgumentException(String.format(MISSING, METADATA));
        }
        if (!(value instanceof Map<?, ?> map)) {
            throw new IllegalArgumentException(String.format(NOT_AN_OBJECT, METADATA));
        }
        if (map.size() > MAX_METADATA_ITEMS) {
            throw new IllegalArgumentException(TOO_MANY_METADATA_ITEMS);
        }
        SortedMap<String, String> items = new TreeMap<>();
        for (Map.Entry<?, ?> item : map.entrySet()) {
            if (!(item.getKey() instanceof String key) || !(item.getValue() instanceof String text)) {
                throw new IllegalArgumentException(String.format(NOT_AN_OBJECT, METADATA));
            }
            items.put(key, text);
        }
        return items;
    }

    private static Instant time(Map<String, Object> json, String claim) {
        Object value = json.get(claim);
        if (value == null) {
            throw new IllegalArgumentException(String.format(MISSING, claim));
        }
        if (!(value instanceof Number number)) {
            throw new IllegalArgumentException(String.format(NOT_A_NUMBER, claim));
        }
        double seconds = number.doubleValue();
        if (!(seconds >= 0 && seconds <= MAX_EPOCH_SECOND)) {
            throw new IllegalArgumentException(String.format(TIME_OUT_OF_RANGE, claim));
        }
        // NumericDate may carry a fraction (RFC 7519 section 2); whole seconds are what we compare.
        return Instant.ofEpochSecond((long) seconds);
    }

    private static void checkedTime(String claim, Instant time) {
        Objects.requireNonNull(time, claim);
        if (time.getEpochSecond() < 0 || time.getEpochSecond() > MAX_EPOCH_SECOND) {
            throw new IllegalArgumentException(String.format(TIME_OUT_OF_RANGE, claim));
        }
    }

    private static String checkedText(String claim, String text, int maxChars, boolean mayBeEmpty) {
        Objects.requireNonNull(text, claim);
        if (text.isEmpty() && !mayBeEmpty) {
            throw new IllegalArgumentException(String.format(EMPTY, claim));
        }
        if (text.length() > maxChars) {
            throw new IllegalArgumentException(String.format(TOO_LONG, claim));
        }
        if (hasControl(text)) {
            throw new IllegalArgumentException(String.format(BAD_CHARACTERS, claim));
        }
        return text;
    }

    private static boolean hasControl(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (Character.isISOControl(c) || (Character.isSurrogate(c) && !validSurrogateAt(text, i))) {
                return true;
            }
            if (Character.isHighSurrogate(c)) {
                i++;
            }
        }
        return false;
    }

    private static boolean validSurrogateAt(String text, int i) {
        return Character.isHighSurrogate(text.charAt(i)) && i + 1 < text.length()
                && Character.isLowSurrogate(text.charAt(i + 1));
    }
}
