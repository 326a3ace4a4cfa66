package dev.bourne.testing.openstack;

import com.nimbusds.jose.util.JSONObjectUtils;
import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.net.URI;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;

/**
 * A fake of Nova's metadata service (what an instance reaches at {@code http://169.254.169.254}) for one instance,
 * serving the OpenStack tree as {@code nova/api/metadata/base.py} and {@code handler.py} lay it out:
 * <ul>
 * <li>{@code GET /openstack}: the version list, one per line ({@code text/plain}), ending with {@code latest};</li>
 * <li>{@code GET /openstack/<version>}: the files of that version, one per line;</li>
 * <li>{@code meta_data.json}: {@code uuid}, {@code meta} (when there is user metadata), {@code hostname}, {@code name},
 *     {@code launch_index}, {@code availability_zone}, {@code random_seed}, {@code project_id}, {@code devices},
 *     {@code dedicated_cpus};</li>
 * <li>{@code vendor_data.json} ({@code {}}: no static vendordata), {@code network_data.json};</li>
 * <li>{@code vendor_data2.json} (versions from 2016-10-06 on): the body the test sets. Nova builds it on every
 *     request by calling each DynamicJSON target and nesting its answer under the target's name, {@code {}} when the
 *     target failed; {@link #vendorData2(Supplier)} lets a test do the same against a real signing service.</li>
 * </ul>
 * Anything else is 404 with webob's plain-text body, as Nova answers. Only {@code GET} is served (Nova takes
 * {@code POST} only for the instance password, which no test needs): other methods get 405.
 *
 * <p>Failure modes, for every request until {@link #healthy()}: a status ({@link #failWith}), a delay
 * ({@link #delay}), a raw body of any size sent without {@code Content-Length} ({@link #rawBody}), or a dropped
 * connection ({@link #dropConnections}). Every request is counted and its path recorded, failures included.
 *
 * <p>Listens on 127.0.0.1 with a free port; {@link #close()} stops it. Safe to configure from the test thread while
 * requests are served.
 */
public final class FakeOpenStackMetadata implements AutoCloseable {

    /** The OpenStack metadata versions Nova lists ({@code OPENSTACK_VERSIONS} in base.py), oldest first. */
    public static final List<String> VERSIONS = List.of("2012-08-10", "2013-04-04", "2013-10-17", "2015-10-15",
            "2016-06-30", "2016-10-06", "2017-02-22", "2018-08-27", "2020-10-14", "2025-04-04");
    /** The first version with {@code vendor_data2.json} (NEWTON_TWO). */
    public static final String VENDOR_DATA2_SINCE = "2016-10-06";
    public static final String LATEST = "latest";
    public static final String META_DATA_PATH = "/openstack/latest/meta_data.json";
    public static final String VENDOR_DATA2_PATH = "/openstack/latest/vendor_data2.json";
    /** webob's body for 404, which Nova's handler raises for any path it does not know. */
    public static final String NOT_FOUND_BODY = "404 Not Found\n\nThe resource could not be found.\n\n   ";

    private static final String TEXT = "text/plain; charset=UTF-8";
    private static final String JSON = "application/json";
    private static final SecureRandom RANDOM = new SecureRandom();

    private final FakeHttp http;
    private final List<String> paths = new CopyOnWriteArrayList<>();
    private volatile Instance instance;
    private volatile Supplier<String> vendorData2 = () -> "{}";
    private volatile Failure failure = Failure.NONE;
    private volatile Duration delay = Duration.ZERO;

    private FakeOpenStackMetadata(Instance instance) {
        this.instance = Objects.requireNonNull(instance, "instance");
        this.http = FakeHttp.start("fake-metadata", this::handle);
    }

    /** A metadata service for an instance with a random UUID and project ({@link Instance#random()}). */
    public static FakeOpenStackMetadata start() {
        return new FakeOpenStackMetadata(Instance.random());
    }

    /** A metadata service for {@code instance}. */
    public static FakeOpenStackMetadata start(Instance instance) {
        return new FakeOpenStackMetadata(instance);
    }

    /** {@code http://127.0.0.1:<port>}, the fake's {@code http://169.254.169.254}. */
    public URI uri() {
        return http.uri();
    }

    /** {@code <uri>/openstack/latest/vendor_data2.json}, the URL the agent is configured with. */
    public URI vendorData2Url() {
        return URI.create(uri() + VENDOR_DATA2_PATH);
    }

    /** {@code <uri>/openstack/latest/meta_data.json}. */
    public URI metaDataUrl() {
        return URI.create(uri() + META_DATA_PATH);
    }

