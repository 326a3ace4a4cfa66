package dev.bourne.openstack.vendordata;

import static dev.bourne.openstack.vendordata.VendordataTestSupport.TOKEN;
import static dev.bourne.openstack.vendordata.VendordataTestSupport.json;
import static dev.bourne.openstack.vendordata.VendordataTestSupport.novaBody;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.nimbusds.jose.JWSObject;
import dev.bourne.openstack.common.OpenStackIid;
import dev.bourne.testing.pki.TestKeys;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code bourne-vendordata validate}, {@code run} and {@code healthcheck} in process: exit codes, the exact lines
 * printed for each unusable file, and a service started by {@code run} answering Nova over HTTPS.
 */
class VendordataCliTest {
    @TempDir
    Path dir;

    private Path config;
    private final ExecutorService runner = Executors.newSingleThreadExecutor();

    record Outcome(int code, String out, String err) {
    }

    @BeforeEach
    void files() throws Exception {
        VendordataTestSupport.writeServerTls(dir);
        VendordataTestSupport.writeToken(dir.resolve("token"), TOKEN + "\n", "rw-------");
        VendordataTestSupport.writeCertificates(dir.resolve("nova-ca.pem"), VendordataTestSupport.NOVA_CA.certificate());
        config = writeConfig("", "");
    }

    @AfterEach
    void stop() {
        runner.shutdownNow();
    }

    /** A configuration over the files of {@link #files}, with {@code extra} lines in the block and a free port. */
    private Path writeConfig(String extra, String replaceTokenLine) throws Exception {
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        String tokenLine = "auth_token_file = \"" + dir.resolve("token") + "\"\n";
        String text = "vendordata {\n"
                + "bind_address = \"127.0.0.1\"\n"
                + "bind_port = " + port + "\n"
                + "data_dir = \"" + dir.resolve("data") + "\"\n"
                + "issuer = \"" + VendordataTestSupport.ISSUER + "\"\n"
                + "audience = [\"" + VendordataTestSupport.AUDIENCE + "\"]\n"
                + "tls_cert_file = \"" + dir.resolve("tls.crt") + "\"\n"
                + "tls_key_file = \"" + dir.resolve("tls.key") + "\"\n"
                + (replaceTokenLine.isEmpty() ? tokenLine : replaceTokenLine)
                + extra
                + "}\n"
                + "plugins {\n  KeyManager \"disk\" {\n    plugin_data {\n    }\n  }\n}\n";
        Path file = dir.resolve("vendordata.conf");
        Files.writeString(file, text);
        return file;
    }

    private static Outcome execute(VendordataCli cli, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = VendordataCli.execute(cli, new PrintWriter(out), new PrintWriter(err), args);
        return new Outcome(code, out.toString(), err.toString());
    }

    private static Outcome execute(String... args) {
        return execute(new VendordataCli(Clock.systemUTC(), service -> { }), args);
    }

    @Test
    void validate_valid_exit0() {
        Outcome outcome = execute("validate", "-config", config.toString());

        assertEquals(0, outcome.code(), outcome.err());
        assertEquals(VendordataCli.VALID + "\n", outcome.out());
    }

    @Test
    void validate_withoutConfig_usage2() {
        Outcome outcome = execute("validate");

        assertEquals(2, outcome.code());
        assertTrue(outcome.err().startsWith(VendordataCli.CONFIG_REQUIRED), outcome.err());
    }

    @Test
    void validate_noSuchFile_exit1() {
        Path missing = dir.resolve("missing.conf");

        Outcome outcome = execute("validate", "-config", missing.toString());

        assertEquals(1, outcome.code());
        assertEquals(missing + ": no such file\n", outcome.err());
    }

    @Test
    void validate_settingsErrors_everyOneWithFileAndKey() throws Exception {
        Files.writeString(config, Files.readString(config).replace("audience = [\"" + VendordataTestSupport.AUDIENCE
                + "\"]\n", "document_ttl = \"20m\"\n"));

        Outcome outcome = execute("validate", "-config", config.toString());

        assertEquals(1, outcome.code());
        assertEquals(config + ": vendordata.audience: is required\n"
                + config + ": vendordata.document_ttl: " + VendordataSettings.DOCUMENT_TTL_BOUNDS + "\n", outcome.err());
    }

