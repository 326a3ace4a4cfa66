package dev.bourne.openstack.agent;

import dev.bourne.openstack.common.OpenStackIid;
import dev.bourne.openstack.internal.BoundedHttp;
import dev.bourne.openstack.internal.BoundedHttp.BodyTooLargeException;
import dev.bourne.openstack.internal.JsonObjects;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Reads this instance's identity document from Nova's metadata service: {@code GET vendor_data2.json}, then the
 * compact JWS at {@code <vendordata_name>.data}.
 *
 * <p>Nova builds {@code vendor_data2.json} on each request by calling its DynamicJSON targets
 * ({@code vendordata_dynamic_targets = name@url}) and nesting each answer under the target's name, so the signing
 * service's {@code {"data": "<jws>"}} arrives as {@code {"<name>": {"data": "<jws>"}}}. When a target fails (error,
 * timeout, empty answer) Nova puts {@code {}} under its name and still answers 200: that case gets its own error,
 * pointing at Nova's configuration and the signing service rather than at the agent.
 *
 * <p>The metadata service is reachable by anything on the instance's network path, so its answer is bounded: the
 * whole fetch within the settings' timeout, at most {@link #MAX_BODY_BYTES} read, no redirect followed, and the
 * value must look like a compact JWS of at most {@link OpenStackIid#MAX_JWS_BYTES} before it is handed on. Whether
 * the JWS is genuine is the server's decision, never the agent's. Errors never quote the document.
 *
 * <p>Thread-safe; each {@link #fetchDocument()} makes one request (Nova signs a fresh document for each).
 */
public final class VendorDataClient {

    /** Largest {@code vendor_data2.json} read: the IID (at most 96 KiB) beside other targets' and static data. */
    public static final int MAX_BODY_BYTES = 256 * 1024;

    /** {@code %s}: the URL, then why. */
    public static final String UNREACHABLE = "the metadata service at %s cannot be reached: %s";
    /** {@code %s}: the URL, then the timeout. */
    public static final String TIMED_OUT = "the metadata service at %s did not answer within %s";
    /** {@code %d}: the status; {@code %s}: the URL. */
    public static final String HTTP_STATUS = "the metadata service answered HTTP %d for %s";
    public static final String TOO_LARGE = "vendor_data2.json is larger than " + MAX_BODY_BYTES + " bytes";
    public static final String NOT_JSON = "vendor_data2.json is not a JSON object";
    /** {@code %s}: the vendordata name (twice). */
    public static final String NO_MEMBER = "vendor_data2.json has no member \"%s\": check vendordata_name, and that "
            + "Nova's vendordata_providers includes DynamicJSON and vendordata_dynamic_targets has %s@<url>";
    /** {@code %s}: the vendordata name. */
    public static final String NO_DOCUMENT = "vendordata service %s returned no document: check Nova's "
            + "vendordata_dynamic_targets and the signing service";
    /** {@code %s}: the vendordata name. */
    public static final String MEMBER_NOT_OBJECT = "vendor_data2.json member \"%s\" is not an object";
    /** {@code %s}: the vendordata name. */
    public static final String NO_DATA_STRING = "vendor_data2.json member \"%s\" has no \"" + OpenStackIid.DATA_MEMBER
            + "\" string";
    /** {@code %s}: the vendordata name. */
    public static final String JWS_TOO_LARGE = "the document of vendordata service %s is larger than "
            + OpenStackIid.MAX_JWS_BYTES + " bytes";
    /** {@code %s}: the vendordata name. */
    public static final String NOT_A_JWS = "the document of vendordata service %s is not a compact JWS "
            + "(three base64url parts)";
    public static final String INTERRUPTED = "interrupted while reading vendor_data2.json";

    private static final Pattern COMPACT_JWS = Pattern.compile("[A-Za-z0-9_-]++\\.[A-Za-z0-9_-]++\\.[A-Za-z0-9_-]++");

    private final OpenStackAgentSettings settings;
    private final HttpClient client;

    public VendorDataClient(OpenStackAgentSettings settings) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(settings.timeout()).followRedirects(HttpClient.Redirect.NEVER).build();
    }

    /**
     * Fetches {@code vendor_data2.json} and returns the compact JWS under the configured vendordata name.
     *
     * @throws IidFetchException naming what is wrong (see the constants of this class)
     */
    public String fetchDocument() throws IidFetchException {
        HttpRequest request = HttpRequest.newBuilder(settings.metadataUrl()).timeout(settings.timeout())
                .header("Accept", "application/json").GET().build();
        HttpResponse<byte[]> response;
        try {
            response = BoundedHttp.send(client, request, MAX_BODY_BYTES, settings.timeout());
        } catch (BodyTooLargeException e) {
            throw new IidFetchException(TOO_LARGE, e);
        } catch (HttpTimeoutException e) {
            throw new IidFetchException(String.format(TIMED_OUT, settings.metadataUrl(),
                    BoundedHttp.describe(settings.timeout())), e);
        } catch (IOException e) {
            throw new IidFetchException(String.format(UNREACHABLE, settings.metadataUrl(), BoundedHttp.describe(e)),
                    e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IidFetchException(INTERRUPTED, e);
        }
        if (response.statusCode() != 200) {
            throw new IidFetchException(String.format(HTTP_STATUS, response.statusCode(), settings.metadataUrl()));
        }
        return document(response.body(), settings.vendordataName());
    }

    /** The JWS at {@code <name>.data} of a {@code vendor_data2.json} body. */
    static String document(byte[] body, String name) throws IidFetchException {
        Map<String, Object> json = JsonObjects.parse(body).orElseThrow(() -> new IidFetchException(NOT_JSON));
        if (!json.containsKey(name)) {
            throw new IidFetchException(String.format(NO_MEMBER, name, name));
        }
        if (!(json.get(name) instanceof Map<?, ?> target)) {
            throw new IidFetchException(String.format(MEMBER_NOT_OBJECT, name));
        }
        if (target.isEmpty()) {
            throw new IidFetchException(String.format(NO_DOCUMENT, name));
        }
        if (!(target.get(OpenStackIid.DATA_MEMBER) instanceof String jws)) {
            throw new IidFetchException(String.format(NO_DATA_STRING, name));
        }
        if (jws.length() > OpenStackIid.MAX_JWS_BYTES) {
            throw new IidFetchException(String.format(JWS_TOO_LARGE, name));
        }
        if (!COMPACT_JWS.matcher(jws).matches()) {
            throw new IidFetchException(String.format(NOT_A_JWS, name));
        }
        return jws;
    }

    @Override
    public String toString() {
        return "VendorDataClient[" + settings.metadataUrl() + ", " + settings.vendordataName() + "]";
    }
}
