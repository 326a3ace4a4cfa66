package dev.bourne.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** No PIN, password, secret or token reaches a {@code toString} or an error message. */
class RedactionTest {

    private static final String SECRET = "hunter2-do-not-print";

    @Test
    void pluginConfigToString_secretKeys_redactedAtAnyDepth() {
        Map<String, Object> nested = new LinkedHashMap<>();
        nested.put("so_pin", SECRET);
        nested.put("slot", 1.0);
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("library", "/usr/lib/softhsm/libsofthsm2.so");
        data.put("user_pin", SECRET);
        data.put("Password", SECRET);
        data.put("client_secret", SECRET);
        data.put("api_token", SECRET);
        data.put("token", nested);
        data.put("tokens", List.of(nested));
        data.put("slot", nested);

        PluginConfig plugin = new PluginConfig("server.conf", "KeyManager", "pkcs11", true, data);

        assertFalse(plugin.toString().contains(SECRET), plugin.toString());
        assertEquals("PluginConfig[KeyManager \"pkcs11\", enabled=true, plugin_data={library=\"/usr/lib/softhsm/"
                + "libsofthsm2.so\", user_pin=[redacted], Password=[redacted], client_secret=[redacted], "
                + "api_token=[redacted], token=[redacted], tokens=[redacted], slot={so_pin=[redacted], slot=1}}]",
                plugin.toString());
    }

    static Stream<Arguments> secretErrors() {
        return Stream.of(
                Arguments.of("user_pin", 1234.0, "expected a string, got number [redacted]"),
                Arguments.of("db_password", true, "expected a string, got bool [redacted]"),
                Arguments.of("join_token", new NotAString(), "expected a string, got unquoted expression [redacted] "
                        + "(quote strings)"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("secretErrors")
    void readerError_secretKey_valueRedacted(String key, Object value, String reason) {
        ConfigReader reader = ConfigReader.of("f.conf", "plugins.KeyManager.pkcs11.plugin_data", Map.of(key, value));

        reader.optionalString(key);

        assertEquals(List.of("f.conf: plugins.KeyManager.pkcs11.plugin_data." + key + ": " + reason),
                ConfigTexts.strings(reader.errors()));
    }

    @Test
    void readerError_secretDurationAndRange_valueRedacted() {
        ConfigReader reader = ConfigReader.of("f.conf", "x", Map.of("token_ttl", "1d" + SECRET, "pin_length", 99.0));

        reader.optionalDuration("token_ttl", null);
        reader.optionalInt("pin_length", 4, 4, 8);

        assertEquals(List.of("f.conf: x.token_ttl: invalid duration [redacted]",
                "f.conf: x.pin_length: must be between 4 and 8, got [redacted]"),
                ConfigTexts.strings(reader.errors()));
    }

    /** Stands in for an hcl4j expression object. */
    private static final class NotAString {
        @Override
        public String toString() {
            return SECRET;
        }
    }
}