    /** The instance described. */
    public Instance instance() {
        return instance;
    }

    /** Describes {@code instance} from now on. */
    public void instance(Instance instance) {
        this.instance = Objects.requireNonNull(instance, "instance");
    }

    /** Serves {@code body} as {@code vendor_data2.json}, as it is (any text: garbage is a valid test). */
    public void vendorData2(String body) {
        Objects.requireNonNull(body, "body");
        this.vendorData2 = () -> body;
    }

    /**
     * Builds {@code vendor_data2.json} with {@code body} on every request, as Nova calls its DynamicJSON targets on
     * every request. A supplier that throws makes the request fail with 500.
     */
    public void vendorData2(Supplier<String> body) {
        this.vendorData2 = Objects.requireNonNull(body, "body");
    }

    /** {@code {"<target>": {"data": "<jws>"}}}: what Nova serves when target {@code target} answered with the JWS. */
    public static String vendorData2With(String target, String jws) {
        return JSONObjectUtils.toJSONString(Map.of(target, Map.of("data", jws)));
    }

    /** {@code {"<target>": {}}}: what Nova serves when target {@code target} failed (error, timeout, empty answer). */
    public static String vendorData2TargetFailed(String target) {
        return JSONObjectUtils.toJSONString(Map.of(target, Map.of()));
    }

    /** Answers every request with {@code status} (and webob's plain-text reason) until {@link #healthy()}. */
    public void failWith(int status) {
        if (status < 200 || status > 599) {
            throw new IllegalArgumentException("not an HTTP status: " + status);
        }
        failure = new Failure(status, null, false);
    }

    /**
     * Answers every request with 200 and {@code body} as it is, in chunks without {@code Content-Length}, until
     * {@link #healthy()}: oversized or garbage documents.
     */
    public void rawBody(byte[] body) {
        failure = new Failure(0, body.clone(), false);
    }

    /** Closes every connection without an answer until {@link #healthy()}. */
    public void dropConnections() {
        failure = new Failure(0, null, true);
    }

    /** Waits {@code delay} before answering each request (a slow service), until {@link #healthy()}. */
    public void delay(Duration delay) {
        if (delay.isNegative()) {
            throw new IllegalArgumentException("negative delay");
        }
        this.delay = delay;
    }

    /** Ends every failure mode and delay. */
    public void healthy() {
        failure = Failure.NONE;
        delay = Duration.ZERO;
    }

    /** Requests received so far, failed ones included. */
    public int requestCount() {
        return paths.size();
    }

    /** The paths of the requests received so far, in order. */
    public List<String> requestPaths() {
        return List.copyOf(paths);
    }

