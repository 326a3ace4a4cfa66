package dev.bourne.openstack.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bourne.core.config.ConfigSecret;
import dev.bourne.openstack.server.NovaServers.NovaServer;
import dev.bourne.testing.openstack.FakeNova;
import dev.bourne.testing.pki.TestCa;
import dev.bourne.testing.pki.TestKeys;
import dev.bourne.testing.time.MutableClock;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The production Nova client against the fake Keystone and Nova over real sockets: both authentication methods,
 * endpoint selection, token reuse and renewal, every way Keystone or Nova can fail, and that no failure message
 * carries a secret.
 */
class KeystoneNovaServersTest {

    private static final String PROJECT = "0c4e939acacf4376bdcd1129f1a054ad";
    private static final Duration TIMEOUT = Duration.ofSeconds(5);
    /** Short enough to keep the slow tests quick, long enough for a loaded machine's loopback. */
    private static final Duration SHORT_TIMEOUT = Duration.ofMillis(300);

    private final MutableClock clock = MutableClock.at("2026-03-01T10:00:00Z");
    private final FakeNova nova = FakeNova.start(clock);
    private final String instance = UUID.randomUUID().toString();
    private final List<String> messages = new ArrayList<>();

    @AfterEach
    void close() {
        nova.close();
        // Every failure message seen in this test: none may carry a credential or a token.
        List<String> secrets = new ArrayList<>(List.of(FakeNova.PASSWORD, FakeNova.APPLICATION_CREDENTIAL_SECRET));
        secrets.addAll(nova.issuedTokens());
        for (String message : messages) {
            for (String secret : secrets) {
                assertFalse(message.contains(secret), "a secret in: " + message);
            }
        }
    }

    static NovaSettings.Auth password() {
        return new NovaSettings.PasswordAuth(FakeNova.USER_NAME, FakeNova.USER_DOMAIN_NAME,
                new ConfigSecret(FakeNova.PASSWORD), FakeNova.PROJECT_NAME, FakeNova.PROJECT_DOMAIN_NAME);
    }

    static NovaSettings.Auth applicationCredential() {
        return new NovaSettings.ApplicationCredentialAuth(FakeNova.APPLICATION_CREDENTIAL_ID,
                new ConfigSecret(FakeNova.APPLICATION_CREDENTIAL_SECRET));
    }

    private NovaSettings settings(NovaSettings.Auth auth) {
        return new NovaSettings(nova.identityUrl(), auth, Optional.empty(), "public", Optional.empty(),
                Optional.empty(), TIMEOUT);
    }

    private KeystoneNovaServers client(NovaSettings settings) {
        return new KeystoneNovaServers(settings, clock);
    }

    private KeystoneNovaServers client() {
        return client(settings(password()));
    }

    /** The failure of {@code find(instance)}, its message (and its causes') kept for the secrets check. */
    private NovaUnavailableException failure(KeystoneNovaServers client) {
        NovaUnavailableException e = assertThrows(NovaUnavailableException.class, () -> client.find(instance));
        for (Throwable t = e; t != null; t = t.getCause()) {
            messages.add(String.valueOf(t.getMessage()));
            messages.add(t.toString());
        }
        return e;
    }

    private String lastComputePath() {
        List<String> paths = nova.serverRequestPaths();
        return paths.get(paths.size() - 1);
    }

    // what works -------------------------------------------------------------------------------------------------

    @Test
    void find_password_activeServer() throws Exception {
        nova.putServer(FakeNova.Server.active(instance, PROJECT));

        assertEquals(Optional.of(new NovaServer(instance, "ACTIVE", PROJECT)), client().find(instance));
    }

    @Test
    void find_applicationCredential_activeServer() throws Exception {
        nova.putServer(FakeNova.Server.active(instance, PROJECT).withStatus("SHUTOFF"));

        assertEquals(Optional.of(new NovaServer(instance, "SHUTOFF", PROJECT)),
                client(settings(applicationCredential())).find(instance));
    }

    @Test
    void find_unknownInstance_empty() throws Exception {
        assertEquals(Optional.empty(), client().find(instance));
        assertEquals(1, nova.serverCallCount());
    }

    @Test
    void find_noRegion_firstEndpointOfTheInterface() throws Exception {
        nova.putServer(FakeNova.Server.active(instance, PROJECT));
        NovaSettings settings = new NovaSettings(nova.identityUrl(), password(), Optional.empty(), "internal",
                Optional.empty(), Optional.empty(), TIMEOUT);

        client(settings).find(instance);

        assertEquals(nova.computeUrl("RegionOne", "internal").getPath() + "/servers/" + instance, lastComputePath());
    }

