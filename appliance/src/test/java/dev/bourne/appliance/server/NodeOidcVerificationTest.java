package dev.bourne.appliance.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.nimbusds.jose.util.JSONObjectUtils;
import dev.bourne.appliance.admin.AdminServices;
import dev.bourne.appliance.cli.ServerCli;
import dev.bourne.appliance.federation.HttpsClients;
import dev.bourne.core.config.OidcDiscoverySettings;
import dev.bourne.core.config.ServerSettings;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An independent JOSE and OIDC implementation verifies a JWT-SVID through discovery alone: Node.js runs npm
 * {@code openid-client} (discovery, issuer check) and {@code jose} ({@code createRemoteJWKSet}, {@code jwtVerify})
 * against a real server's OIDC listener over HTTPS, trusting its CA through {@code NODE_EXTRA_CA_CERTS}.
 *
 * <p>The modules come from {@code src/test/node/oidc-verify}, installed there by {@code bin/test} ({@code npm ci}).
 * When Node.js or the modules are missing the test fails and says how to install them: it never skips, so a machine
 * without them cannot pass for one that checked.
 */
class NodeOidcVerificationTest {
    static final Path PROJECT = Path.of("src/test/node/oidc-verify").toAbsolutePath();
    static final int MIN_NODE_MAJOR = 20;

    @TempDir
    Path dir;
    BourneServer server;

