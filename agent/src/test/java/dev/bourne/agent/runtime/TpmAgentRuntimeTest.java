package dev.bourne.agent.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bourne.agent.node.TpmNodeAttestor;
import dev.bourne.appliance.health.ServerMetrics;
import dev.bourne.appliance.server.BourneServer;
import dev.bourne.core.config.AgentSettings;
import dev.bourne.testing.tpm.Swtpm;
import dev.bourne.testing.tpm.WithSwtpm;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tss.tpm.TPM_HANDLE;

/**
 * The agent with NodeAttestor {@code tpm} against the real Bourne server, when things are wrong before attestation: a
 * TPM that cannot be reached leaves it not-ready with the TPM's error and retrying, and a join token given with the
 * TPM attestor is refused at start. The attestation itself, renewal, sealing and re-attestation:
 * {@link TpmAttestationEndToEndTest}.
 */
@WithSwtpm
class TpmAgentRuntimeTest {
    private static final Duration SYNC = Duration.ofMillis(250);
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final String AGENT_PREFIX = "spiffe://example.org/spire/agent/join_token/";

    @TempDir
    static Path serverDir;
    private static BourneServer server;
    private static int port;

    @TempDir
    Path dir;
    private AgentRuntime agent;
    private Swtpm swtpm;

    @BeforeAll
    static void startServer() throws Exception {
        server = BourneServer.start(RuntimeTestSupport.serverSettings(serverDir, Duration.ofMinutes(10), false,
                "NodeAttestor \"join_token\" { plugin_data {} }", 0), Clock.systemUTC());
        port = server.agentApiPort().orElseThrow();
    }

    @AfterAll
    static void stopServer() {
        if (server != null) {
            server.close();
        }
    }

    @BeforeEach
    void resetPcr16(Swtpm swtpm) {
        this.swtpm = swtpm;
        swtpm.tpm().PCR_Reset(TPM_HANDLE.pcr(16));
        swtpm.disconnect();
    }

    @AfterEach
    void stopAgent() {
        if (agent != null) {
            agent.close();
        }
    }

    private String device() {
        return "tcp://127.0.0.1:" + swtpm.dataPort();
    }

    private AgentSettings settings(String nodeAttestor, String keyManager) throws Exception {
        return RuntimeTestSupport.agentSettings(server, port, dir, dir.resolve("data"), """
                NodeAttestor %s
                KeyManager "%s" { plugin_data {} }
                WorkloadAttestor "unix" { plugin_data {} }
                """.formatted(nodeAttestor, keyManager));
    }

    private String tpmAttestor(String device) {
        return "\"tpm\" {\n plugin_data {\n tpm_device = \"" + device + "\"\n seal_pcrs = [16]\n"
                + " event_log_path = \"" + dir.resolve("no-event-log") + "\"\n }\n }";
    }

    private static AgentStatus awaitStatus(AgentRuntime runtime, Predicate<AgentStatus> condition) throws Exception {
        CompletableFuture<AgentStatus> reached = new CompletableFuture<>();
        runtime.onStatus(s -> {
            if (condition.test(s)) {
                reached.complete(s);
            }
        });
        AgentStatus now = runtime.status();
        return condition.test(now) ? now : reached.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    }

    private static long counter(String name) {
        return RuntimeTestSupport.counter(server, name);
    }

    @Test
    void tpmUnreachable_agentServesTheWorkloadApiNotReadyWithTheTpmError() throws Exception {
        int closed;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = socket.getLocalPort();
        }
        long attestations = counter(ServerMetrics.ATTESTATIONS);
        agent = AgentRuntime.start(settings(tpmAttestor("tcp://127.0.0.1:" + closed), "disk"), Optional.empty(),
                Clock.systemUTC(), new SecureRandom(), SYNC);
        AgentStatus status = awaitStatus(agent, s -> s.reason().startsWith(TpmNodeAttestor.TPM_FAILED));
        assertFalse(status.attested());
        assertTrue(status.reason().contains("open TPM device tcp://127.0.0.1:" + closed + " failed: cannot connect"),
                status.reason());
        assertTrue(Files.exists(agent.socketPath()));
        assertEquals(attestations, counter(ServerMetrics.ATTESTATIONS), "nothing reached the server");
    }

    @Test
    void joinTokenFlagWithTpm_refusedAtStart() throws Exception {
        AgentStartException e = assertThrows(AgentStartException.class, () -> AgentRuntime.start(
                settings(tpmAttestor(device()), "disk"), Optional.of("token"), Clock.systemUTC(), new SecureRandom(),
                SYNC));
        assertEquals(AgentRuntime.JOIN_TOKEN_FLAG_WITH_TPM, e.getMessage());
    }
}