    /** Each case changes the files (or the token line) and names the one line validate must print. */
    static Stream<Arguments> fileErrors() {
        return Stream.of(
                Arguments.of("key readable by others", (FileChange) d -> Files.setPosixFilePermissions(
                        d.resolve("tls.key"), java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--")),
                        "", "vendordata.tls_key_file: %s/tls.key: " + PemFiles.TOO_OPEN),
                Arguments.of("key writable by group", (FileChange) d -> Files.setPosixFilePermissions(
                        d.resolve("tls.key"), java.nio.file.attribute.PosixFilePermissions.fromString("rw-rw----")),
                        "", "vendordata.tls_key_file: %s/tls.key: " + PemFiles.TOO_OPEN),
                Arguments.of("key missing", (FileChange) d -> Files.delete(d.resolve("tls.key")),
                        "", "vendordata.tls_key_file: %s/tls.key: " + PemFiles.NO_SUCH_FILE),
                Arguments.of("key not PEM", (FileChange) d -> Files.writeString(d.resolve("tls.key"), "hello"),
                        "", "vendordata.tls_key_file: %s/tls.key: " + PemFiles.NO_KEY),
                Arguments.of("key of another certificate", (FileChange) d -> VendordataTestSupport.writeKey(
                        d.resolve("tls.key"), TestKeys.ecP256(40).getPrivate(), "rw-------"),
                        "", "vendordata.tls_cert_file: %s/tls.crt: " + VendordataTls.CHAIN_MISMATCH),
                Arguments.of("certificate file holds a key", (FileChange) d -> Files.copy(d.resolve("tls.key"),
                        d.resolve("tls.crt"), java.nio.file.StandardCopyOption.REPLACE_EXISTING),
                        "", "vendordata.tls_cert_file: %s/tls.crt: " + PemFiles.NO_CERTIFICATES),
                Arguments.of("certificate broken", (FileChange) d -> Files.writeString(d.resolve("tls.crt"),
                        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
                        "", "vendordata.tls_cert_file: %s/tls.crt: " + PemFiles.BAD_CERTIFICATE),
                Arguments.of("certificate is a directory", (FileChange) d -> {
                    Files.delete(d.resolve("tls.crt"));
                    Files.createDirectory(d.resolve("tls.crt"));
                }, "", "vendordata.tls_cert_file: %s/tls.crt: " + PemFiles.NOT_REGULAR),
                Arguments.of("token readable by others", (FileChange) d -> Files.setPosixFilePermissions(
                        d.resolve("token"), java.nio.file.attribute.PosixFilePermissions.fromString("rw----r--")),
                        "", "vendordata.auth_token_file: %s/token: " + PemFiles.TOO_OPEN),
                Arguments.of("token too short", (FileChange) d -> Files.writeString(d.resolve("token"), "short\n"),
                        "", "vendordata.auth_token_file: %s/token: " + CallerAuthenticator.TOKEN_TOO_SHORT),
                Arguments.of("token with a space", (FileChange) d -> Files.writeString(d.resolve("token"),
                        "a".repeat(20) + " " + "b".repeat(20)),
                        "", "vendordata.auth_token_file: %s/token: " + CallerAuthenticator.TOKEN_CHARACTERS),
                Arguments.of("token empty", (FileChange) d -> Files.writeString(d.resolve("token"), ""),
                        "", "vendordata.auth_token_file: %s/token: " + CallerAuthenticator.TOKEN_TOO_SHORT),
                Arguments.of("client CA missing", (FileChange) d -> { },
                        "client_ca_file = \"%s/no-ca.pem\"\n",
                        "vendordata.client_ca_file: %s/no-ca.pem: " + PemFiles.NO_SUCH_FILE));
    }

    @FunctionalInterface
    interface FileChange {
        void apply(Path dir) throws Exception;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fileErrors")
    void validate_unusableFile_exactLine(String name, FileChange change, String tokenLine, String expected)
            throws Exception {
        change.apply(dir);
        Path file = tokenLine.isEmpty() ? config
                : writeConfig(String.format(tokenLine, dir), "auth_token_file = \"" + dir.resolve("token") + "\"\n");

        Outcome outcome = execute("validate", "-config", file.toString());

        assertEquals(1, outcome.code(), outcome.out());
        assertEquals(file + ": " + String.format(expected, dir) + "\n", outcome.err());
        assertTrue(!outcome.err().contains(TOKEN), "the token is never printed");
    }

    @Test
    void validate_secretFilesMode0640_accepted() throws Exception {
        for (String file : List.of("tls.key", "token")) {
            Files.setPosixFilePermissions(dir.resolve(file),
                    java.nio.file.attribute.PosixFilePermissions.fromString("rw-r-----"));
        }

        assertEquals(0, execute("validate", "-config", config.toString()).code());
    }

    @Test
    void validate_keyInSec1Form_accepted() throws Exception {
        // openssl ecparam -genkey writes "EC PRIVATE KEY" (SEC 1); this one is the same key in that form.
        java.security.interfaces.ECPrivateKey key =
                (java.security.interfaces.ECPrivateKey) VendordataTestSupport.SERVER_KEYS.getPrivate();
        org.bouncycastle.asn1.sec.ECPrivateKey sec1 = new org.bouncycastle.asn1.sec.ECPrivateKey(256, key.getS(),
                org.bouncycastle.asn1.x509.SubjectPublicKeyInfo.getInstance(
                        VendordataTestSupport.SERVER_KEYS.getPublic().getEncoded()).getPublicKeyData(),
                new org.bouncycastle.asn1.x9.X962Parameters(org.bouncycastle.asn1.sec.SECObjectIdentifiers.secp256r1));
        Files.writeString(dir.resolve("tls.key"), VendordataTestSupport.pem("EC PRIVATE KEY", sec1.getEncoded()));

        Outcome outcome = execute("validate", "-config", config.toString());

        assertEquals(0, outcome.code(), outcome.err());
    }

    @Test
    void run_servesNova_untilClosed() throws Exception {
        CompletableFuture<VendordataService> started = new CompletableFuture<>();
        VendordataCli cli = new VendordataCli(Clock.systemUTC(), started::complete);
        Future<Outcome> run = runner.submit(() -> execute(cli, "run", "-config", config.toString()));
        VendordataService service = started.get(2, TimeUnit.MINUTES);

        HttpResponse<String> response = VendordataTestSupport.post(VendordataTestSupport.client(), service.port(),
                json(novaBody()), Optional.of(TOKEN));
        assertEquals(200, response.statusCode(), response.body());
        assertEquals(OpenStackIid.JWS_TYPE,
                JWSObject.parse(VendordataTestSupport.data(response)).getHeader().getType().toString());
        assertTrue(Files.exists(dir.resolve("data").resolve(SigningKeyJournal.FILE_NAME)));

        Outcome ready = execute("healthcheck", "-url", "https://localhost:" + service.port() + "/ready", "-caFile",
                dir.resolve("tls.crt").toString());
        assertEquals(0, ready.code(), ready.err());
        assertEquals(VendordataCli.READY + "\n", ready.out());

        Outcome untrusted = execute("healthcheck", "-url", "https://localhost:" + service.port() + "/ready");
        assertEquals(1, untrusted.code(), "the JDK's CAs do not know the test CA");
        assertTrue(untrusted.err().startsWith(String.format(VendordataCli.NOT_READY, "")), untrusted.err());

        service.close();
        assertEquals(0, run.get(2, TimeUnit.MINUTES).code());
    }

    @Test
    void run_unusableFile_exit1_nothingListens() throws Exception {
        Files.writeString(dir.resolve("token"), "short");
        Consumer<VendordataService> never = service -> {
            service.close();
            throw new AssertionError("must not start");
        };

        Outcome outcome = execute(new VendordataCli(Clock.systemUTC(), never), "run", "-config", config.toString());

        assertEquals(1, outcome.code());
        assertEquals(config + ": vendordata.auth_token_file: " + dir.resolve("token") + ": "
                + CallerAuthenticator.TOKEN_TOO_SHORT + "\n", outcome.err());
    }

    @Test
    void healthcheck_nothingListening_exit1() throws Exception {
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }

        Outcome outcome = execute("healthcheck", "-url", "https://localhost:" + port + "/ready");

        assertEquals(1, outcome.code());
        assertTrue(outcome.err().startsWith(String.format(VendordataCli.NOT_READY, "cannot reach https://localhost:"
                + port + "/ready")), outcome.err());
    }

    @Test
    void healthcheck_httpUrl_usage2() {
        Outcome outcome = execute("healthcheck", "-url", "http://localhost:8443/ready");

        assertEquals(2, outcome.code());
        assertTrue(outcome.err().startsWith("-url must be an https URL with a host"), outcome.err());
    }
}
