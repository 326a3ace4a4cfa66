package dev.bourne.testing.openstack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.nimbusds.jose.util.JSONObjectUtils;
import dev.bourne.testing.time.MutableClock;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The fake's logic: which credentials Keystone accepts, token validity, and Nova's 200, 401 and 404. */
class FakeNovaTest {

    private static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private static final String PROJECT = "0c4e939acacf4376bdcd1129f1a054ad";

    private final MutableClock clock = MutableClock.at("2026-03-01T10:00:00Z");
    private final FakeNova nova = FakeNova.start(clock);

    @AfterEach
    void close() {
        nova.close();
    }

    static String password(String user, String userDomain, String password, String project) {
        return "{\"auth\": {\"identity\": {\"methods\": [\"password\"], \"password\": {\"user\": {\"name\": \"" + user
                + "\", \"domain\": {\"name\": \"" + userDomain + "\"}, \"password\": \"" + password + "\"}}}, "
                + "\"scope\": {\"project\": {\"name\": \"" + project + "\", \"domain\": {\"name\": \"Default\"}}}}}";
    }

    static String applicationCredential(String id, String secret) {
        return "{\"auth\": {\"identity\": {\"methods\": [\"application_credential\"], \"application_credential\": "
                + "{\"id\": \"" + id + "\", \"secret\": \"" + secret + "\"}}}}";
    }

