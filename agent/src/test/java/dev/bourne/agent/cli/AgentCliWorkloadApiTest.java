package dev.bourne.agent.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jwt.SignedJWT;
import dev.bourne.agent.workloadapi.WorkloadX509Svid;
import dev.bourne.core.svid.x509.X509Svid;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The client commands against E's real Workload API server on a Unix socket. */
class AgentCliWorkloadApiTest {
    @TempDir
    Path dir;
    private CliTestAgent agent;
    private String socket;

    @BeforeEach
    void start() throws Exception {
        agent = new CliTestAgent(dir.resolve("api.sock"));
        socket = agent.server.socketPath().toString();
    }

    @AfterEach
    void stop() throws Exception {
        agent.close();
    }

    private static List<X509Certificate> pemCertificates(Path file) throws Exception {
        List<X509Certificate> certs = new ArrayList<>();
        for (var c : CertificateFactory.getInstance("X.509")
                .generateCertificates(new ByteArrayInputStream(Files.readAllBytes(file)))) {
            certs.add((X509Certificate) c);
        }
        return certs;
    }

    @Test
    void fetchX509_printsIdSerialExpiryAndBundle() throws Exception {
        WorkloadX509Svid svid = agent.serve(CliTestAgent.WEB);
        CliRun run = CliRun.run("api", "fetch", "x509", "-socketPath", socket);
        assertEquals(AgentCli.OK, run.code(), run.err());
        assertTrue(run.out().contains("SPIFFE ID:        spiffe://example.org/web"), run.out());
        assertTrue(run.out().contains(svid.chain().get(0).getSerialNumber().toString(16)), run.out());
        assertTrue(run.out().contains("Valid until:      " + svid.chain().get(0).getNotAfter().toInstant()));
        assertTrue(run.out().contains("Bundle CA #1:"), run.out());
        assertTrue(run.out().contains("Federated bundle: spiffe://partner.org (1 CA certificate(s))"), run.out());
    }