    @Test
    void find_regionAndInterface_thatEndpoint() throws Exception {
        nova.putServer(FakeNova.Server.active(instance, PROJECT));
        NovaSettings settings = new NovaSettings(nova.identityUrl(), password(), Optional.of("RegionTwo"), "admin",
                Optional.empty(), Optional.empty(), TIMEOUT);

        client(settings).find(instance);

        assertEquals(nova.computeUrl("RegionTwo", "admin").getPath() + "/servers/" + instance, lastComputePath());
    }

    @Test
    void find_computeUrl_overridesTheCatalog() throws Exception {
        nova.putServer(FakeNova.Server.active(instance, PROJECT));
        URI override = URI.create(nova.computeUrl("RegionTwo", "internal") + "/");
        NovaSettings settings = new NovaSettings(nova.identityUrl(), password(), Optional.of("RegionOne"), "public",
                Optional.of(override), Optional.empty(), TIMEOUT);

        client(settings).find(instance);

        assertEquals(nova.computeUrl("RegionTwo", "internal").getPath() + "/servers/" + instance, lastComputePath());
    }

    @Test
    void find_identityUrlWithTrailingSlash_works() throws Exception {
        NovaSettings settings = new NovaSettings(URI.create(nova.identityUrl() + "/"), password(), Optional.empty(),
                "public", Optional.empty(), Optional.empty(), TIMEOUT);

        assertEquals(Optional.empty(), client(settings).find(instance));
    }

    @Test
    void find_severalCalls_oneAuthentication() throws Exception {
        nova.putServer(FakeNova.Server.active(instance, PROJECT));
        KeystoneNovaServers client = client();

        for (int i = 0; i < 5; i++) {
            client.find(instance);
            clock.advance(Duration.ofMinutes(10));
        }

        assertEquals(1, nova.authCount());
        assertEquals(5, nova.serverCallCount());
    }