    private HttpResponse<String> authenticate(String body) throws IOException, InterruptedException {
        return CLIENT.send(HttpRequest.newBuilder(URI.create(nova.identityUrl() + "/auth/tokens"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private String token() throws Exception {
        HttpResponse<String> response = authenticate(password(FakeNova.USER_NAME, FakeNova.USER_DOMAIN_NAME,
                FakeNova.PASSWORD, FakeNova.PROJECT_NAME));
        assertEquals(201, response.statusCode());
        return response.headers().firstValue("X-Subject-Token").orElseThrow();
    }

    private HttpResponse<String> show(String id, String token) throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(nova.computeUrl("RegionOne", "public")
                + "/servers/" + id)).header("Accept", "application/json");
        if (token != null) {
            request.header("X-Auth-Token", token);
        }
        return CLIENT.send(request.GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void password_scoped_201WithTokenAndCatalog() throws Exception {
        HttpResponse<String> response = authenticate(password(FakeNova.USER_NAME, FakeNova.USER_DOMAIN_NAME,
                FakeNova.PASSWORD, FakeNova.PROJECT_NAME));

        assertEquals(201, response.statusCode());
        assertTrue(response.headers().firstValue("X-Subject-Token").isPresent());
        Map<String, Object> token = JSONObjectUtils.getJSONObject(JSONObjectUtils.parse(response.body()), "token");
        assertEquals(List.of("password"), token.get("methods"));
        assertEquals("2026-03-01T11:00:00.000000Z", token.get("expires_at"));
        assertEquals(FakeNova.PROJECT_NAME, JSONObjectUtils.getJSONObject(token, "project").get("name"));
        List<?> compute = ((List<?>) token.get("catalog")).stream().map(Map.class::cast)
                .filter(service -> "compute".equals(service.get("type"))).map(service -> service.get("endpoints"))
                .map(List.class::cast).findFirst().orElseThrow();
        assertEquals(FakeNova.REGIONS.size() * FakeNova.INTERFACES.size(), compute.size());
        Map<?, ?> first = (Map<?, ?>) compute.get(0);
        assertEquals("public", first.get("interface"));
        assertEquals("RegionOne", first.get("region_id"));
        assertEquals(nova.computeUrl("RegionOne", "public").toString(), first.get("url"));
    }

    @Test
    void applicationCredential_201WithCatalog() throws Exception {
        HttpResponse<String> response = authenticate(applicationCredential(FakeNova.APPLICATION_CREDENTIAL_ID,
                FakeNova.APPLICATION_CREDENTIAL_SECRET));

        assertEquals(201, response.statusCode());
        Map<String, Object> token = JSONObjectUtils.getJSONObject(JSONObjectUtils.parse(response.body()), "token");
        assertEquals(List.of("application_credential"), token.get("methods"));
        assertNotNull(token.get("catalog"));
    }

    @Test
    void wrongCredentials_401WithKeystoneBody() throws Exception {
        for (String body : List.of(
                password(FakeNova.USER_NAME, FakeNova.USER_DOMAIN_NAME, "wrong", FakeNova.PROJECT_NAME),
                password("someone", FakeNova.USER_DOMAIN_NAME, FakeNova.PASSWORD, FakeNova.PROJECT_NAME),
                password(FakeNova.USER_NAME, "Other", FakeNova.PASSWORD, FakeNova.PROJECT_NAME),
                password(FakeNova.USER_NAME, FakeNova.USER_DOMAIN_NAME, FakeNova.PASSWORD, "other-project"),
                applicationCredential(FakeNova.APPLICATION_CREDENTIAL_ID, "wrong"),
                applicationCredential("other", FakeNova.APPLICATION_CREDENTIAL_SECRET))) {
            HttpResponse<String> response = authenticate(body);

            assertEquals(401, response.statusCode(), body);
            assertFalse(response.headers().firstValue("X-Subject-Token").isPresent());
            assertEquals(Map.of("error", Map.of("code", 401L, "message", FakeNova.UNAUTHORIZED_MESSAGE, "title",
                    "Unauthorized")), JSONObjectUtils.parse(response.body()));
        }
        assertEquals(6, nova.authCount());
    }

    @Test
    void malformedTokenRequest_400() throws Exception {
        assertEquals(400, authenticate("not json").statusCode());
        assertEquals(400, authenticate("{\"auth\": {}}").statusCode());
    }

    @Test
    void server_validToken_200WithNovaLayout() throws Exception {
        String id = UUID.randomUUID().toString();
        nova.putServer(FakeNova.Server.active(id, PROJECT));

        HttpResponse<String> response = show(id, token());

        assertEquals(200, response.statusCode());
        Map<String, Object> server = JSONObjectUtils.getJSONObject(JSONObjectUtils.parse(response.body()), "server");
        assertEquals(id, server.get("id"));
        assertEquals("ACTIVE", server.get("status"));
        assertEquals("active", server.get("OS-EXT-STS:vm_state"));
        assertEquals(PROJECT, server.get("tenant_id"));
        assertEquals(FakeNova.IMAGE_ID, JSONObjectUtils.getJSONObject(server, "image").get("id"));
        assertEquals(1, nova.serverCallCount());
    }

    @Test
    void server_updatedAndRemoved_followTheTestApi() throws Exception {
        String id = UUID.randomUUID().toString();
        nova.putServer(FakeNova.Server.active(id, PROJECT));
        nova.putServer(nova.server(id).orElseThrow().withStatus("SHUTOFF"));
        String token = token();

        Map<String, Object> server = JSONObjectUtils.getJSONObject(JSONObjectUtils.parse(show(id, token).body()),
                "server");
        assertEquals("SHUTOFF", server.get("status"));
        assertEquals("stopped", server.get("OS-EXT-STS:vm_state"));

        nova.removeServer(id);
        assertEquals(404, show(id, token).statusCode());
    }

    @Test
    void server_unknown_404ItemNotFound() throws Exception {
        String id = UUID.randomUUID().toString();

        HttpResponse<String> response = show(id, token());

        assertEquals(404, response.statusCode());
        assertEquals(Map.of("itemNotFound", Map.of("code", 404L, "message", "Instance " + id
                + " could not be found.")), JSONObjectUtils.parse(response.body()));
    }

    @Test
    void server_noOrUnknownToken_401() throws Exception {
        String id = UUID.randomUUID().toString();
        nova.putServer(FakeNova.Server.active(id, PROJECT));

        assertEquals(401, show(id, null).statusCode());
        assertEquals(401, show(id, "gAAAAAforged").statusCode());
    }

    @Test
    void server_tokenPastExpiry_401() throws Exception {
        String id = UUID.randomUUID().toString();
        nova.putServer(FakeNova.Server.active(id, PROJECT));
        String token = token();
        clock.advance(FakeNova.DEFAULT_TOKEN_LIFETIME.minusSeconds(1));
        assertEquals(200, show(id, token).statusCode());

        clock.advance(Duration.ofSeconds(1));

        assertEquals(401, show(id, token).statusCode());
    }

    @Test
    void server_expireTokens_401UntilReauthenticated() throws Exception {
        String id = UUID.randomUUID().toString();
        nova.putServer(FakeNova.Server.active(id, PROJECT));
        String token = token();

        nova.expireTokens();

        assertEquals(401, show(id, token).statusCode());
        assertEquals(200, show(id, token()).statusCode());
    }

    @Test
    void server_unscopedToken_403() throws Exception {
        String id = UUID.randomUUID().toString();
        nova.putServer(FakeNova.Server.active(id, PROJECT));
        String unscoped = "{\"auth\": {\"identity\": {\"methods\": [\"password\"], \"password\": {\"user\": "
                + "{\"name\": \"" + FakeNova.USER_NAME + "\", \"domain\": {\"name\": \"Default\"}, \"password\": \""
                + FakeNova.PASSWORD + "\"}}}}}";
        HttpResponse<String> response = authenticate(unscoped);
        assertEquals(201, response.statusCode());
        assertFalse(JSONObjectUtils.getJSONObject(JSONObjectUtils.parse(response.body()), "token")
                .containsKey("catalog"));

        assertEquals(403, show(id, response.headers().firstValue("X-Subject-Token").orElseThrow()).statusCode());
    }

    @Test
    void failureModes_answerAsSet_thenHealthy() throws Exception {
        String id = UUID.randomUUID().toString();
        nova.putServer(FakeNova.Server.active(id, PROJECT));
        String token = token();

        nova.failServersWith(500);
        HttpResponse<String> failed = show(id, token);
        assertEquals(500, failed.statusCode());
        assertTrue(JSONObjectUtils.parse(failed.body()).containsKey("computeFault"));
        nova.failAuthWith(503);
        assertEquals(503, authenticate(password(FakeNova.USER_NAME, FakeNova.USER_DOMAIN_NAME, FakeNova.PASSWORD,
                FakeNova.PROJECT_NAME)).statusCode());

        nova.healthy();
        assertEquals(200, show(id, token).statusCode());

        nova.down();
        assertThrows(IOException.class, () -> show(id, token));
    }

    @Test
    void server_recordsTheEndpointUsed() throws Exception {
        String id = UUID.randomUUID().toString();
        nova.putServer(FakeNova.Server.active(id, PROJECT));
        String token = token();

        CLIENT.send(HttpRequest.newBuilder(URI.create(nova.computeUrl("RegionTwo", "internal") + "/servers/" + id))
                .header("X-Auth-Token", token).build(), HttpResponse.BodyHandlers.ofString());

        assertEquals(List.of(nova.computeUrl("RegionTwo", "internal").getPath() + "/servers/" + id),
                nova.serverRequestPaths());
    }

    @Test
    void server_createdTimeInNovaFormat() throws Exception {
        String id = UUID.randomUUID().toString();
        nova.putServer(new FakeNova.Server(id, "BUILD", PROJECT, "web-1", Map.of("role", "web"),
                Instant.parse("2026-02-01T08:30:00Z")));

        Map<String, Object> server = JSONObjectUtils.getJSONObject(JSONObjectUtils.parse(show(id, token()).body()),
                "server");

        assertEquals("2026-02-01T08:30:00Z", server.get("created"));
        assertEquals(Map.of("role", "web"), server.get("metadata"));
        assertEquals("building", server.get("OS-EXT-STS:vm_state"));
    }
}