    @BeforeAll
    static void requireNodeAndModules() throws Exception {
        String version;
        try {
            Process node = new ProcessBuilder("node", "--version").redirectErrorStream(true).start();
            version = new String(node.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            node.waitFor(30, TimeUnit.SECONDS);
        } catch (IOException e) {
            fail("Node.js is not installed (no `node` on PATH): run bin/test, which installs it, or install Node.js "
                    + MIN_NODE_MAJOR + ".19+ yourself");
            return;
        }
        int major = Integer.parseInt(version.replaceFirst("^v(\\d+)\\..*$", "$1"));
        assertTrue(major >= MIN_NODE_MAJOR, "Node.js " + version + " is too old for jose 6 and openid-client 6: "
                + "install Node.js " + MIN_NODE_MAJOR + ".19 or newer");
        for (String module : List.of("jose", "openid-client")) {
            if (!Files.isRegularFile(PROJECT.resolve("node_modules").resolve(module).resolve("package.json"))) {
                fail("npm module " + module + " is missing in " + PROJECT + ": run bin/test (it runs npm ci there)"
                        + " or `npm ci --prefix " + PROJECT + "`");
            }
        }
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    private FederationListenersTest.WebFiles startWithIssuer(String path) throws Exception {
        int port = HttpsClients.freePort();
        FederationListenersTest.WebFiles files = FederationListenersTest.webFiles(dir.resolve("oidc"));
        ServerSettings settings = TestServers.sqliteMemory(dir).withOidcDiscovery(
                Optional.of(URI.create("https://localhost:" + port + path)),
                Optional.of(new OidcDiscoverySettings("127.0.0.1", port, files.cert(), files.key())));
        server = BourneServer.start(settings, Clock.systemUTC(), new SecureRandom(), AdminServices::create);
        return files;
    }

    private String mint(String spiffeId, String audience) throws IOException {
        Path token = dir.resolve("token-" + System.nanoTime());
        StringWriter err = new StringWriter();
        int code = ServerCli.execute(new ServerCli(), new PrintWriter(new StringWriter(), true),
                new PrintWriter(err, true), "jwt", "mint", "-spiffeID", spiffeId, "-audience", audience, "-write",
                token.toString(), "-socketPath", server.settings().socketPath().toString());
        assertEquals(ServerCli.OK, code, err.toString());
        return Files.readString(token).strip();
    }

    private record NodeResult(int exitCode, String stdout, String stderr) {
    }

    private NodeResult verify(FederationListenersTest.WebFiles files, String issuer, String audience, String token)
            throws Exception {
        Path ca = dir.resolve("oidc-ca.pem");
        HttpsClients.writeChain(ca, List.of(files.root().certificate()));
        List<String> command = new ArrayList<>(List.of("node", PROJECT.resolve("verify.mjs").toString(), issuer,
                audience));
        ProcessBuilder builder = new ProcessBuilder(command).directory(PROJECT.toFile());
        Map<String, String> env = builder.environment();
        env.put("NODE_EXTRA_CA_CERTS", ca.toString());
        // The listener is on 127.0.0.1; without this, Node may try ::1 for "localhost" first.
        env.put("NODE_OPTIONS", "--dns-result-order=ipv4first");
        Path stdout = dir.resolve("node.out");
        Path stderr = dir.resolve("node.err");
        builder.redirectOutput(stdout.toFile()).redirectError(stderr.toFile());
        Process process = builder.start();
        try (OutputStream in = process.getOutputStream()) {
            in.write(token.getBytes(StandardCharsets.US_ASCII));
        }
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            fail("node did not finish within 60 s");
        }
        return new NodeResult(process.exitValue(), Files.readString(stdout).strip(), Files.readString(stderr).strip());
    }

    @Test
    void joseAndOpenidClient_verifyAJwtSvidThroughDiscovery() throws Exception {
        FederationListenersTest.WebFiles files = startWithIssuer("");
        String issuer = server.settings().jwtIssuer().orElseThrow().toString();
        String token = mint("spiffe://example.org/workload/db", "vault");

        NodeResult result = verify(files, issuer, "vault", token);

        assertEquals(0, result.exitCode(), result.stderr());
        Map<String, Object> out = JSONObjectUtils.parse(result.stdout());
        assertEquals("spiffe://example.org/workload/db", out.get("sub"));
        assertEquals(issuer, out.get("iss"));
        assertEquals("ES256", out.get("alg"));
        assertEquals(server.ca().orElseThrow().activeJwtAuthority().keyId(), out.get("kid"));
        @SuppressWarnings("unchecked")
        Map<String, Object> metadata = (Map<String, Object>) out.get("metadata");
        assertEquals(issuer, metadata.get("issuer"));
        assertEquals(List.of("public"), metadata.get("subject_types_supported"));
    }

    @Test
    void issuerWithPath_discoveredAndVerified() throws Exception {
        FederationListenersTest.WebFiles files = startWithIssuer("/bourne/example");
        String issuer = server.settings().jwtIssuer().orElseThrow().toString();

        NodeResult result = verify(files, issuer, "aws", mint("spiffe://example.org/ci", "aws"));

        assertEquals(0, result.exitCode(), result.stderr());
        assertEquals(issuer, JSONObjectUtils.parse(result.stdout()).get("iss"));
    }

    @Test
    void tamperedToken_rejectedByJose() throws Exception {
        FederationListenersTest.WebFiles files = startWithIssuer("");
        String issuer = server.settings().jwtIssuer().orElseThrow().toString();
        String[] parts = mint("spiffe://example.org/workload", "vault").split("\\.");
        // Same header and signature, another subject: the signature no longer matches.
        String forged = parts[0] + "." + java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(
                new String(java.util.Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8)
                        .replace("spiffe://example.org/workload", "spiffe://example.org/admin")
                        .getBytes(StandardCharsets.UTF_8)) + "." + parts[2];

        NodeResult result = verify(files, issuer, "vault", forged);

        assertEquals(1, result.exitCode());
        assertTrue(result.stderr().contains("ERR_JWS_SIGNATURE_VERIFICATION_FAILED"), result.stderr());
    }

    @Test
    void wrongAudience_rejectedByJose() throws Exception {
        FederationListenersTest.WebFiles files = startWithIssuer("");
        String issuer = server.settings().jwtIssuer().orElseThrow().toString();

        NodeResult result = verify(files, issuer, "vault", mint("spiffe://example.org/workload", "other"));

        assertEquals(1, result.exitCode());
        assertTrue(result.stderr().contains("ERR_JWT_CLAIM_VALIDATION_FAILED"), result.stderr());
    }
}
