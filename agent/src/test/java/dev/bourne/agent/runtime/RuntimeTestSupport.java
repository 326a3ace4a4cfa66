package dev.bourne.agent.runtime;

import dev.bourne.appliance.server.BourneServer;
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
import java.util.Base64;
import java.util.Optional;

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
                HealthCheckSettings.DEFAULTS, Optional.empty(), s.plugins());
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
