package dev.bourne.appliance.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.nimbusds.jwt.SignedJWT;
import dev.bourne.appliance.admin.AdminFixture;
import dev.bourne.appliance.datastore.AttestedNode;
import dev.bourne.appliance.datastore.NodeCertificate;
import dev.bourne.appliance.server.AdminSocketServer;
import dev.bourne.core.bundle.SpiffeBundle;
import dev.bourne.core.bundle.SpiffeBundleJson;
import dev.bourne.core.spiffeid.SpiffeId;
import dev.bourne.core.spiffeid.TrustDomain;
import io.grpc.health.v1.HealthCheckResponse;
import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The CLI run in-process ({@link ServerCli#execute}) against the admin services served on a real Unix socket by the
 * server's {@link AdminSocketServer}, over a real SQLite datastore and CA.
 */
class ServerCliTest {
    static final String TD = "spiffe://example.org";
    static final Pattern ENTRY_ID = Pattern.compile("Entry ID\\s+: (\\S+)");

    @TempDir
    Path dir;

    AdminFixture fixture;
    AdminSocketServer socketServer;
    Path socket;

    record Result(int code, String out, String err) {
    }

    @BeforeEach
    void setUp() throws Exception {
        fixture = new AdminFixture(dir);
        socket = dir.resolve("private").resolve("api.sock");
        Files.createDirectories(socket.getParent());
        socketServer = AdminSocketServer.start(socket, fixture.services());
        socketServer.health().setStatus("", HealthCheckResponse.ServingStatus.SERVING);
    }

    @AfterEach
    void tearDown() throws Exception {
        socketServer.close();
        fixture.close();
    }

    Result run(Map<String, String> env, Predicate<Path> exists, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = ServerCli.execute(new ServerCli(env, exists, Clock.systemUTC()), new PrintWriter(out),
                new PrintWriter(err), args);
        return new Result(code, out.toString(), err.toString());
    }

    /** Runs with {@code -socketPath} appended after the subcommand's own arguments. */
    Result admin(String... args) {
        String[] full = Stream.concat(Stream.of(args), Stream.of("-socketPath", socket.toString()))
                .toArray(String[]::new);
        return run(Map.of(), p -> false, full);
    }

    static String entryId(String out) {
        Matcher m = ENTRY_ID.matcher(out);
        assertTrue(m.find(), out);
        return m.group(1);
    }

    @Test
    void entry_createShowUpdateDeleteCount_roundTrip() {
        Result created = admin("entry", "create", "-spiffeID", TD + "/web", "-parentID", TD + "/host",
                "-selector", "unix:uid:1000", "-selector", "unix:gid:1000", "-dns", "web.example.org",
                "-x509SVIDTTL", "600");
        assertEquals(0, created.code(), created.err());
        String id = entryId(created.out());
        assertTrue(created.out().contains("SPIFFE ID        : " + TD + "/web\n"), created.out());
        assertTrue(created.out().contains("Parent ID        : " + TD + "/host\n"));
        assertTrue(created.out().contains("Revision         : 0\n"));
        assertTrue(created.out().contains("X509-SVID TTL    : 600\n"));
        assertTrue(created.out().contains("JWT-SVID TTL     : default\n"));
        assertTrue(created.out().contains("Selector         : unix:gid:1000\nSelector         : unix:uid:1000\n"));
        assertTrue(created.out().contains("DNS name         : web.example.org\n"));

        Result shown = admin("entry", "show", "-entryID", id);
        assertEquals(0, shown.code());
        assertTrue(shown.out().startsWith("Found 1 entry\nEntry ID         : " + id + "\n"), shown.out());

        Result json = admin("entry", "show", "-spiffeID", TD + "/web", "-output", "json");
        assertEquals(0, json.code());
        assertTrue(json.out().contains("\"spiffe_id\": \"" + TD + "/web\""), json.out());
        assertTrue(json.out().contains("\"id\": \"" + id + "\""));

        Result updated = admin("entry", "update", "-entryID", id, "-hint", "frontend", "-x509SVIDTTL", "1h");
        assertEquals(0, updated.code(), updated.err());
        assertTrue(updated.out().contains("Revision         : 1\n"), updated.out());
        assertTrue(updated.out().contains("X509-SVID TTL    : 3600\n"));
        assertTrue(updated.out().contains("Hint             : frontend\n"));
        assertTrue(updated.out().contains("Selector         : unix:uid:1000\n"), "selectors kept: " + updated.out());

        assertEquals("1 registration entry\n", admin("entry", "count").out());
        assertEquals("{\n  \"count\": 1\n}\n", admin("entry", "count", "-output", "json").out());
        Result deleted = admin("entry", "delete", "-entryID", id);
        assertEquals("Deleted entry with ID: " + id + "\n", deleted.out());
        assertEquals("0 registration entries\n", admin("entry", "count").out());
        assertEquals("Found 0 entries\n", admin("entry", "show").out());
    }

    @Test
    void entry_nodeAlias_parentIsServerId() {
        Result created = admin("entry", "create", "-node", "-spiffeID", TD + "/nodes/tpm",
                "-selector", "tpm:pub_hash:abcd");
        assertEquals(0, created.code(), created.err());
        assertTrue(created.out().contains("Parent ID        : " + TD + "/spire/server\n"), created.out());
    }

    @Test
    void entry_duplicateAndInvalid_failWithTheServersReason() {
        String[] args = {"entry", "create", "-spiffeID", TD + "/web", "-parentID", TD + "/host", "-selector",
            "unix:uid:1"};
        assertEquals(0, admin(args).code());
        Result again = admin(args);
        assertEquals(1, again.code());
        assertTrue(again.err().startsWith("Error: failed to create the entry (code ALREADY_EXISTS): "), again.err());
        Result reserved = admin("entry", "create", "-spiffeID", TD + "/spire/x", "-parentID", TD + "/host",
                "-selector", "unix:uid:1");
        assertEquals(1, reserved.code());
        assertTrue(reserved.err().contains("spiffe_id: is in the reserved /spire/ namespace"), reserved.err());
        Result missing = admin("entry", "show", "-entryID", "nope");
        assertEquals(1, missing.code());
        assertEquals("Error: not found: no entry with ID nope\n", missing.err());
    }

    @Test
    void token_generate_printsTokenAsSpire() throws Exception {
        Result result = admin("token", "generate");
        assertEquals(0, result.code(), result.err());
        assertTrue(result.out().matches("Token: [0-9a-f]{32}\n"), result.out());
        String token = result.out().substring("Token: ".length()).trim();
        assertTrue(fixture.dataStore().takeJoinToken(token).isPresent());

        Result withAlias = admin("token", "generate", "-spiffeID", TD + "/host/a", "-ttl", "60");
        assertEquals(0, withAlias.code());
        String aliasToken = withAlias.out().substring("Token: ".length()).trim();
        Result shown = admin("entry", "show", "-spiffeID", TD + "/host/a");
        assertTrue(shown.out().contains("Parent ID        : " + TD + "/spire/agent/join_token/" + aliasToken),
                shown.out());
    }

    static X509Certificate certificate(String pem) throws Exception {
        return (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
    }

    @Test
    void bundle_showPemAndSpiffe() throws Exception {
        Result pem = admin("bundle", "show");
        assertEquals(0, pem.code(), pem.err());
        assertTrue(pem.out().startsWith("-----BEGIN CERTIFICATE-----\n"));
        assertEquals(fixture.ca().bundle().x509Authorities().get(0), certificate(pem.out()));

        Result spiffe = admin("bundle", "show", "-format", "spiffe");
        assertEquals(0, spiffe.code(), spiffe.err());
        SpiffeBundle parsed = SpiffeBundleJson.decode(TrustDomain.parse("example.org"), spiffe.out().trim());
        assertEquals(fixture.ca().bundle().x509Authorities(), parsed.x509Authorities());
        assertEquals(fixture.ca().bundle().jwtAuthorities().keySet(), parsed.jwtAuthorities().keySet());
    }

    @Test
    void bundle_setListDeleteFederated() throws Exception {
        Path file = dir.resolve("other.pem");
        Files.writeString(file, admin("bundle", "show").out());
        Result set = admin("bundle", "set", "-id", "spiffe://other.org", "-path", file.toString());
        assertEquals(0, set.code(), set.err());
        Result list = admin("bundle", "list");
        assertTrue(list.out().startsWith("****************************************\n* other.org\n"), list.out());
        assertEquals(fixture.ca().bundle().x509Authorities().get(0),
                certificate(list.out().substring(list.out().indexOf("-----BEGIN"))));
        assertEquals(0, admin("bundle", "delete", "-id", "other.org").code());
        assertEquals("", admin("bundle", "list").out());
        Result own = admin("bundle", "set", "-id", "example.org", "-path", file.toString());
        assertEquals(1, own.code());
        assertTrue(own.err().contains("trust_domain: is the server's own trust domain"), own.err());
    }

    @Test
    void x509Mint_writesSvidKeyAndBundle() throws Exception {
        Path out = dir.resolve("minted");
        Result result = admin("x509", "mint", "-spiffeID", TD + "/minted", "-dns", "m.example.org", "-ttl", "10m",
                "-write", out.toString());
        assertEquals(0, result.code(), result.err());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(out.resolve("key.pem"))));
        X509Certificate leaf = certificate(Files.readString(out.resolve("svid.pem")));
        assertTrue(leaf.getSubjectAlternativeNames().stream().anyMatch(n -> n.get(1).equals(TD + "/minted")));
        leaf.verify(certificate(Files.readString(out.resolve("bundle.pem"))).getPublicKey());
        PrivateKey key;
        try (PEMParser parser = new PEMParser(new StringReader(Files.readString(out.resolve("key.pem"))))) {
            key = new JcaPEMKeyConverter().getPrivateKey((PrivateKeyInfo) parser.readObject());
        }
        // The key written is the SVID's: a signature by it verifies with the certificate.
        Signature signer = Signature.getInstance("SHA256withECDSA");
        signer.initSign(key);
        signer.update(new byte[] {1, 2, 3});
        byte[] signature = signer.sign();
        Signature verifier = Signature.getInstance("SHA256withECDSA");
        verifier.initVerify(leaf);
        verifier.update(new byte[] {1, 2, 3});
        assertTrue(verifier.verify(signature));
        long lifetime = leaf.getNotAfter().toInstant().getEpochSecond() - Instant.now().getEpochSecond();
        assertTrue(lifetime <= 600 && lifetime > 500, "lifetime " + lifetime);
    }

    @Test
    void jwtMint_printsAToken() throws Exception {
        Result result = admin("jwt", "mint", "-spiffeID", TD + "/jwt", "-audience", "a1", "-audience", "a2");
        assertEquals(0, result.code(), result.err());
        SignedJWT jwt = SignedJWT.parse(result.out().trim());
        assertEquals(TD + "/jwt", jwt.getJWTClaimsSet().getSubject());
        assertEquals(List.of("a1", "a2"), jwt.getJWTClaimsSet().getAudience());
    }

    @Test
    void agent_listShowCountBanEvict() throws Exception {
        String agent = TD + "/spire/agent/join_token/t1";
        fixture.dataStore().createNode(AttestedNode.attested(SpiffeId.parse(agent), "join_token",
                new NodeCertificate("77", Instant.parse("2030-01-01T00:00:00Z")), false, List.of()));
        assertEquals("1 attested agent\n", admin("agent", "count").out());
        Result list = admin("agent", "list");
        assertTrue(list.out().startsWith("Found 1 attested agent:\n\nSPIFFE ID        : " + agent + "\n"),
                list.out());
        assertTrue(list.out().contains("Serial number    : 77\n"));
        assertEquals("Agent banned successfully\n", admin("agent", "ban", "-spiffeID", agent).out());
        assertTrue(admin("agent", "show", "-spiffeID", agent).out().contains("Banned           : true\n"));
        assertEquals("Agent evicted successfully\n", admin("agent", "evict", "-spiffeID", agent).out());
        assertEquals("0 attested agents\n", admin("agent", "count").out());
    }

    @Test
    void localAuthority_showPrepareActivate() {
        Result shown = admin("localauthority", "x509", "show");
        assertEquals(0, shown.code(), shown.err());
        assertTrue(shown.out().startsWith("Active X.509 authority:\n  Authority ID: "), shown.out());
        assertTrue(shown.out().contains("Prepared X.509 authority:\n  No prepared X.509 authority found\n"));
        Result prepared = admin("localauthority", "x509", "prepare");
        assertEquals(0, prepared.code(), prepared.err());
        String id = prepared.out().lines().filter(l -> l.startsWith("  Authority ID: ")).findFirst().orElseThrow()
                .substring("  Authority ID: ".length());
        Result activated = admin("localauthority", "x509", "activate", "-authorityID", id);
        assertTrue(activated.out().startsWith("Activated X.509 authority:\n  Authority ID: " + id + "\n"),
                activated.out());
        Result refused = admin("localauthority", "jwt", "revoke", "-authorityID", "nope");
        assertEquals(1, refused.code());
        assertTrue(refused.err().startsWith("Error: not found: no JWT authority with ID"), refused.err());
        Result jwt = admin("localauthority", "jwt", "show", "-output", "json");
        assertTrue(jwt.out().contains("\"state\": \"active\""), jwt.out());
    }

    @Test
    void healthcheck_servingAndNotServing() {
        Result healthy = admin("healthcheck");
        assertEquals(0, healthy.code(), healthy.err());
        assertEquals(ServerCommands.HEALTHY + "\n", healthy.out());
        assertEquals(0, admin("healthcheck", "-shallow").code());
        socketServer.health().setStatus("", HealthCheckResponse.ServingStatus.NOT_SERVING);
        Result unhealthy = admin("healthcheck", "-shallow");
        assertEquals(1, unhealthy.code());
        assertEquals(String.format(ServerCommands.UNHEALTHY, "grpc.health.v1 reports NOT_SERVING") + "\n",
                unhealthy.err());
    }

    @Test
    void socketDiscovery_envThenCandidates() throws Exception {
        Result fromEnv = run(Map.of(SocketDiscovery.ENV, socket.toString()), p -> false, "entry", "count");
        assertEquals(0, fromEnv.code(), fromEnv.err());
        Result unixForm = run(Map.of(SocketDiscovery.ENV, "unix://" + socket), p -> false, "entry", "count");
        assertEquals(0, unixForm.code(), unixForm.err());
        Result none = run(Map.of(), p -> false, "entry", "count");
        assertEquals(1, none.code());
        assertEquals("Error: " + SocketDiscovery.NOT_FOUND + "\n", none.err());

        Map<String, String> noEnv = new HashMap<>();
        assertEquals(Path.of("/flag"), SocketDiscovery.find(java.util.Optional.of("/flag"),
                Map.of(SocketDiscovery.ENV, "/env"), p -> true));
        assertEquals(Path.of("/env"), SocketDiscovery.find(java.util.Optional.empty(),
                Map.of(SocketDiscovery.ENV, "/env"), p -> true));
        assertEquals(SocketDiscovery.RPM_SOCKET, SocketDiscovery.find(java.util.Optional.empty(), noEnv, p -> true));
        assertEquals(SocketDiscovery.SAMPLE_SOCKET, SocketDiscovery.find(java.util.Optional.empty(), noEnv,
                p -> p.equals(SocketDiscovery.SAMPLE_SOCKET)));
    }

    static Stream<Arguments> badFlags() {
        return Stream.of(
                Arguments.of(List.of("entry", "create", "-spiffeID", "web", "-parentID", TD + "/h", "-selector",
                        "unix:uid:1"), "Invalid value for option '-spiffeID': invalid SPIFFE ID \"web\""),
                Arguments.of(List.of("entry", "create", "-spiffeID", TD + "/w", "-parentID", TD + "/h"),
                        EntryCommands.SELECTOR_REQUIRED),
                Arguments.of(List.of("entry", "create", "-spiffeID", TD + "/w", "-selector", "unix:uid:1"),
                        EntryCommands.PARENT_REQUIRED),
                Arguments.of(List.of("entry", "create", "-spiffeID", TD + "/w", "-parentID", TD + "/h",
                        "-selector", "nocolon"), "Invalid value for option '-selector' (type:value): invalid selector \"nocolon\": "),
                Arguments.of(List.of("entry", "create", "-spiffeID", TD + "/w", "-parentID", TD + "/h",
                        "-selector", "unix:uid:1", "-x509SVIDTTL", "-5"),
                        "Invalid value for option '-x509SVIDTTL': " + Flags.DURATION_NEGATIVE),
                Arguments.of(List.of("entry", "create", "-spiffeID", TD + "/w", "-parentID", TD + "/h",
                        "-selector", "unix:uid:1", "-jwtSVIDTTL", "soon"),
                        "Invalid value for option '-jwtSVIDTTL': " + Flags.DURATION_INVALID),
                Arguments.of(List.of("entry", "create", "-spiffeID", TD + "/w", "-parentID", TD + "/h", "-node",
                        "-selector", "unix:uid:1"), EntryCommands.PARENT_AND_NODE),
                Arguments.of(List.of("entry", "update", "-hint", "x"), EntryCommands.ENTRY_ID_REQUIRED),
                Arguments.of(List.of("entry", "update", "-entryID", "x"), EntryCommands.NOTHING_TO_UPDATE),
                Arguments.of(List.of("entry", "delete"), EntryCommands.ENTRY_ID_REQUIRED),
                Arguments.of(List.of("entry", "show", "-matchSelectorsOn", "most"), EntryCommands.MATCH_INVALID),
                Arguments.of(List.of("entry", "count", "-output", "xml"), "Invalid value for option '-output'"),
                Arguments.of(List.of("agent", "show"), AgentCommands.SPIFFE_ID_REQUIRED),
                Arguments.of(List.of("token", "generate", "-ttl", "0"), TokenCommands.TTL_NOT_POSITIVE),
                Arguments.of(List.of("token", "generate", "-ttl", "31d"), "Invalid value for option '-ttl'"),
                Arguments.of(List.of("bundle", "show", "-format", "der"), BundleCommands.FORMAT_INVALID),
                Arguments.of(List.of("bundle", "set", "-id", "other.org"), BundleCommands.PATH_REQUIRED),
                Arguments.of(List.of("x509", "mint"), MintCommands.SPIFFE_ID_REQUIRED),
                Arguments.of(List.of("jwt", "mint", "-spiffeID", TD + "/w"), MintCommands.AUDIENCE_REQUIRED),
                Arguments.of(List.of("localauthority", "x509", "activate"),
                        LocalAuthorityCommands.AUTHORITY_ID_REQUIRED),
                Arguments.of(List.of("entry", "create", "-bogus"), "Unknown option: '-bogus'"),
                Arguments.of(List.of("validate"), ServerCommands.CONFIG_REQUIRED));
    }

    @ParameterizedTest
    @MethodSource("badFlags")
    void badFlags_usageErrorBeforeAnyCall(List<String> args, String message) {
        // The socket does not exist: a call would fail with exit 1, so exit 2 proves none was made.
        String[] full = Stream.concat(args.stream(), Stream.of("-socketPath", dir.resolve("none.sock").toString()))
                .toArray(String[]::new);
        if (args.get(0).equals("validate")) {
            full = args.toArray(String[]::new);
        }
        Result result = run(Map.of(), p -> false, full);
        assertEquals(2, result.code(), result.err());
        assertTrue(result.err().startsWith(message), result.err());
        assertEquals("", result.out());
    }

    @Test
    void validate_printsEveryErrorWithFileAndKey() throws Exception {
        Path good = dir.resolve("good.conf");
        Files.writeString(good, AdminFixture.config(dir, dir.resolve("x.sock")));
        Result ok = run(Map.of(), p -> false, "validate", "-config", good.toString());
        assertEquals(0, ok.code(), ok.err());
        assertEquals(ServerCommands.VALID + "\n", ok.out());

        Path bad = dir.resolve("bad.conf");
        Files.writeString(bad, AdminFixture.config(dir, dir.resolve("x.sock"))
                .replace("trust_domain = \"example.org\"", "trust_domain = \"Not A Domain\"")
                .replace("ca_ttl = \"24h\"", "ca_ttl = \"forever\"")
                .replace("database_type = \"sqlite3\"", "database_type = \"oracle\""));
        Result failed = run(Map.of(), p -> false, "validate", "-config", bad.toString());
        assertEquals(1, failed.code());
        List<String> lines = failed.err().lines().toList();
        assertTrue(lines.stream().anyMatch(l -> l.startsWith(bad + ": server.trust_domain: ")), failed.err());
        assertTrue(lines.stream().anyMatch(l -> l.startsWith(bad + ": server.ca_ttl: ")), failed.err());
        assertFalse(failed.err().isEmpty());
        assertEquals("", failed.out());
    }

    @Test
    void validate_badPluginData_reported() throws Exception {
        Path bad = dir.resolve("bad.conf");
        Files.writeString(bad, AdminFixture.config(dir, dir.resolve("x.sock"))
                .replace("database_type = \"sqlite3\"", "database_type = \"oracle\""));
        Result failed = run(Map.of(), p -> false, "validate", "-config", bad.toString());
        assertEquals(1, failed.code());
        assertTrue(failed.err().startsWith(bad + ": plugins.DataStore.sql.plugin_data.database_type: "),
                failed.err());
    }

    @Test
    void noCommand_usageExit2() {
        Result result = run(Map.of(), p -> false);
        assertEquals(2, result.code());
        assertTrue(result.err().startsWith("Usage: bourne-server"), result.err());
    }
}