    @Test
    void fetchX509_write_writesSpireLayoutWithAPrivateKeyFile() throws Exception {
        WorkloadX509Svid svid = agent.serve(CliTestAgent.WEB);
        Path out = Files.createDirectory(dir.resolve("out"));

        CliRun run = CliRun.run("api", "fetch", "x509", "-socketPath", socket, "-write", out.toString());

        assertEquals(AgentCli.OK, run.code(), run.err());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(out.resolve("svid.0.key"))));
        assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(out.resolve("svid.0.pem"))));
        List<X509Certificate> chain = pemCertificates(out.resolve("svid.0.pem"));
        assertEquals(svid.chain(), chain);
        assertEquals(CliTestAgent.WEB, X509Svid.parse(chain).spiffeId());
        assertEquals(List.of(agent.ca.certificate()), pemCertificates(out.resolve("bundle.0.pem")));
        assertEquals(List.of(agent.partnerCa.certificate()), pemCertificates(out.resolve("federated_bundle.0.0.pem")));

        String keyPem = Files.readString(out.resolve("svid.0.key"), StandardCharsets.US_ASCII);
        assertTrue(keyPem.startsWith("-----BEGIN PRIVATE KEY-----\n"), keyPem.substring(0, 30));
        byte[] pkcs8 = Base64.getMimeDecoder().decode(keyPem.replace("-----BEGIN PRIVATE KEY-----", "")
                .replace("-----END PRIVATE KEY-----", "").strip());
        assertArrayEquals(svid.key().pkcs8(), pkcs8);
        // The written key signs what the written certificate verifies (a pair nginx can load).
        PrivateKey key = KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
        Signature signer = Signature.getInstance("SHA256withECDSA");
        signer.initSign(key);
        signer.update("x".getBytes(StandardCharsets.UTF_8));
        Signature verifier = Signature.getInstance("SHA256withECDSA");
        verifier.initVerify(chain.get(0).getPublicKey());
        verifier.update("x".getBytes(StandardCharsets.UTF_8));
        assertTrue(verifier.verify(signer.sign()));
        try (var files = Files.list(out)) {
            assertEquals(4, files.count());
        }
    }

    @Test
    void fetchX509_findsTheSocketThroughSpiffeEndpointSocket() throws Exception {
        agent.serve(CliTestAgent.WEB);
        CliRun run = CliRun.run(Map.of(SocketDiscovery.ENV, "unix://" + socket), p -> false, "api", "fetch", "x509");
        assertEquals(AgentCli.OK, run.code(), run.err());
        assertTrue(run.out().contains("spiffe://example.org/web"));
    }

    @Test
    void fetchX509_withoutIdentity_failsNamingTheUid() throws Exception {
        agent.serveNothing();
        CliRun run = CliRun.run("api", "fetch", "x509", "-socketPath", socket);
        assertEquals(AgentCli.FAILED, run.code());
        assertTrue(run.err().contains(AgentCli.NO_IDENTITY), run.err());
    }

    @Test
    void fetchJwt_printsATokenSignedByTheBundlesJwtAuthority() throws Exception {
        agent.serve(CliTestAgent.WEB);
        CliRun run = CliRun.run("api", "fetch", "jwt", "-socketPath", socket, "-audience", "db,cache");
        assertEquals(AgentCli.OK, run.code(), run.err());
        String token = run.out().lines().filter(l -> l.startsWith("Token:")).findFirst().orElseThrow()
                .substring("Token:".length()).strip();
        SignedJWT jwt = SignedJWT.parse(token);
        assertTrue(jwt.verify(new ECDSAVerifier((ECPublicKey) agent.jwtKey.getPublic())));
        assertEquals("spiffe://example.org/web", jwt.getJWTClaimsSet().getSubject());
        assertEquals(List.of("db", "cache"), jwt.getJWTClaimsSet().getAudience());
        assertTrue(run.out().contains("Bundle of spiffe://example.org:"), run.out());
        assertTrue(run.out().contains("\"kid\":\"" + CliTestAgent.JWT_KID + "\""), run.out());
    }

    @Test
    void validateJwt_acceptsAGoodTokenAndRejectsAnotherAudience() throws Exception {
        agent.serve(CliTestAgent.WEB);
        String token = agent.sign(CliTestAgent.WEB, List.of("db"));

        CliRun good = CliRun.run("api", "validate", "jwt", "-socketPath", socket, "-audience", "db", "-svid", token);
        assertEquals(AgentCli.OK, good.code(), good.err());
        assertTrue(good.out().contains("SPIFFE ID: spiffe://example.org/web"), good.out());
        assertTrue(good.out().contains("\"aud\":[\"db\"]") || good.out().contains("\"aud\":\"db\""), good.out());

        CliRun bad = CliRun.run("api", "validate", "jwt", "-socketPath", socket, "-audience", "other", "-svid", token);
        assertEquals(AgentCli.FAILED, bad.code());
        assertTrue(bad.err().startsWith("SVID is not valid: "), bad.err());
    }

    @Test
    void healthcheck_readyAgent_healthyEvenWithoutAnEntryForTheCaller() throws Exception {
        agent.serveNothing();
        CliRun run = CliRun.run("healthcheck", "-socketPath", socket);
        assertEquals(AgentCli.OK, run.code(), run.err());
        assertTrue(run.out().contains("Agent is healthy."));
    }

    @Test
    void healthcheck_agentNotSyncedYet_unhealthy() {
        CliRun run = CliRun.run("healthcheck", "-socketPath", socket);
        assertEquals(AgentCli.FAILED, run.code());
        assertTrue(run.err().contains("Agent is unhealthy: the Workload API is unavailable"), run.err());
    }

    @Test
    void watch_streamsEachUpdateUntilCount() throws Exception {
        agent.serve(CliTestAgent.WEB);
        ExecutorService executor = Executors.newSingleThreadExecutor();
        try {
            Future<CliRun> watching = executor.submit(() -> CliRun.run("api", "watch", "-socketPath", socket,
                    "-count", "2"));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (agent.cache.watcherCount() == 0 && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
            assertEquals(1, agent.cache.watcherCount());
            WorkloadX509Svid rotated = agent.serve(CliTestAgent.WEB);

            CliRun run = watching.get(30, TimeUnit.SECONDS);

            assertEquals(AgentCli.OK, run.code(), run.err());
            assertTrue(run.out().contains("Update #1"), run.out());
            assertTrue(run.out().contains("Update #2"), run.out());
            assertTrue(run.out().contains(rotated.chain().get(0).getSerialNumber().toString(16)), run.out());
            assertFalse(run.out().contains("Update #3"));
        } finally {
            executor.shutdownNow();
        }
    }

    @Test
    void watch_endsCleanlyAtTimeout() throws Exception {
        agent.serve(CliTestAgent.WEB);
        CliRun run = CliRun.run("api", "watch", "-socketPath", socket, "-timeout", "1s");
        assertEquals(AgentCli.OK, run.code(), run.err());
        assertTrue(run.out().contains("Update #1"), run.out());
    }
}