    @Override
    public void close() {
        http.close();
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String path = exchange.getRequestURI().getRawPath();
            paths.add(path);
            if (!FakeHttp.pause(delay)) {
                FakeHttp.drop(exchange);
                return;
            }
            Failure now = failure;
            if (now.drop()) {
                FakeHttp.drop(exchange);
                return;
            }
            if (now.rawBody() != null) {
                FakeHttp.sendChunked(exchange, 200, JSON, now.rawBody());
                return;
            }
            if (now.status() != 0) {
                FakeHttp.send(exchange, now.status(), TEXT, now.status() + " " + reason(now.status()) + "\n\n");
                return;
            }
            if (!exchange.getRequestMethod().equals("GET")) {
                exchange.getResponseHeaders().set("Allow", "GET");
                FakeHttp.send(exchange, 405, TEXT, "405 Method Not Allowed\n\n");
                return;
            }
            serve(exchange, path);
        }
    }

    private void serve(HttpExchange exchange, String rawPath) throws IOException {
        String path = rawPath.replaceAll("/+", "/");
        if (path.length() > 1 && path.endsWith("/")) {
            path = path.substring(0, path.length() - 1);
        }
        if (path.equals("/openstack")) {
            List<String> versions = new ArrayList<>(VERSIONS);
            versions.add(LATEST);
            FakeHttp.send(exchange, 200, TEXT, String.join("\n", versions));
            return;
        }
        String[] parts = path.split("/");
        // "", "openstack", version[, file]
        if (parts.length < 3 || parts.length > 4 || !parts[1].equals("openstack")) {
            FakeHttp.send(exchange, 404, TEXT, NOT_FOUND_BODY);
            return;
        }
        String version = parts[2].equals(LATEST) ? VERSIONS.get(VERSIONS.size() - 1) : parts[2];
        if (!VERSIONS.contains(version)) {
            FakeHttp.send(exchange, 404, TEXT, NOT_FOUND_BODY);
            return;
        }
        boolean hasVendorData2 = version.compareTo(VENDOR_DATA2_SINCE) >= 0;
        if (parts.length == 3) {
            List<String> files = new ArrayList<>(List.of("meta_data.json", "password", "vendor_data.json",
                    "network_data.json"));
            if (hasVendorData2) {
                files.add("vendor_data2.json");
            }
            FakeHttp.send(exchange, 200, TEXT, String.join("\n", files));
            return;
        }
        switch (parts[3]) {
            case "meta_data.json" -> FakeHttp.json(exchange, 200, metaData(instance));
            case "vendor_data.json" -> FakeHttp.send(exchange, 200, JSON, "{}");
            case "network_data.json" -> FakeHttp.json(exchange, 200,
                    Map.of("links", List.of(), "networks", List.of(), "services", List.of()));
            case "password" -> FakeHttp.send(exchange, 200, TEXT, "");
            case "vendor_data2.json" -> {
                if (!hasVendorData2) {
                    FakeHttp.send(exchange, 404, TEXT, NOT_FOUND_BODY);
                    return;
                }
                String body;
                try {
                    body = vendorData2.get();
                } catch (RuntimeException e) {
                    FakeHttp.send(exchange, 500, TEXT, "500 Internal Server Error\n\n");
                    return;
                }
                FakeHttp.send(exchange, 200, JSON, body);
            }
            default -> FakeHttp.send(exchange, 404, TEXT, NOT_FOUND_BODY);
        }
    }

    private static Map<String, Object> metaData(Instance instance) {
        Map<String, Object> metadata = new LinkedHashMap<>();
        metadata.put("uuid", instance.uuid());
        if (!instance.meta().isEmpty()) {
            metadata.put("meta", instance.meta());
        }
        metadata.put("hostname", instance.hostname());
        metadata.put("name", instance.name());
        metadata.put("launch_index", 0);
        metadata.put("availability_zone", instance.availabilityZone());
        byte[] seed = new byte[512];
        RANDOM.nextBytes(seed);
        metadata.put("random_seed", Base64.getEncoder().encodeToString(seed));
        metadata.put("project_id", instance.projectId());
        metadata.put("devices", List.of());
        metadata.put("dedicated_cpus", List.of());
        return metadata;
    }

    private static String reason(int status) {
        return switch (status) {
            case 400 -> "Bad Request";
            case 403 -> "Forbidden";
            case 404 -> "Not Found";
            case 500 -> "Internal Server Error";
            case 502 -> "Bad Gateway";
            case 503 -> "Service Unavailable";
            case 504 -> "Gateway Timeout";
            default -> "Error";
        };
    }

    /**
     * The instance the metadata service describes.
     *
     * @param uuid the instance UUID ({@code uuid})
     * @param name the display name ({@code name})
     * @param hostname the hostname ({@code hostname})
     * @param projectId the owning project ({@code project_id})
     * @param availabilityZone {@code availability_zone}
     * @param meta the user metadata ({@code meta})
     */
    public record Instance(String uuid, String name, String hostname, String projectId, String availabilityZone,
            Map<String, String> meta) {
        public Instance {
            Objects.requireNonNull(uuid, "uuid");
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(hostname, "hostname");
            Objects.requireNonNull(projectId, "projectId");
            Objects.requireNonNull(availabilityZone, "availabilityZone");
            meta = Collections.unmodifiableMap(new TreeMap<>(meta));
        }

        /** An instance with a random UUID and a random Keystone-style project ID (32 hex digits), no metadata. */
        public static Instance random() {
            byte[] project = new byte[16];
            RANDOM.nextBytes(project);
            return new Instance(UUID.randomUUID().toString(), "bourne-test", "bourne-test", HexFormat.of()
                    .formatHex(project), "nova", Map.of());
        }

        /** A copy with user metadata {@code meta}. */
        public Instance withMeta(Map<String, String> meta) {
            return new Instance(uuid, name, hostname, projectId, availabilityZone, meta);
        }
    }

    /** One failure mode: a status, a raw body, or a dropped connection (a class: it holds a byte array). */
    private static final class Failure {
        static final Failure NONE = new Failure(0, null, false);

        private final int status;
        private final byte[] rawBody;
        private final boolean drop;

        Failure(int status, byte[] rawBody, boolean drop) {
            this.status = status;
            this.rawBody = rawBody;
            this.drop = drop;
        }

        int status() {
            return status;
        }

        byte[] rawBody() {
            return rawBody;
        }

        boolean drop() {
            return drop;
        }
    }
}
