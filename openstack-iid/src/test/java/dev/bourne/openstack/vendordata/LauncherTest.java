package dev.bourne.openstack.vendordata;

import static dev.bourne.openstack.vendordata.VendordataTestSupport.TOKEN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.nimbusds.jose.JWSObject;
import dev.bourne.testing.systemd.NotifySocketReceiver;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs the repository's {@code bin/bourne-vendordata} as an operator would, from the repository root, on the sample
 * configuration (its paths moved to a temporary directory holding the TLS files and the token): {@code validate}, and
 * {@code run} as a real process answering Nova until SIGTERM.
 */
class LauncherTest {
    /** The repository root: surefire runs in the module directory. */
    static final Path ROOT = Path.of("").toAbsolutePath().getParent();
    static final Path SAMPLE = ROOT.resolve("conf/vendordata/vendordata.conf");

    @TempDir
    Path dir;

    record Outcome(int code, String out, String err) {
    }

    private Path sampleConfig(int port) throws Exception {
        VendordataTestSupport.writeServerTls(dir);
        VendordataTestSupport.writeToken(dir.resolve("token"), TOKEN + "\n", "rw-------");
        String text = Files.readString(SAMPLE).replace("./.data/vendordata", dir.toString())
                .replace("bind_port = \"8443\"", "bind_port = \"" + port + "\"");
        Path config = dir.resolve("vendordata.conf");
        Files.writeString(config, text);
        return config;
    }

    private ProcessBuilder launcher(String... args) {
        List<String> command = new ArrayList<>(List.of(ROOT.resolve("bin/bourne-vendordata").toString()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).directory(ROOT.toFile());
        // This build made target/classes and target/lib; a build inside the test would run against another reactor.
        builder.environment().put("BOURNE_LAUNCH_NO_BUILD", "1");
        return builder;
    }

    private Outcome launch(String... args) throws Exception {
        Path out = dir.resolve("out.txt");
        Path err = dir.resolve("err.txt");
        Process process = launcher(args).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        // A safety net against a hung JVM, not a timing assertion.
        assertTrue(process.waitFor(5, TimeUnit.MINUTES), "bin/bourne-vendordata did not finish");
        return new Outcome(process.exitValue(), Files.readString(out), Files.readString(err));
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    @Test
    void validate_sampleConfiguration_exits0() throws Exception {
        Outcome outcome = launch("validate", "-config", sampleConfig(8443).toString());

        assertEquals(0, outcome.code(), outcome.err());
        assertEquals(VendordataCli.VALID + "\n", outcome.out());
    }

    @Test
    void validate_sampleAsShipped_inAFreshDirectory_namesTheFilesToCreate() throws Exception {
        // Run where ./.data does not exist yet: the sample's comments say how to make these files.
        Process process = launcher("validate", "-config", SAMPLE.toString()).directory(dir.toFile())
                .redirectOutput(dir.resolve("out.txt").toFile()).redirectError(dir.resolve("err.txt").toFile())
                .start();
        assertTrue(process.waitFor(5, TimeUnit.MINUTES), "bin/bourne-vendordata did not finish");

        assertEquals(1, process.exitValue());
        assertEquals(SAMPLE + ": vendordata.tls_cert_file: ./.data/vendordata/tls.crt: " + PemFiles.NO_SUCH_FILE + "\n"
                + SAMPLE + ": vendordata.tls_key_file: ./.data/vendordata/tls.key: " + PemFiles.NO_SUCH_FILE + "\n"
                + SAMPLE + ": vendordata.auth_token_file: ./.data/vendordata/token: " + PemFiles.NO_SUCH_FILE + "\n",
                Files.readString(dir.resolve("err.txt")));
    }

    @Test
    void badFlag_exits2() throws Exception {
        Outcome outcome = launch("run");

        assertEquals(2, outcome.code(), outcome.err());
        assertTrue(outcome.err().startsWith(VendordataCli.CONFIG_REQUIRED), outcome.err());
    }

    /**
     * Also as systemd runs a {@code Type=notify} unit: {@code NOTIFY_SOCKET} on a datagram socket this test reads;
     * {@code READY=1} comes when {@code /ready} answers 200, and SIGTERM gives {@code STOPPING=1} and exit status 0.
     */
    @Test
    void run_realProcess_signsForNova_untilSigterm() throws Exception {
        int port = freePort();
        Path config = sampleConfig(port);
        Path err = dir.resolve("run-err.txt");
        NotifySocketReceiver notify = NotifySocketReceiver.bind(dir.resolve("notify"));
        ProcessBuilder builder = launcher("run", "-config", config.toString());
        builder.environment().put("NOTIFY_SOCKET", notify.notifySocket());
        Process process = builder.redirectOutput(dir.resolve("run-out.txt").toFile()).redirectError(err.toFile())
                .start();
        try {
            HttpClient client = VendordataTestSupport.client();
            awaitReadyNotification(notify, process, err);
            assertEquals(200, VendordataTestSupport.get(client, port, VendordataServer.READY_PATH).statusCode(),
                    "READY=1 before /ready answered 200");

            HttpResponse<String> response = VendordataTestSupport.post(client, port,
                    VendordataTestSupport.json(VendordataTestSupport.novaBody()), Optional.of(TOKEN));
            assertEquals(200, response.statusCode(), response.body());
            JWSObject jws = JWSObject.parse(VendordataTestSupport.data(response));
            JWKSet jwks = JWKSet.parse(VendordataTestSupport.get(client, port, VendordataServer.JWKS_PATH).body());
            assertTrue(jws.verify(new ECDSAVerifier((ECKey) jwks.getKeyByKeyId(jws.getHeader().getKeyID()))));

            assertEquals(401, VendordataTestSupport.post(client, port, "{}", Optional.empty()).statusCode());
        } finally {
            process.destroy();
            assertTrue(process.waitFor(2, TimeUnit.MINUTES), "bourne-vendordata did not stop on SIGTERM");
        }
        assertEquals(0, process.exitValue(), "exit status after SIGTERM");
        // Sent before it exited: the datagram waits in the socket.
        NotifySocketReceiver.Notification stopping = notify.await("STOPPING=1", Duration.ofSeconds(10));
        notify.close();
        assertEquals("STOPPING=1\nSTATUS=stopping (SIGTERM)", stopping == null ? notify.received().toString()
                : stopping.text());
        String log = Files.readString(err);
        assertTrue(log.contains("bourne.audit - IID issued: project_id=" + VendordataTestSupport.PROJECT), log);
        assertTrue(log.contains("IID signing service stopped"), log);
        assertTrue(!log.contains(TOKEN), "the token is never logged");
        assertTrue(!log.contains("do-not-log-me"), "user data is never logged");
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(dir.resolve(SigningKeyJournal.FILE_NAME))));
    }

    /** Waits for {@code READY=1}; fails if the process exits first. */
    private static void awaitReadyNotification(NotifySocketReceiver notify, Process process, Path err)
            throws Exception {
        Instant deadline = Instant.now().plus(Duration.ofMinutes(2));
        while (Instant.now().isBefore(deadline)) {
            if (notify.await("READY=1", Duration.ofMillis(250)) != null) {
                return;
            }
            if (!process.isAlive()) {
                throw new AssertionError("bourne-vendordata exited " + process.exitValue() + ": "
                        + Files.readString(err));
            }
        }
        throw new AssertionError("no READY=1 in time: " + notify.received() + "\n" + Files.readString(err));
    }
}
