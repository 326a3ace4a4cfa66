package dev.bourne.appliance.server;

import static dev.bourne.appliance.federation.FederationTestPki.ENDPOINT_ID;
import static dev.bourne.appliance.federation.FederationTestPki.ENDPOINT_KEY;
import static dev.bourne.appliance.federation.FederationTestPki.PEER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bourne.appliance.admin.AdminServices;
import dev.bourne.appliance.cli.ServerCli;
import dev.bourne.appliance.federation.FederationPeer;
import dev.bourne.appliance.federation.FederationTestPki;
import dev.bourne.core.bundle.SpiffeBundle;
import dev.bourne.testing.pki.TestCa;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The federation client inside a running server: a relationship created with the CLI over the admin socket is
 * fetched on the server's own schedule, and the client stops with the server.
 */
class FederationServerTest {
    @TempDir
    Path dir;

    @Test
    void relationshipCreatedWithTheCli_isFetchedByTheRunningServer() throws Exception {
        TestCa peerCa = FederationTestPki.ca("peer.org", 11);
        SpiffeBundle served = FederationTestPki.bundle(peerCa, 3, Duration.ofMinutes(5));
        Path pem = dir.resolve("peer.pem");
        Files.writeString(pem, "-----BEGIN CERTIFICATE-----\n"
                + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(peerCa.certificate().getEncoded())
                + "\n-----END CERTIFICATE-----\n");
        try (FederationPeer peer = FederationPeer.start(ENDPOINT_KEY,
                        FederationTestPki.svid(peerCa, ENDPOINT_ID.toString()));
                BourneServer server = BourneServer.start(TestServers.sqliteMemory(dir), Clock.systemUTC(),
                        new SecureRandom(), AdminServices::create)) {
            peer.serve(served);
            assertTrue(server.federation().isPresent());
            StringWriter out = new StringWriter();
            StringWriter err = new StringWriter();
            int code = ServerCli.execute(new ServerCli(Map.of(), p -> false, Clock.systemUTC()), new PrintWriter(out),
                    new PrintWriter(err), "federation", "create", "-trustDomain", "peer.org", "-bundleEndpointURL",
                    peer.url().toString(), "-bundleEndpointProfile", "https_spiffe", "-endpointSpiffeID",
                    ENDPOINT_ID.toString(), "-trustDomainBundlePath", pem.toString(), "-socketPath",
                    server.settings().socketPath().toString());
            assertEquals(0, code, err.toString());

            // No refresh asked for: the server's schedule fetches a new relationship at once (bounded wait).
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (!server.dataStore().getBundle(PEER).equals(Optional.of(served)) && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertEquals(Optional.of(served), server.dataStore().getBundle(PEER));
            assertTrue(server.metrics().scrape().contains(
                    "bourne_federation_bundle_fetches_total{result=\"stored\",trust_domain=\"peer.org\"} 1.0"));
            assertTrue(server.federation().orElseThrow().nextAttempt(PEER).isPresent());
        }
    }
}
