package dev.bourne.core.systemd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bourne.testing.systemd.NotifySocketReceiver;
import dev.bourne.testing.systemd.NotifySocketReceiver.Notification;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link SystemdNotifier} against a real Unix datagram socket bound as systemd binds its notification socket (a path
 * in a temporary directory, or an abstract name), read with Netty's epoll datagram channel.
 */
class SystemdNotifierTest {
    /** A safety net for a loaded machine, not a timing assertion. */
    static final Duration BOUND = Duration.ofSeconds(10);
    static final long PID = ProcessHandle.current().pid();

    @TempDir
    Path dir;

    final List<AutoCloseable> opened = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = opened.size() - 1; i >= 0; i--) {
            opened.get(i).close();
        }
    }

    <T extends AutoCloseable> T open(T closeable) {
        opened.add(closeable);
        return closeable;
    }

    NotifySocketReceiver receiver() throws InterruptedException {
        return open(NotifySocketReceiver.bind(dir.resolve("notify")));
    }

    SystemdNotifier notifier(Map<String, String> environment) {
        return open(SystemdNotifier.create(environment, PID));
    }

    @Test
    void ready_sendsReadyAndStatusOnce() throws Exception {
        NotifySocketReceiver receiver = receiver();
        SystemdNotifier notifier = notifier(Map.of("NOTIFY_SOCKET", receiver.notifySocket()));
        assertTrue(notifier.enabled());

        assertTrue(notifier.ready("serving"));
        assertFalse(notifier.ready("serving again"));
        notifier.status("after ready");

        assertEquals("READY=1\nSTATUS=serving", next(receiver).text());
        // Datagrams on a Unix socket keep their order: a second READY=1 would come before this one.
        assertEquals("STATUS=after ready", next(receiver).text());
        assertTrue(notifier.readySent());
    }

    @Test
    void statusAndStopping_exactMessages() throws Exception {
        NotifySocketReceiver receiver = receiver();
        SystemdNotifier notifier = notifier(Map.of("NOTIFY_SOCKET", receiver.notifySocket()));

        notifier.status("waiting for the HSM: token not present");
        notifier.stopping("stopping on SIGTERM");

        assertEquals("STATUS=waiting for the HSM: token not present", next(receiver).text());
        assertEquals("STOPPING=1\nSTATUS=stopping on SIGTERM", next(receiver).text());
    }

    @Test
    void status_withNewlines_staysOneAssignment() throws Exception {
        NotifySocketReceiver receiver = receiver();
        SystemdNotifier notifier = notifier(Map.of("NOTIFY_SOCKET", receiver.notifySocket()));

        notifier.status("reason from elsewhere\nREADY=1\r\nMAINPID=1");

        Notification received = next(receiver);
        assertEquals("STATUS=reason from elsewhere READY=1 MAINPID=1", received.text());
        assertFalse(received.has("READY=1"));
    }

    @Test
    void status_long_isShortened() {
        String line = SystemdNotifier.statusLine("x".repeat(1000));
        assertEquals(SystemdNotifier.MAX_STATUS_CHARS, line.length());
        assertTrue(line.endsWith("..."));
    }

    @Test
    void abstractNamespaceSocket_receivesNotifications() throws Exception {
        NotifySocketReceiver receiver = open(NotifySocketReceiver.bindAbstract("bourne-test-" + UUID.randomUUID()));
        assertTrue(receiver.notifySocket().startsWith("@"));
        SystemdNotifier notifier = notifier(Map.of("NOTIFY_SOCKET", receiver.notifySocket()));

        notifier.ready("serving");

        assertEquals("READY=1\nSTATUS=serving", next(receiver).text());
    }

    @Test
    void noNotifySocket_isDisabledAndSilent() {
        SystemdNotifier notifier = notifier(Map.of("WATCHDOG_USEC", "1000000"));
        assertFalse(notifier.enabled());
        assertEquals(Optional.empty(), notifier.watchdogPeriod());
        notifier.ready("serving");
        notifier.status("status");
        notifier.stopping("stopping");
        notifier.close();
    }

    @ParameterizedTest
    @MethodSource("unusableSockets")
    void create_unusableSocket_disabled(String socket) {
        assertFalse(notifier(Map.of("NOTIFY_SOCKET", socket)).enabled());
    }

    static Stream<String> unusableSockets() {
        return Stream.of("", "relative/notify", "notify", "/" + "x".repeat(SystemdNotifier.MAX_ADDRESS_BYTES));
    }

    @Test
    void socketGone_sendFailsQuietlyAndReturns() throws Exception {
        NotifySocketReceiver receiver = open(NotifySocketReceiver.bind(dir.resolve("gone")));
        SystemdNotifier notifier = notifier(Map.of("NOTIFY_SOCKET", receiver.notifySocket()));
        receiver.close();
        opened.remove(receiver);

        // Nothing listens: each send fails (ENOENT/ECONNREFUSED), is logged once, and never throws.
        long start = System.nanoTime();
        notifier.ready("serving");
        notifier.status("still running");
        assertTrue(System.nanoTime() - start < BOUND.toNanos());
        assertTrue(notifier.readySent());
    }

    @Test
    void watchdog_pingsAtHalfTheInterval() throws Exception {
        NotifySocketReceiver receiver = receiver();
        SystemdNotifier notifier = notifier(Map.of("NOTIFY_SOCKET", receiver.notifySocket(),
                "WATCHDOG_USEC", "400000", "WATCHDOG_PID", Long.toString(PID)));
        assertEquals(Optional.of(Duration.ofMillis(200)), notifier.watchdogPeriod());

        List<Notification> pings = new ArrayList<>();
        while (pings.size() < 4) {
            Notification ping = receiver.await("WATCHDOG=1", BOUND);
            assertNotNull(ping, "no WATCHDOG=1 within " + BOUND + "; received " + receiver.received());
            assertEquals("WATCHDOG=1", ping.text());
            pings.add(ping);
        }
        // Three periods of 200 ms lie between the first and the fourth ping. A fixed-rate schedule may send a late
        // ping and the next one close together after a stall, so allow one period less, never less than that.
        long spanMillis = Duration.ofNanos(pings.get(3).receivedNanos() - pings.get(0).receivedNanos()).toMillis();
        assertTrue(spanMillis >= 400, "4 pings within " + spanMillis + " ms: more often than every 200 ms");
    }

    @Test
    void watchdog_pidOfAnotherProcess_noPings() throws Exception {
        // Two notifiers side by side: one whose WATCHDOG_PID is this process (the control, which must ping), one
        // whose WATCHDOG_PID is another process. Once the control pinged three times, the other must have sent
        // nothing: its first datagram is the status sent after that.
        NotifySocketReceiver control = open(NotifySocketReceiver.bind(dir.resolve("control")));
        NotifySocketReceiver other = open(NotifySocketReceiver.bind(dir.resolve("other")));
        notifier(Map.of("NOTIFY_SOCKET", control.notifySocket(), "WATCHDOG_USEC", "100000"));
        SystemdNotifier notOurs = notifier(Map.of("NOTIFY_SOCKET", other.notifySocket(), "WATCHDOG_USEC", "100000",
                "WATCHDOG_PID", Long.toString(PID + 1)));
        assertEquals(Optional.empty(), notOurs.watchdogPeriod());

        for (int i = 0; i < 3; i++) {
            assertNotNull(control.await("WATCHDOG=1", BOUND), "the control notifier did not ping");
        }
        notOurs.status("done");

        assertEquals("STATUS=done", next(other).text());
    }

    @ParameterizedTest
    @MethodSource("watchdogEnvironments")
    void watchdogPeriod_fromEnvironment(Map<String, String> environment, Optional<Duration> expected) {
        assertEquals(expected, SystemdNotifier.watchdogPeriod(environment, 4242));
    }

    static Stream<Arguments> watchdogEnvironments() {
        return Stream.of(
                Arguments.of(Map.of(), Optional.empty()),
                Arguments.of(Map.of("WATCHDOG_USEC", "30000000"), Optional.of(Duration.ofSeconds(15))),
                Arguments.of(Map.of("WATCHDOG_USEC", "30000000", "WATCHDOG_PID", "4242"),
                        Optional.of(Duration.ofSeconds(15))),
                Arguments.of(Map.of("WATCHDOG_USEC", "30000000", "WATCHDOG_PID", "4243"), Optional.empty()),
                Arguments.of(Map.of("WATCHDOG_USEC", "0"), Optional.empty()),
                Arguments.of(Map.of("WATCHDOG_USEC", "-5"), Optional.empty()),
                Arguments.of(Map.of("WATCHDOG_USEC", "30s"), Optional.empty()),
                Arguments.of(withEmptyPid(), Optional.of(Duration.ofMillis(500))));
    }

    static Map<String, String> withEmptyPid() {
        Map<String, String> environment = new HashMap<>();
        environment.put("WATCHDOG_USEC", "1000000");
        environment.put("WATCHDOG_PID", "");
        return environment;
    }

    static Notification next(NotifySocketReceiver receiver) throws InterruptedException {
        Notification next = receiver.poll(BOUND);
        assertNotNull(next, "no notification within " + BOUND);
        return next;
    }
}
