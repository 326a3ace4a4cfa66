package dev.bourne.agent.runtime;

import dev.bourne.appliance.server.BourneServer;
import dev.bourne.core.config.AgentSettings;
import dev.bourne.core.config.HealthCheckSettings;
import dev.bourne.core.config.ServerSettings;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Optional;
import java.util.concurrent.Callable;

/** What the agent runtime tests against a real server share: its settings for a test, the agent's bootstrap bundle. */
final class RuntimeTestSupport {

    private RuntimeTestSupport() {
    }

    /** {@code file}'s server settings with the agent API on {@code agentPort} (0: any free port), no health listener. */
    static ServerSettings serverSettings(Path file, int agentPort) throws Exception {
        ServerSettings s = ServerSettings.load(file).orElseThrow();
        return new ServerSettings(s.bindAddress(), agentPort, s.socketPath(), s.trustDomain(), s.dataDir(),
                s.logLevel(), s.logFormat(), s.caTtl(), s.defaultX509SvidTtl(), s.defaultJwtSvidTtl(), s.agentTtl(),
                s.caKeyType(), s.jwtKeyType(), s.jwtIssuer(), s.caSubject(), s.auditLogEnabled(),
                HealthCheckSettings.DEFAULTS, Optional.empty(), s.plugins(), s.federation(), s.oidcDiscovery());
    }

    /**
     * Writes {@code serverDir/server.conf} for trust domain {@code example.org} on loopback (SQLite datastore and disk
     * key manager under {@code serverDir/data}, admin socket {@code serverDir/private/api.sock}) with the node
     * attestor blocks given, and returns its settings with the agent API on {@code agentPort} (0: any free port).
     */
    static ServerSettings serverSettings(Path serverDir, Duration agentTtl, boolean auditLog, String nodeAttestors,
            int agentPort) throws Exception {
        return serverSettings(serverDir, "example.org", "", agentTtl, auditLog, nodeAttestors, agentPort);
    }

    /**
     * {@link #serverSettings(Path, Duration, boolean, String, int)} for trust domain {@code trustDomain}, with
     * {@code serverExtra} (more keys and blocks, such as {@code federation { ... }}) inside the {@code server} block.
     */
    static ServerSettings serverSettings(Path serverDir, String trustDomain, String serverExtra, Duration agentTtl,
            boolean auditLog, String nodeAttestors, int agentPort) throws Exception {
        Files.createDirectories(serverDir);
        Path file = serverDir.resolve("server.conf");
        Files.writeString(file, """
                server {
                    bind_address = "127.0.0.1"
                    bind_port = "8081"
                    socket_path = "%s"
                    trust_domain = "%s"
                    data_dir = "%s"
                    agent_ttl = "%ds"
                    audit_log_enabled = %s
                %s
                }
                plugins {
                %s
                    DataStore "sql" {
                        plugin_data {
                            database_type = "sqlite3"
                            connection_string = "%s"
                        }
                    }
                    KeyManager "disk" { plugin_data { keys_path = "%s" } }
                }
                """.formatted(serverDir.resolve("private/api.sock"), trustDomain, serverDir.resolve("data"),
                agentTtl.toSeconds(), auditLog, serverExtra, nodeAttestors, serverDir.resolve("data/datastore.sqlite3"),
                serverDir.resolve("data/keys")));
        return serverSettings(file, agentPort);
    }

    /**
     * Writes {@code dir/agent.conf} (and the bootstrap bundle beside it) for an agent of {@code server}, whose agent
     * API is on {@code port}: data in {@code dataDir}, Workload API on {@code dir/api.sock}, the plugin blocks given.
     */
    static AgentSettings agentSettings(BourneServer server, int port, Path dir, Path dataDir, String plugins)
            throws Exception {
        return agentSettings(server, "example.org", port, dir, dataDir, plugins);
    }

    /** {@link #agentSettings(BourneServer, int, Path, Path, String)} for an agent of trust domain {@code trustDomain}. */
    static AgentSettings agentSettings(BourneServer server, String trustDomain, int port, Path dir, Path dataDir,
            String plugins) throws Exception {
        Path bundle = bootstrapBundle(server, dir.resolve("bootstrap.pem"));
        Path conf = dir.resolve("agent.conf");
        Files.writeString(conf, """
                agent {
                    data_dir = "%s"
                    trust_domain = "%s"
                    server_address = "127.0.0.1"
                    server_port = %d
                    socket_path = "%s"
                    trust_bundle_path = "%s"
                }
                plugins {
                %s
                }
                """.formatted(dataDir, trustDomain, port, dir.resolve("api.sock"), bundle, plugins));
        return AgentSettings.load(conf).orElseThrow();
    }

