package dev.bourne.openstack.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import dev.bourne.core.config.ConfigResult;
import dev.bourne.core.config.PluginConfig;
import dev.bourne.openstack.common.OpenStackIid;
import java.net.URI;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** plugin_data validation: pure, never contacts the metadata service; every error at once, with its key. */
class OpenStackAgentSettingsTest {

    private static final String FILE = "agent.conf";
    private static final String PREFIX = "agent.conf: plugins.NodeAttestor.openstack_iid.plugin_data.";

    private static ConfigResult<OpenStackAgentSettings> validate(Map<String, Object> data) {
        return OpenStackAgentSettings.validate(new PluginConfig(FILE, "NodeAttestor", OpenStackIid.PLUGIN_NAME, true,
                data));
    }

    @Test
    void validate_empty_defaults() throws Exception {
        OpenStackAgentSettings settings = validate(Map.of()).orElseThrow();

        assertEquals(URI.create("http://169.254.169.254/openstack/latest/vendor_data2.json"), settings.metadataUrl());
        assertEquals("bourne", settings.vendordataName());
        assertEquals(Duration.ofSeconds(5), settings.timeout());
        assertEquals(OpenStackAgentSettings.defaults(), settings);
    }

    @Test
    void validate_everyKeySet_parsed() throws Exception {
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("metadata_url", "https://metadata.example.org:8775/openstack/2016-10-06/vendor_data2.json");
        data.put("vendordata_name", "spiffe-iid");
        data.put("timeout", "60s");

        OpenStackAgentSettings settings = validate(data).orElseThrow();

        assertEquals(URI.create("https://metadata.example.org:8775/openstack/2016-10-06/vendor_data2.json"),
                settings.metadataUrl());
        assertEquals("spiffe-iid", settings.vendordataName());
        assertEquals(Duration.ofMinutes(1), settings.timeout());
    }

    static Stream<Arguments> invalid() {
        String url = "metadata_url: " + OpenStackAgentSettings.METADATA_URL_INVALID;
        String name = "vendordata_name: " + OpenStackAgentSettings.VENDORDATA_NAME_INVALID;
        return Stream.of(
                Arguments.of(Map.of("metadata_url", "169.254.169.254/openstack"), url),
                Arguments.of(Map.of("metadata_url", "file:///etc/passwd"), url),
                Arguments.of(Map.of("metadata_url", "ftp://169.254.169.254/x"), url),
                Arguments.of(Map.of("metadata_url", "http:///openstack"), url),
                Arguments.of(Map.of("metadata_url", "http://user:pw@169.254.169.254/x"), url),
                Arguments.of(Map.of("metadata_url", "http://169.254.169.254/x#frag"), url),
                Arguments.of(Map.of("metadata_url", "http://169.254.169.254/a b"), url),
                Arguments.of(Map.of("metadata_url", ""), "metadata_url: must not be empty"),
                Arguments.of(Map.of("metadata_url", 1.0), "metadata_url: expected a string, got number 1"),
                Arguments.of(Map.of("vendordata_name", "bourne@https://signer"), name),
                Arguments.of(Map.of("vendordata_name", "two words"), name),
                Arguments.of(Map.of("vendordata_name", ""), "vendordata_name: must not be empty"),
                Arguments.of(Map.of("timeout", "61s"), "timeout: " + OpenStackAgentSettings.TIMEOUT_TOO_LONG),
                Arguments.of(Map.of("timeout", "1h"), "timeout: " + OpenStackAgentSettings.TIMEOUT_TOO_LONG),
                Arguments.of(Map.of("timeout", "0s"), "timeout: must be positive, got \"0s\""),
                Arguments.of(Map.of("timeout", 5.0),
                        "timeout: expected a duration string such as \"1h30m\", got number 5"),
                Arguments.of(Map.of("metadata_uri", "http://x/"), "metadata_uri: unknown key (did you mean "
                        + "\"metadata_url\"?)"));
    }

    @ParameterizedTest
    @MethodSource("invalid")
    void validate_invalid_exactError(Map<String, Object> data, String expected) {
        ConfigResult<OpenStackAgentSettings> result = validate(data);

        ConfigResult.Invalid<OpenStackAgentSettings> invalid = assertInstanceOf(ConfigResult.Invalid.class, result);
        assertEquals(List.of(PREFIX + expected), invalid.errors().stream().map(Object::toString).toList());
    }

    @Test
    void validate_severalErrors_allReportedAtOnce() {
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("metadata_url", "gopher://x");
        data.put("vendordata_name", "a@b");
        data.put("timeout", "2m");
        data.put("bogus", true);

        List<String> errors = validate(data).errors().stream().map(Object::toString).toList();

        assertEquals(List.of(PREFIX + "metadata_url: " + OpenStackAgentSettings.METADATA_URL_INVALID,
                PREFIX + "vendordata_name: " + OpenStackAgentSettings.VENDORDATA_NAME_INVALID,
                PREFIX + "timeout: " + OpenStackAgentSettings.TIMEOUT_TOO_LONG,
                PREFIX + "bogus: unknown key"), errors);
    }
}
