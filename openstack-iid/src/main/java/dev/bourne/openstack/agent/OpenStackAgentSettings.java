package dev.bourne.openstack.agent;

import dev.bourne.core.config.ConfigReader;
import dev.bourne.core.config.ConfigResult;
import dev.bourne.core.config.PluginConfig;
import dev.bourne.openstack.common.OpenStackIid;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The validated {@code plugin_data} of the agent's {@code NodeAttestor "openstack_iid"}.
 *
 * <pre>{@code
 * NodeAttestor "openstack_iid" {
 *     plugin_data {
 *         metadata_url    = "http://169.254.169.254/openstack/latest/vendor_data2.json"
 *         vendordata_name = "bourne"   # the name in Nova's vendordata_dynamic_targets = ["bourne@https://..."]
 *         timeout         = "5s"       # connect and read, at most 60s
 *     }
 * }
 * }</pre>
 *
 * Every key is optional. Validation is pure: it never contacts the metadata service, so {@code bourne-agent validate}
 * works anywhere.
 *
 * @param metadataUrl where {@code vendor_data2.json} is read (http or https)
 * @param vendordataName the member of {@code vendor_data2.json} holding the document: the target's name in Nova's
 *     {@code vendordata_dynamic_targets}
 * @param timeout the bound of the whole fetch (connect, answer and body)
 */
public record OpenStackAgentSettings(URI metadataUrl, String vendordataName, Duration timeout) {

    public static final String METADATA_URL = "metadata_url";
    public static final String VENDORDATA_NAME = "vendordata_name";
    public static final String TIMEOUT = "timeout";

    /** Nova's metadata service as every instance reaches it (link-local, no DNS, no proxy). */
    public static final URI DEFAULT_METADATA_URL =
            URI.create("http://169.254.169.254/openstack/latest/vendor_data2.json");
    /** Short: the metadata service answers locally, and a hung fetch holds up the agent's start. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);
    public static final Duration MAX_TIMEOUT = Duration.ofSeconds(60);

    public static final String METADATA_URL_INVALID = "must be an http or https URL with a host and without user "
            + "info or fragment, such as \"" + DEFAULT_METADATA_URL + "\"";
    public static final String VENDORDATA_NAME_INVALID = "must be a vendordata target name without '@' or "
            + "whitespace: Nova's vendordata_dynamic_targets entries are name@url";
    public static final String TIMEOUT_TOO_LONG = "must be at most 60s";

    private static final Pattern NAME = Pattern.compile("[^@\\s]+");

    public OpenStackAgentSettings {
        Objects.requireNonNull(metadataUrl, "metadataUrl");
        Objects.requireNonNull(vendordataName, "vendordataName");
        Objects.requireNonNull(timeout, "timeout");
        if (!httpUrl(metadataUrl)) {
            throw new IllegalArgumentException("metadata URL " + METADATA_URL_INVALID);
        }
        if (!NAME.matcher(vendordataName).matches()) {
            throw new IllegalArgumentException("vendordata name " + VENDORDATA_NAME_INVALID);
        }
        if (timeout.isNegative() || timeout.isZero() || timeout.compareTo(MAX_TIMEOUT) > 0) {
            throw new IllegalArgumentException("timeout must be positive and at most 60s");
        }
    }

    /** The defaults: Nova's link-local metadata service, target {@code bourne}, 5 seconds. */
    public static OpenStackAgentSettings defaults() {
        return new OpenStackAgentSettings(DEFAULT_METADATA_URL, OpenStackIid.DEFAULT_VENDORDATA_NAME, DEFAULT_TIMEOUT);
    }

    /** A copy reading {@code url}. */
    public OpenStackAgentSettings withMetadataUrl(URI url) {
        return new OpenStackAgentSettings(url, vendordataName, timeout);
    }

    /** Validates the plugin data, reporting every error at once (unknown keys included). */
    public static ConfigResult<OpenStackAgentSettings> validate(PluginConfig plugin) {
        ConfigReader data = plugin.pluginDataReader();
        URI url = DEFAULT_METADATA_URL;
        Optional<String> rawUrl = data.optionalString(METADATA_URL);
        if (rawUrl.isPresent()) {
            Optional<URI> parsed = parse(rawUrl.get()).filter(OpenStackAgentSettings::httpUrl);
            if (parsed.isEmpty()) {
                data.error(METADATA_URL, METADATA_URL_INVALID);
            } else {
                url = parsed.get();
            }
        }
        String name = data.optionalString(VENDORDATA_NAME, OpenStackIid.DEFAULT_VENDORDATA_NAME);
        if (!NAME.matcher(name).matches()) {
            data.error(VENDORDATA_NAME, VENDORDATA_NAME_INVALID);
        }
        Duration timeout = data.optionalDuration(TIMEOUT, DEFAULT_TIMEOUT);
        if (timeout.compareTo(MAX_TIMEOUT) > 0) {
            data.error(TIMEOUT, TIMEOUT_TOO_LONG);
        }
        data.rejectUnknownKeys();
        if (!data.errors().isEmpty()) {
            return new ConfigResult.Invalid<>(data.errors());
        }
        return new ConfigResult.Valid<>(new OpenStackAgentSettings(url, name, timeout), data.warnings());
    }

    private static Optional<URI> parse(String text) {
        try {
            return Optional.of(new URI(text));
        } catch (URISyntaxException e) {
            return Optional.empty();
        }
    }

    private static boolean httpUrl(URI url) {
        String scheme = url.getScheme() == null ? "" : url.getScheme().toLowerCase(Locale.ROOT);
        return (scheme.equals("http") || scheme.equals("https")) && url.getHost() != null
                && url.getRawUserInfo() == null && url.getRawFragment() == null;
    }
}
