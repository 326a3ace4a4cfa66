package dev.bourne.core.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.nimbusds.jose.util.JSONObjectUtils;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TextsTest {

    @Test
    void jsonString_escapesWhatJsonRequires_andShortFormsWhereTheyExist() {
        assertEquals("\"say \\\"hi\\\" a\\\\b\\n\\r\\t\\b\\f\"", Texts.jsonString("say \"hi\" a\\b\n\r\t\b\f"));
        assertEquals("\"\\u0000\\u001f\\u007f\\u2028\\u2029\"", Texts.jsonString("\u0000\u001f\u007f\u2028\u2029"));
        assertEquals("\"caf\u00e9 \uD83D\uDE00\"", Texts.jsonString("caf\u00e9 \uD83D\uDE00"));
        assertEquals("null", Texts.jsonString(null));
    }

    @Test
    void jsonString_everyCharRoundTripsThroughAJsonParser_andNoRawControlCharRemains() throws Exception {
        StringBuilder all = new StringBuilder();
        for (char c = 0; c < 0x3000; c++) {
            if (!Character.isSurrogate(c)) {
                all.append(c);
            }
        }
        String value = all.toString();
        String json = Texts.jsonString(value);
        for (int i = 0; i < json.length(); i++) {
            assertFalse(json.charAt(i) < 0x20 || json.charAt(i) == 0x7f, "raw control character at " + i);
        }
        Map<String, Object> parsed = JSONObjectUtils.parse("{\"v\":" + json + "}");
        assertEquals(value, parsed.get("v"));
    }

    @Test
    void appendJsonString_appendsToWhatIsThere() {
        StringBuilder out = new StringBuilder("{\"k\":");
        Texts.appendJsonString(out, "v\"");
        assertEquals("{\"k\":\"v\\\"\"", out.toString());
    }
}
