package dev.bourne.bench.tpm;

import dev.bourne.agent.cache.WorkloadKeyGenerator;
import dev.bourne.agent.node.AgentApiClient;
import dev.bourne.agent.node.AgentKeys;
import dev.bourne.agent.node.AgentSvid;
import dev.bourne.agent.node.NodeTpm;
import dev.bourne.agent.node.ServerConnection;
import dev.bourne.agent.node.ServerTrust;
import dev.bourne.agent.node.TpmNodeAttestor;
import dev.bourne.appliance.server.BourneServer;
import dev.bourne.bench.workload.Latencies;
import dev.bourne.core.config.HealthCheckSettings;
import dev.bourne.core.config.ServerSettings;
import dev.bourne.core.spiffeid.TrustDomain;
import dev.bourne.testing.tpm.Swtpm;
import dev.bourne.tpm.agent.AkType;
import dev.bourne.tpm.agent.TpmAgentSettings;
import dev.bourne.tpm.server.TpmEnrollment;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The agent's TPM attestation over the real agent API: a {@link BourneServer} started in this JVM (NodeAttestor
 * {@code tpm} with the EK enrolled and a PCR policy matching swtpm, SQLite datastore, KeyManager {@code disk}, agent
 * API on 127.0.0.1 with TLS 1.3), and the agent's own client ({@link AgentApiClient}, {@link TpmNodeAttestor} over
 * {@link NodeTpm}) against swtpm. Times the whole AttestAgent exchange (new agent key and CSR, payload, challenge,
 * ActivateCredential and quote, the server's checks, datastore writes, the agent SVID signed) and the RenewAgent with
 * continuous attestation over mTLS (NewRenewalChallenge, a fresh quote, the server's verification, a new SVID).
 */
final class AgentApiPhase {
    static final String ATTEST = "agent API: AttestAgent round trip with the TPM (TLS 1.3; agent key, CSR, TPM, server"
            + " checks, agent SVID), ECC P-256 AK";
    static final String RENEW = "agent API: RenewAgent with continuous attestation (mTLS; challenge, quote, server "
            + "checks, agent SVID), ECC P-256 AK";
    private static final TrustDomain TD = TrustDomain.parse("example.org");

    private AgentApiPhase() {
    }

    /**
     * @param pcrValues swtpm's PCRs 0-7, for a policy that matches
     * @param scratch a directory for the server's state, deleted afterwards
     */
    static Map<String, Latencies> run(Swtpm swtpm, Path scratch, String ekHash, Map<Integer, byte[]> pcrValues,
            int samples) throws Exception {
        Path dir = Files.createDirectory(scratch.resolve("server"));
        Map<String, Latencies> latencies = new LinkedHashMap<>();
        try (BourneServer server = BourneServer.start(settings(dir, pcrValues), Clock.systemUTC())) {
            server.dataStore().createTpmEnrollment(new TpmEnrollment(ekHash, new TreeMap<>(Map.of("rack", "r1")),
                    Optional.empty(), Optional.empty(), Clock.systemUTC().instant(), Optional.empty()));
            String expected = "spiffe://example.org/spire/agent/tpm/" + ekHash;
            TpmAgentSettings tpmSettings = TpmAgentSettings.defaults("tcp://127.0.0.1:" + swtpm.dataPort())
                    .withAk(SwtpmPhase.AK_HANDLES.get(AkType.ECC_P256), AkType.ECC_P256)
                    .withEventLogPath(scratch.resolve("no-binary_bios_measurements"));
            AgentKeys keys = new AgentKeys();
            try (NodeTpm tpm = new NodeTpm(tpmSettings);
                    ServerConnection connection = new ServerConnection("127.0.0.1", server.agentApiPort().orElseThrow(),
                            new ServerTrust(TD, Optional.of(server.ca().orElseThrow().bundle()), false,
                                    Clock.systemUTC()), keys)) {
                TpmNodeAttestor attestor = new TpmNodeAttestor(tpm);
                AgentApiClient client = new AgentApiClient(connection, TD,
                        new WorkloadKeyGenerator(new SecureRandom()));
                long[] attest = new long[samples];
                AgentSvid svid = null;
                for (int i = -SwtpmPhase.WARMUP; i < samples; i++) {
                    long t0 = System.nanoTime();
                    svid = client.attest(attestor);
                    long elapsed = System.nanoTime() - t0;
                    tpm.release(); // as the agent runtime does after each round of server work
                    check(svid, expected);
                    if (i >= 0) {
                        attest[i] = elapsed;
                    }
                }
                keys.set(svid);
                connection.reconnect();
                long[] renew = new long[samples];
                for (int i = -SwtpmPhase.WARMUP; i < samples; i++) {
                    long t0 = System.nanoTime();
                    AgentSvid renewed = client.renew(Optional.of(attestor));
                    long elapsed = System.nanoTime() - t0;
                    tpm.release();
                    check(renewed, expected);
                    keys.set(renewed);
                    if (i >= 0) {
                        renew[i] = elapsed;
                    }
                }
                latencies.put(ATTEST, new Latencies(attest));
                latencies.put(RENEW, new Latencies(renew));
            }
        } finally {
            swtpm.disconnect();
            deleteTree(dir);
        }
        return latencies;
    }

    private static void check(AgentSvid svid, String expected) {
        if (!svid.spiffeId().toString().equals(expected)) {
            throw new IllegalStateException("the server issued " + svid.spiffeId() + ", not " + expected);
        }
    }

    private static ServerSettings settings(Path dir, Map<Integer, byte[]> pcrValues) throws Exception {
        HexFormat hex = HexFormat.of();
        String policy = new TreeMap<>(pcrValues).entrySet().stream()
                .map(e -> "\"" + e.getKey() + "\" = [\"" + hex.formatHex(e.getValue()) + "\"]")
                .collect(Collectors.joining(", "));
        Path file = dir.resolve("server.conf");
        Files.writeString(file, """
                server {
                    bind_address = "127.0.0.1"
                    bind_port = "8081"
                    socket_path = "%s"
                    trust_domain = "example.org"
                    data_dir = "%s"
                    agent_ttl = "10m"
                }
                plugins {
                    NodeAttestor "tpm" {
                        plugin_data {
                            ek_trust = "enrolled"
                            pcr_policies = { "bench-golden" = { %s } }
                        }
                    }
                    DataStore "sql" {
                        plugin_data {
                            database_type = "sqlite3"
                            connection_string = "%s"
                        }
                    }
                    KeyManager "disk" { plugin_data { keys_path = "%s" } }
                }
                """.formatted(dir.resolve("private/api.sock"), dir.resolve("data"), policy,
                dir.resolve("data/datastore.sqlite3"), dir.resolve("data/keys")));
        ServerSettings s = ServerSettings.load(file).orElseThrow();
        // Port 0: the agent API on a free port of 127.0.0.1; no health or metrics listener.
        return new ServerSettings(s.bindAddress(), 0, s.socketPath(), s.trustDomain(), s.dataDir(), s.logLevel(),
                s.logFormat(), s.caTtl(), s.defaultX509SvidTtl(), s.defaultJwtSvidTtl(), s.agentTtl(), s.caKeyType(),
                s.jwtKeyType(), s.jwtIssuer(), s.caSubject(), s.auditLogEnabled(), HealthCheckSettings.DEFAULTS,
                Optional.empty(), s.plugins(), s.federation(),
                s.oidcDiscovery());
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path path : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(path);
            }
        }
    }
}
