package dev.bourne.openstack.internal;

import com.nimbusds.jose.util.JSONObjectUtils;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.text.ParseException;
import java.util.Map;
import java.util.Optional;

/** Reads a JSON object from an answer this module's clients did not write (bounded before it gets here). */
public final class JsonObjects {

    private JsonObjects() {
    }

    /**
     * {@code body} as a JSON object, or empty when it is not strict UTF-8 or not exactly one JSON object. The parser's
     * own error is dropped: it can quote the body, and callers name the failure themselves.
     */
    public static Optional<Map<String, Object>> parse(byte[] body) {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(body)).toString();
        } catch (CharacterCodingException e) {
            return Optional.empty();
        }
        if (!text.stripLeading().startsWith("{")) {
            // The parser reads some top-level arrays ("[]") as an empty object: only an object is an answer here.
            return Optional.empty();
        }
        try {
            return Optional.ofNullable(JSONObjectUtils.parse(text, body.length));
        } catch (ParseException | RuntimeException | StackOverflowError e) {
            // Hostile input (deep nesting included) is still only "not a JSON object".
            return Optional.empty();
        }
    }
}
