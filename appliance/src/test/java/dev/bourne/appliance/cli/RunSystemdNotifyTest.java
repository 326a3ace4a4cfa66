package dev.bourne.appliance.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bourne.core.systemd.StopSignals;
import dev.bourne.testing.hsm.SoftHsmToken;
import dev.bourne.testing.hsm.WithSoftHsm;
import dev.bourne.testing.systemd.NotifySocketReceiver;
import dev.bourne.testing.systemd.NotifySocketReceiver.Notification;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bourne-server run} under systemd while the HSM is not there at start (its PKCS#11 library is missing, as
 * when a vendor package or device is not ready yet): the server starts not-ready and says why in {@code STATUS=},
 * retries the CA every {@code CA_RETRY_INTERVAL}, and sends {@code READY=1} only once the token answered and the
 * admin socket serves. Runs the CLI in this JVM (a SoftHSM2 token from the fixture), stopped as SIGTERM would.
 */
@WithSoftHsm
class RunSystemdNotifyTest {
    /** The CA retry runs every 5 s; the rest absorbs a loaded 2-core machine. A safety net, not a timing assertion. */
    static final Duration BOUND = Duration.ofSeconds(60);

    private final SoftHsmToken token;

    @TempDir
    Path dir;

    RunSystemdNotifyTest(SoftHsmToken token) {
        this.token = token;
    }

    @Test
    void hsmMissingAtStart_waitingStatusThenReadyOnceTheTokenAnswers() throws Exception {
        Path library = dir.resolve("libvendor-pkcs11.so");
        Path socket = dir.resolve("private/api.sock");
        Path config = dir.resolve("server.conf");
        int port;
        try (ServerSocket free = new ServerSocket(0)) {
            port = free.getLocalPort();
        }
        Files.writeString(config, """
                server {
                    bind_address = "127.0.0.1"
                    bind_port = "%d"
                    socket_path = "%s"
                    trust_domain = "example.org"
                    data_dir = "%s"
                }
                plugins {
                    DataStore "sql" {
                        plugin_data {
                            database_type = "sqlite3"
                            connection_string = "%s"
                        }
                    }
                    NodeAttestor "join_token" {
                        plugin_data {
                        }
                    }
                    KeyManager "pkcs11" {
                        plugin_data {
                            library = "%s"
                            token_label = "%s"
                            pin_file = "%s"
                        }
                    }
                }
                """.formatted(port, socket, dir.resolve("data"), dir.resolve("data/datastore.sqlite3"), library,
                token.label(), token.pinFile()));
        StopSignals stop = StopSignals.manual();
        ExecutorService thread = Executors.newSingleThreadExecutor();
        try (NotifySocketReceiver notify = NotifySocketReceiver.bind(dir.resolve("notify"))) {
            StringWriter err = new StringWriter();
            ServerCli cli = new ServerCli(Map.of("NOTIFY_SOCKET", notify.notifySocket()), p -> false,
                    Clock.systemUTC(), stop);
            Future<Integer> run = thread.submit(() -> ServerCli.execute(cli, new PrintWriter(new StringWriter()),
                    new PrintWriter(err), "run", "-config", config.toString()));

            assertEquals("STATUS=starting", next(notify).text());
            Notification waiting = next(notify);
            assertTrue(waiting.text().startsWith("STATUS=waiting: key manager pkcs11 is UNAVAILABLE: "),
                    waiting.text());
            assertTrue(waiting.text().contains(library.toString()), waiting.text());
            assertFalse(waiting.text().contains(new String(token.pin())), "the PIN reached systemd's status");
            assertFalse(Files.exists(socket), "the admin socket opened before the CA could start");

            // The library appears (the vendor's package installed, the device attached): the next retry succeeds.
            Files.createSymbolicLink(library, token.library());
            Notification ready = notify.await("READY=1", BOUND);
            assertNotNull(ready, "no READY=1 within " + BOUND + ": " + notify.received() + "\n" + err);
            try (SocketChannel probe = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                assertTrue(probe.connect(UnixDomainSocketAddress.of(socket)), "READY=1 before the admin socket");
            }
            assertEquals("ready: admin API on " + socket + ", agent API on port " + port, ready.value("STATUS"));

            stop.request("SIGTERM");
            Notification stopping = notify.await("STOPPING=1", BOUND);
            assertNotNull(stopping, "no STOPPING=1: " + notify.received());
            assertEquals(ServerCli.OK, run.get(BOUND.toSeconds(), TimeUnit.SECONDS), err.toString());
            assertFalse(Files.exists(socket), "admin socket left behind");
            assertFalse(Files.exists(dir.resolve("private/api.sock.lock")), "lock file left behind");
        } finally {
            stop.request("test end");
            thread.shutdownNow();
        }
    }

    static Notification next(NotifySocketReceiver notify) throws InterruptedException {
        Notification next = notify.poll(BOUND);
        assertNotNull(next, "no notification within " + BOUND);
        return next;
    }
}