    @Test
    void find_concurrentCalls_oneAuthentication() throws Exception {
        nova.putServer(FakeNova.Server.active(instance, PROJECT));
        KeystoneNovaServers client = client();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<Optional<NovaServer>>> results = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                results.add(pool.submit(() -> client.find(instance)));
            }
            for (Future<Optional<NovaServer>> result : results) {
                assertEquals("ACTIVE", result.get().orElseThrow().status());
            }
        } finally {
            pool.shutdownNow();
        }

        assertEquals(1, nova.authCount());
    }

    @Test
    void find_tokenNearExpiry_authenticatesAgainBeforeUse() throws Exception {
        nova.putServer(FakeNova.Server.active(instance, PROJECT));
        KeystoneNovaServers client = client();
        client.find(instance);
        clock.advance(FakeNova.DEFAULT_TOKEN_LIFETIME.minus(KeystoneNovaServers.TOKEN_REFRESH_MARGIN).minusSeconds(1));
        client.find(instance);
        assertEquals(1, nova.authCount());

        clock.advance(Duration.ofSeconds(1));
        client.find(instance);

        assertEquals(2, nova.authCount());
        assertEquals(3, nova.serverCallCount(), "the old token is not even tried");
    }

    @Test
    void find_tokenRevoked_reauthenticatesOnceAndSucceeds() throws Exception {
        nova.putServer(FakeNova.Server.active(instance, PROJECT));
        KeystoneNovaServers client = client();
        client.find(instance);

        nova.expireTokens();

        assertEquals("ACTIVE", client.find(instance).orElseThrow().status());
        assertEquals(2, nova.authCount());
        assertEquals(3, nova.serverCallCount());
    }

    @Test
    void find_freshTokenRefusedToo_failsAfterOneRetry() {
        nova.failServersWith(401);

        NovaUnavailableException e = failure(client());

        assertEquals(KeystoneNovaServers.NOVA_REFUSED_TOKEN, e.getMessage());
        assertEquals(2, nova.authCount());
        assertEquals(2, nova.serverCallCount());
    }

    @Test
    void find_https_trustsTheCaFile(@TempDir Path dir) throws Exception {
        TestCa ca = TestCa.root("nova.test");
        KeyPair keys = TestKeys.ecP256(7);
        X509Certificate certificate = ca.leafSpec("spiffe://nova.test/keystone", keys.getPublic())
                .dnsNames("localhost").issue();
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        char[] storePassword = "test".toCharArray();
        store.setKeyEntry("tls", keys.getPrivate(), storePassword, new Certificate[] {certificate, ca.certificate()});
        KeyManagerFactory keyManagers = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        keyManagers.init(store, storePassword);
        SSLContext tls = SSLContext.getInstance("TLS");
        tls.init(keyManagers.getKeyManagers(), null, null);
        Path caFile = dir.resolve("ca.pem");
        Files.writeString(caFile, pem(ca.certificate()));
        try (FakeNova https = FakeNova.startHttps(clock, tls)) {
            https.putServer(FakeNova.Server.active(instance, PROJECT));
            NovaSettings trusted = new NovaSettings(https.identityUrl(), password(), Optional.empty(), "public",
                    Optional.empty(), Optional.of(caFile), TIMEOUT);
            NovaSettings systemTrust = new NovaSettings(https.identityUrl(), password(), Optional.empty(), "public",
                    Optional.empty(), Optional.empty(), TIMEOUT);

            assertEquals("ACTIVE", new KeystoneNovaServers(trusted, clock).find(instance).orElseThrow().status());

            NovaUnavailableException untrusted = failure(new KeystoneNovaServers(systemTrust, clock));
            assertTrue(untrusted.getMessage().startsWith(String.format(KeystoneNovaServers.KEYSTONE_TLS,
                    https.identityUrl() + "/auth/tokens", "")), untrusted.getMessage());
        }
    }

    private static String pem(X509Certificate certificate) throws Exception {
        return "-----BEGIN CERTIFICATE-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(certificate.getEncoded()) + "\n-----END CERTIFICATE-----\n";
    }

    @Test
    void construct_badCaFile_namesTheFile(@TempDir Path dir) throws IOException {
        Path missing = dir.resolve("missing.pem");
        Path empty = Files.writeString(dir.resolve("empty.pem"), "no certificate here\n");

        IllegalArgumentException unreadable = assertThrows(IllegalArgumentException.class, () -> client(
                new NovaSettings(nova.identityUrl(), password(), Optional.empty(), "public", Optional.empty(),
                        Optional.of(missing), TIMEOUT)));
        IllegalArgumentException noCertificate = assertThrows(IllegalArgumentException.class, () -> client(
                new NovaSettings(nova.identityUrl(), password(), Optional.empty(), "public", Optional.empty(),
                        Optional.of(empty), TIMEOUT)));

        assertTrue(unreadable.getMessage().startsWith(String.format(KeystoneNovaServers.CA_FILE_UNREADABLE, missing,
                "")), unreadable.getMessage());
        assertEquals(String.format(KeystoneNovaServers.CA_FILE_NO_CERTIFICATE, empty), noCertificate.getMessage());
    }

    // what is refused --------------------------------------------------------------------------------------------

    @Test
    void find_instanceIdNotAUuid_refusedBeforeAnyRequest() {
        for (String id : List.of("", "../../v3/users", instance + "/action", instance + "?all_tenants=1",
                instance + "#x", "0e44cc9c-e052-415d-afbf-469b0d38417", "0e44cc9c%2Fe052-415d-afbf-469b0d384170")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> client().find(id), id);
            assertEquals(KeystoneNovaServers.INSTANCE_ID_INVALID, e.getMessage());
        }
        assertEquals(0, nova.authCount());
        assertEquals(0, nova.serverCallCount());
    }

    @Test
    void find_wrongPassword_refused() {
        NovaSettings settings = settings(new NovaSettings.PasswordAuth(FakeNova.USER_NAME, FakeNova.USER_DOMAIN_NAME,
                new ConfigSecret("not-" + FakeNova.PASSWORD), FakeNova.PROJECT_NAME, FakeNova.PROJECT_DOMAIN_NAME));

        NovaUnavailableException e = failure(client(settings));

        assertEquals(KeystoneNovaServers.KEYSTONE_REFUSED, e.getMessage());
        assertEquals(0, nova.serverCallCount());
    }

    @Test
    void find_wrongApplicationCredentialSecret_refused() {
        NovaSettings settings = settings(new NovaSettings.ApplicationCredentialAuth(FakeNova.APPLICATION_CREDENTIAL_ID,
                new ConfigSecret("wrong-secret")));

        assertEquals(KeystoneNovaServers.KEYSTONE_REFUSED, failure(client(settings)).getMessage());
    }

    @Test
    void find_keystone500_unavailable() {
        nova.failAuthWith(500);

        assertEquals(String.format(KeystoneNovaServers.KEYSTONE_STATUS, 500), failure(client()).getMessage());
    }

    @Test
    void find_nova500_unavailable() {
        nova.failServersWith(500);

        assertEquals(String.format(KeystoneNovaServers.NOVA_STATUS, 500), failure(client()).getMessage());
    }

    @Test
    void find_nova503_unavailable() {
        nova.failServersWith(503);

        assertEquals(String.format(KeystoneNovaServers.NOVA_STATUS, 503), failure(client()).getMessage());
    }

    @Test
    void find_keystoneSlow_timesOut() {
        nova.delay(SHORT_TIMEOUT.multipliedBy(4));
        NovaSettings settings = new NovaSettings(nova.identityUrl(), password(), Optional.empty(), "public",
                Optional.empty(), Optional.empty(), SHORT_TIMEOUT);

        NovaUnavailableException e = failure(client(settings));

        assertEquals(String.format(KeystoneNovaServers.KEYSTONE_TIMEOUT, nova.identityUrl() + "/auth/tokens",
                "300ms"), e.getMessage());
    }

    @Test
    void find_novaSlow_timesOut() throws Exception {
        NovaSettings settings = new NovaSettings(nova.identityUrl(), password(), Optional.empty(), "public",
                Optional.empty(), Optional.empty(), SHORT_TIMEOUT);
        KeystoneNovaServers client = client(settings);
        client.find(instance);
        nova.delay(SHORT_TIMEOUT.multipliedBy(4));

        NovaUnavailableException e = failure(client);

        assertEquals(String.format(KeystoneNovaServers.NOVA_TIMEOUT, nova.computeUrl("RegionOne", "public"),
                "300ms"), e.getMessage());
    }

    @Test
    void find_keystoneDown_unreachable() {
        KeystoneNovaServers client = client();
        nova.down();

        NovaUnavailableException e = failure(client);

        assertTrue(e.getMessage().startsWith(String.format(KeystoneNovaServers.KEYSTONE_UNREACHABLE,
                nova.identityUrl() + "/auth/tokens", "")), e.getMessage());
    }

    @Test
    void find_novaDown_unreachable() throws Exception {
        KeystoneNovaServers client = client();
        client.find(instance);
        nova.down();

        NovaUnavailableException e = failure(client);

        assertTrue(e.getMessage().startsWith(String.format(KeystoneNovaServers.NOVA_UNREACHABLE,
                nova.computeUrl("RegionOne", "public"), "")), e.getMessage());
    }

    @Test
    void find_noEndpointForTheRegion_unavailable() {
        NovaSettings settings = new NovaSettings(nova.identityUrl(), password(), Optional.of("RegionThree"),
                "public", Optional.empty(), Optional.empty(), TIMEOUT);

        assertEquals(String.format(KeystoneNovaServers.NO_COMPUTE_ENDPOINT, "public", " in region RegionThree"),
                failure(client(settings)).getMessage());
    }

    static Stream<Arguments> malformedTokens() {
        String expires = "\"expires_at\": \"2026-03-01T11:00:00.000000Z\"";
        String computeCatalog = "\"catalog\": [{\"type\": \"compute\", \"endpoints\": [{\"interface\": \"public\", "
                + "\"region_id\": \"RegionOne\", \"url\": \"%s\"}]}]";
        return Stream.of(
                Arguments.of("not json", malformedToken(KeystoneNovaServers.TOKEN_NOT_JSON)),
                Arguments.of("[]", malformedToken(KeystoneNovaServers.TOKEN_NOT_JSON)),
                Arguments.of("{}", malformedToken(KeystoneNovaServers.TOKEN_NO_TOKEN)),
                Arguments.of("{\"token\": \"x\"}", malformedToken(KeystoneNovaServers.TOKEN_NO_TOKEN)),
                Arguments.of("{\"token\": {}}", malformedToken(KeystoneNovaServers.TOKEN_NO_EXPIRY)),
                Arguments.of("{\"token\": {\"expires_at\": \"tomorrow\"}}",
                        malformedToken(KeystoneNovaServers.TOKEN_NO_EXPIRY)),
                Arguments.of("{\"token\": {\"expires_at\": 1772362800}}",
                        malformedToken(KeystoneNovaServers.TOKEN_NO_EXPIRY)),
                Arguments.of("{\"token\": {\"expires_at\": \"2026-03-01T09:59:59.000000Z\"}}",
                        malformedToken(KeystoneNovaServers.TOKEN_EXPIRED)),
                Arguments.of("{\"token\": {" + expires + "}}", malformedToken(KeystoneNovaServers.TOKEN_NO_CATALOG)),
                Arguments.of("{\"token\": {" + expires + ", \"catalog\": {}}}",
                        malformedToken(KeystoneNovaServers.TOKEN_NO_CATALOG)),
                Arguments.of("{\"token\": {" + expires + ", \"catalog\": [1, \"x\", {\"type\": \"image\"}]}}",
                        String.format(KeystoneNovaServers.NO_COMPUTE_ENDPOINT, "public", "")),
                Arguments.of("{\"token\": {" + expires + ", " + String.format(computeCatalog, "ftp://nova/v2.1") + "}}",
                        malformedToken(KeystoneNovaServers.TOKEN_BAD_COMPUTE_URL)),
                Arguments.of("{\"token\": {" + expires + ", " + String.format(computeCatalog, "/v2.1") + "}}",
                        malformedToken(KeystoneNovaServers.TOKEN_BAD_COMPUTE_URL)),
                Arguments.of("{\"token\": {" + expires + ", " + String.format(computeCatalog, "http://nova/v2.1?x=1")
                        + "}}", malformedToken(KeystoneNovaServers.TOKEN_BAD_COMPUTE_URL)),
                Arguments.of("{\"token\": {" + expires + ", \"catalog\": [" + ("{\"x\": \"" + "a".repeat(1024)
                        + "\"},").repeat(1100) + "{}]}}", KeystoneNovaServers.KEYSTONE_TOO_LARGE),
                Arguments.of("[".repeat(100_000), malformedToken(KeystoneNovaServers.TOKEN_NOT_JSON)));
    }

    private static String malformedToken(String reason) {
        return String.format(KeystoneNovaServers.KEYSTONE_MALFORMED, reason);
    }

    @ParameterizedTest
    @MethodSource("malformedTokens")
    void find_malformedTokenAnswer_unavailable(String body, String expected) {
        nova.rawTokenBody(body);

        assertEquals(expected, failure(client()).getMessage());
        assertEquals(0, nova.serverCallCount());
    }

    static Stream<Arguments> malformedServers() {
        return Stream.of(
                Arguments.of("not json", malformedServer(KeystoneNovaServers.SERVER_NOT_JSON)),
                Arguments.of("", malformedServer(KeystoneNovaServers.SERVER_NOT_JSON)),
                Arguments.of("{}", malformedServer(KeystoneNovaServers.SERVER_NO_SERVER)),
                Arguments.of("{\"server\": []}", malformedServer(KeystoneNovaServers.SERVER_NO_SERVER)),
                Arguments.of("{\"server\": {\"id\": \"%1$s\", \"status\": \"ACTIVE\"}}",
                        malformedServer(String.format(KeystoneNovaServers.SERVER_NO_FIELD, "tenant_id"))),
                Arguments.of("{\"server\": {\"id\": \"%1$s\", \"tenant_id\": \"p\"}}",
                        malformedServer(String.format(KeystoneNovaServers.SERVER_NO_FIELD, "status"))),
                Arguments.of("{\"server\": {\"status\": \"ACTIVE\", \"tenant_id\": \"p\"}}",
                        malformedServer(String.format(KeystoneNovaServers.SERVER_NO_FIELD, "id"))),
                Arguments.of("{\"server\": {\"id\": \"%1$s\", \"status\": 1, \"tenant_id\": \"p\"}}",
                        malformedServer(String.format(KeystoneNovaServers.SERVER_NO_FIELD, "status"))),
                Arguments.of("{\"server\": {\"id\": \"%1$s\", \"status\": \"ACTIVE\", \"tenant_id\": null}}",
                        malformedServer(String.format(KeystoneNovaServers.SERVER_NO_FIELD, "tenant_id"))),
                Arguments.of("{\"server\": {\"id\": \"" + UUID.randomUUID() + "\", \"status\": \"ACTIVE\", "
                        + "\"tenant_id\": \"p\"}}", malformedServer(KeystoneNovaServers.SERVER_OTHER_INSTANCE)),
                Arguments.of("{\"server\": {\"id\": \"%1$s\", \"status\": \"ACTIVE\", \"tenant_id\": \"p\", "
                        + "\"metadata\": {\"k\": \"" + "v".repeat(KeystoneNovaServers.MAX_SERVER_BYTES) + "\"}}}",
                        KeystoneNovaServers.NOVA_TOO_LARGE));
    }

    private static String malformedServer(String reason) {
        return String.format(KeystoneNovaServers.NOVA_MALFORMED, reason);
    }

    @ParameterizedTest
    @MethodSource("malformedServers")
    void find_malformedServerAnswer_unavailable(String body, String expected) {
        nova.rawServerBody(String.format(body, instance));

        assertEquals(expected, failure(client()).getMessage());
    }

    @Test
    void toString_namesKeystoneOnly() {
        String text = client().toString();

        assertTrue(text.contains(nova.identityUrl().toString()));
        assertFalse(text.contains(FakeNova.PASSWORD));
    }
}