    /** Writes the server's X.509 authorities as PEM to {@code file}: the agent's {@code trust_bundle_path}. */
    static Path bootstrapBundle(BourneServer server, Path file) throws IOException, CertificateEncodingException {
        StringBuilder pem = new StringBuilder();
        for (X509Certificate cert : server.ca().orElseThrow().bundle().x509Authorities()) {
            pem.append("-----BEGIN CERTIFICATE-----\n")
                    .append(Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(cert.getEncoded()))
                    .append("\n-----END CERTIFICATE-----\n");
        }
        Files.writeString(file, pem, StandardCharsets.US_ASCII);
        return file;
    }

    /**
     * Waits until {@code condition} holds (for state that announces no change: metrics, the datastore, the agent's
     * status text), polling every 50 ms; fails naming {@code what} after {@code timeout}.
     */
    static void await(String what, Duration timeout, Callable<Boolean> condition) throws Exception {
        Instant deadline = Instant.now().plus(timeout);
        while (!condition.call()) {
            if (!Instant.now().isBefore(deadline)) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(50);
        }
    }

    /**
     * Runs {@code bourne-server ARGS -socketPath <serverDir>/private/api.sock} in-process, as an operator would over the
     * admin socket, logs what it printed, and returns its exit code.
     */
    static int serverCli(Path serverDir, String... args) {
        java.io.StringWriter out = new java.io.StringWriter();
        java.io.StringWriter err = new java.io.StringWriter();
        java.util.List<String> full = new java.util.ArrayList<>(java.util.List.of(args));
        full.addAll(java.util.List.of("-socketPath", serverDir.resolve("private/api.sock").toString()));
        int code = dev.bourne.appliance.cli.ServerCli.execute(new dev.bourne.appliance.cli.ServerCli(
                java.util.Map.of(), p -> false, java.time.Clock.systemUTC()), new java.io.PrintWriter(out),
                new java.io.PrintWriter(err), full.toArray(String[]::new));
        org.slf4j.LoggerFactory.getLogger(RuntimeTestSupport.class).info("bourne-server {} -> {}: {}{}",
                String.join(" ", args), code, out, err);
        return code;
    }

    /** A counter from the server's Prometheus exposition, summed over the series carrying every label given. */
    static long counter(BourneServer server, String name, String... labels) {
        long total = 0;
        for (String line : server.metrics().scrape().split("\n")) {
            if (!line.startsWith(name + "_total{")) {
                continue;
            }
            boolean all = true;
            for (String label : labels) {
                all &= line.contains(label);
            }
            if (all) {
                total += (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return total;
    }

    /**
     * Copies everything written to {@code System.err} (where slf4j-simple writes the server's audit log) while still
     * printing it, until closed.
     */
    static final class StderrTee implements AutoCloseable {
        private final PrintStream original = System.err;
        private final ByteArrayOutputStream copy = new ByteArrayOutputStream();

        private StderrTee() {
        }

        static StderrTee start() {
            StderrTee tee = new StderrTee();
            System.setErr(new PrintStream(new OutputStream() {
                @Override
                public void write(int b) {
                    synchronized (tee.copy) {
                        tee.copy.write(b);
                    }
                    tee.original.write(b);
                }

                @Override
                public void write(byte[] b, int off, int len) {
                    synchronized (tee.copy) {
                        tee.copy.write(b, off, len);
                    }
                    tee.original.write(b, off, len);
                }
            }, true, StandardCharsets.UTF_8));
            return tee;
        }

        /** Everything written to {@code System.err} so far: every log line of the server and the agent. */
        String all() {
            synchronized (copy) {
                return copy.toString(StandardCharsets.UTF_8);
            }
        }

        /** The audit log lines written so far (logger {@code bourne.audit}); the other log lines are left out. */
        String auditLog() {
            String all;
            synchronized (copy) {
                all = copy.toString(StandardCharsets.UTF_8);
            }
            StringBuilder audit = new StringBuilder();
            for (String line : all.split("\n")) {
                if (line.contains(" " + dev.bourne.appliance.agentapi.AuditLog.LOGGER + " - ")) {
                    audit.append(line).append('\n');
                }
            }
            return audit.toString();
        }

        @Override
        public void close() {
            System.setErr(original);
        }
    }
}
