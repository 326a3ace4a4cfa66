package dev.bourne.testing.openstack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.nimbusds.jose.util.JSONObjectUtils;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The fake metadata service's routing (versions, files, 404) and its test API (vendor data, failure modes). */
class FakeOpenStackMetadataTest {

    private static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    private final FakeOpenStackMetadata metadata = FakeOpenStackMetadata.start(FakeOpenStackMetadata.Instance.random()
            .withMeta(Map.of("role", "web")));

    @AfterEach
    void close() {
        metadata.close();
    }

    private HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return CLIENT.send(HttpRequest.newBuilder(URI.create(metadata.uri() + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void versions_listedOnePerLineEndingWithLatest() throws Exception {
        HttpResponse<String> response = get("/openstack");

        assertEquals(200, response.statusCode());
        List<String> lines = List.of(response.body().split("\n"));
        assertEquals("2012-08-10", lines.get(0));
        assertEquals("latest", lines.get(lines.size() - 1));
        assertTrue(get("/openstack/latest").body().contains("vendor_data2.json"));
        assertFalse(get("/openstack/2015-10-15").body().contains("vendor_data2.json"));
    }

    @Test
    void metaData_realLayout() throws Exception {
        HttpResponse<String> response = get("/openstack/latest/meta_data.json");

        assertEquals(200, response.statusCode());
        assertEquals("application/json", response.headers().firstValue("Content-Type").orElseThrow());
        Map<String, Object> json = JSONObjectUtils.parse(response.body());
        FakeOpenStackMetadata.Instance instance = metadata.instance();
        assertEquals(instance.uuid(), json.get("uuid"));
        assertEquals(instance.projectId(), json.get("project_id"));
        assertEquals(instance.hostname(), json.get("hostname"));
        assertEquals(instance.name(), json.get("name"));
        assertEquals("nova", json.get("availability_zone"));
        assertEquals(Map.of("role", "web"), json.get("meta"));
        assertTrue(json.containsKey("random_seed"));
    }

    @Test
    void vendorData2_supplierCalledOnEveryRequest() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        metadata.vendorData2(() -> FakeOpenStackMetadata.vendorData2With("bourne", "jws-" + calls.incrementAndGet()));

        assertEquals(Map.of("bourne", Map.of("data", "jws-1")),
                JSONObjectUtils.parse(get(FakeOpenStackMetadata.VENDOR_DATA2_PATH).body()));
        assertEquals(Map.of("bourne", Map.of("data", "jws-2")),
                JSONObjectUtils.parse(get("/openstack/2016-10-06/vendor_data2.json").body()));
        assertEquals(metadata.vendorData2Url(), URI.create(metadata.uri() + "/openstack/latest/vendor_data2.json"));
    }

    @Test
    void unknownPaths_404WithWebobBody() throws Exception {
        for (String path : List.of("/openstack/latest/nothing.json", "/openstack/1999-01-01/meta_data.json",
                "/openstack/2015-10-15/vendor_data2.json", "/somewhere", "/openstack/latest/meta_data.json/x")) {
            HttpResponse<String> response = get(path);
            assertEquals(404, response.statusCode(), path);
            assertEquals(FakeOpenStackMetadata.NOT_FOUND_BODY, response.body(), path);
        }
    }

    @Test
    void failureModes_applyUntilHealthy_andRequestsAreRecorded() throws Exception {
        metadata.failWith(503);
        assertEquals(503, get(FakeOpenStackMetadata.VENDOR_DATA2_PATH).statusCode());

        metadata.rawBody(new byte[300_000]);
        HttpResponse<byte[]> raw = CLIENT.send(HttpRequest.newBuilder(metadata.vendorData2Url()).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(300_000, raw.body().length);
        assertTrue(raw.headers().firstValue("Content-Length").isEmpty());

        metadata.dropConnections();
        assertThrows(IOException.class, () -> get(FakeOpenStackMetadata.VENDOR_DATA2_PATH));

        metadata.healthy();
        assertEquals(200, get(FakeOpenStackMetadata.VENDOR_DATA2_PATH).statusCode());
        // The JDK client retries a GET once when the connection drops before an answer: 4 or 5 requests.
        assertTrue(metadata.requestCount() >= 4, "requests: " + metadata.requestCount());
        assertEquals(List.of(FakeOpenStackMetadata.VENDOR_DATA2_PATH), metadata.requestPaths().stream().distinct()
                .toList());
    }
}
