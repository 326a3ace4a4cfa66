package dev.bourne.appliance.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bourne.api.v1.AttestAgentResponse;
import dev.bourne.core.bundle.BundleSource;
import dev.bourne.core.config.ServerSettings;
import dev.bourne.core.svid.x509.X509SvidVerifier;
import dev.bourne.testing.hsm.SoftHsmToken;
import dev.bourne.testing.hsm.WithSoftHsm;
import dev.bourne.testing.pki.TestKeys;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The server with its CA keys on a SoftHSM2 token through the pkcs11 key manager: ready, and attesting agents. */
@WithSoftHsm
class SoftHsmServerTest {
    private final SoftHsmToken token;

    @TempDir
    Path dir;

    SoftHsmServerTest(SoftHsmToken token) {
        this.token = token;
    }

    @Test
    void pkcs11KeyManager_readyAndIssuing() throws Exception {
        ServerSettings settings = TestServers.settings(dir, """
                DataStore "sql" {
                    plugin_data {
                        database_type = "sqlite3"
                        connection_string = "%s"
                    }
                }
                KeyManager "pkcs11" {
                    plugin_data {
                        library = "%s"
                        token_label = "%s"
                        pin_file = "%s"
                    }
                }
                """.formatted(dir.resolve("data/datastore.sqlite3"), token.library(), token.label(),
                token.pinFile()));
        try (BourneServer server = BourneServer.start(settings, Clock.systemUTC())) {
            HttpResponse<String> ready = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
                    "http://127.0.0.1:" + server.healthPort().orElseThrow() + "/ready")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, ready.statusCode(), ready.body());
            assertEquals(List.of(), server.notReady());
            assertTrue(server.metrics().scrape().contains("bourne_key_manager_active{key_manager=\"pkcs11\"} 1.0"));

            server.dataStore().createJoinToken("hsm-token", Instant.now().plusSeconds(600));
            try (AgentClient client = AgentClient.connect(server.agentApiPort().orElseThrow(),
                    server.ca().orElseThrow().bundle())) {
                AttestAgentResponse.Result result = client.attestJoinToken("hsm-token", TestKeys.freshEcP256());
                assertEquals("spiffe://example.org/spire/agent/join_token/hsm-token", new X509SvidVerifier(
                        BundleSource.of(List.of(server.ca().orElseThrow().bundle())), Clock.systemUTC())
                        .verify(AgentClient.chain(result.getSvid())).spiffeId().toString());
            }
        }
    }
}
