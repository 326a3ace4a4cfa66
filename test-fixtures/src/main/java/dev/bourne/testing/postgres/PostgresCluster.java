package dev.bourne.testing.postgres;

import dev.bourne.testing.Exec;
import dev.bourne.testing.RequiredTool;
import org.postgresql.util.PasswordUtil;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The machine's local PostgreSQL cluster as Debian's {@code postgresql-common} manages it, used by the tests of this
 * JVM to create and drop throwaway databases.
 *
 * <p>On first use it lists clusters with {@code pg_lsclusters}, takes the one named by the system property
 * {@value #CLUSTER_PROPERTY} ({@code <version>/<name>}) or else the newest online one or else the newest one, starts it
 * with {@code pg_ctlcluster} when it is down, and waits until it accepts TCP connections on 127.0.0.1 at the port
 * {@code pg_lsclusters} reports. Administration goes through {@code psql} on the Unix socket as the {@code postgres}
 * superuser ({@code runuser}) when running as root, as the current user otherwise.
 *
 * <p>Passwords never reach {@code psql}: roles get a SCRAM-SHA-256 verifier computed here, so neither command lines,
 * error messages nor the server log can show one.
 */
public final class PostgresCluster {

    /** System property choosing the cluster, such as {@code 15/main}. */
    public static final String CLUSTER_PROPERTY = "bourne.postgres.cluster";

    private static final Duration PSQL_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration CONNECT_POLL = Duration.ofMillis(100);
    private static final Pattern NAME = Pattern.compile("bourne_t_[0-9a-f]{12}");
    private static final char[] PASSWORD_ALPHABET =
            "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789".toCharArray();
    private static final int PASSWORD_LENGTH = 24;

    private static PostgresCluster local;
    private static IllegalStateException localFailure;

    private final ClusterInfo cluster;
    private final boolean root;
    private final SecureRandom random = new SecureRandom();

    /**
     * One line of {@code pg_lsclusters --no-header}.
     *
     * @param status {@code online}, {@code down}, {@code online,recovery}, ...
     */
    record ClusterInfo(String version, String name, int port, String status, String owner) {

        boolean online() {
            return status.startsWith("online");
        }

        String id() {
            return version + "/" + name;
        }
    }

    private PostgresCluster(ClusterInfo cluster, boolean root) {
        this.cluster = cluster;
        this.root = root;
    }

    /**
     * The local cluster, found (and started) on first call. Fails, on this and every later call, when PostgreSQL is not
     * installed, no cluster exists or it cannot be started or administered.
     */
    public static synchronized PostgresCluster local() {
        if (local != null) {
            return local;
        }
        if (localFailure != null) {
            throw new IllegalStateException("the local PostgreSQL cluster failed to start earlier in this JVM",
                    localFailure);
        }
        try {
            local = open();
            return local;
        } catch (RuntimeException e) {
            localFailure = e instanceof IllegalStateException ise ? ise
                    : new IllegalStateException("cannot use the local PostgreSQL cluster", e);
            throw localFailure;
        }
    }

    /** The TCP port on 127.0.0.1. */
    public int port() {
        return cluster.port();
    }

    /** {@code <version>/<name>}, such as {@code 15/main}. */
    public String id() {
        return cluster.id();
    }

    /**
     * Creates a role {@code bourne_t_<random>} that may log in with a random password and nothing more, and a database
     * of the same name that it owns and that only it (and superusers) may connect to.
     */
    public PostgresDatabase createDatabase() {
        String name = "bourne_t_" + HexFormat.of().formatHex(randomBytes(6));
        char[] password = randomPassword();
        try {
            String verifier = PasswordUtil.encodeScramSha256(password.clone());
            admin("CREATE ROLE " + name + " LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '"
                            + verifier + "'",
                    "CREATE DATABASE " + name + " OWNER " + name,
                    "REVOKE ALL ON DATABASE " + name + " FROM PUBLIC");
            return new PostgresDatabase(name, cluster.port(), password);
        } finally {
            Arrays.fill(password, '\0');
        }
    }

    /** Drops the database, disconnecting its sessions, then its role. Dropping twice does nothing the second time. */
    public void drop(PostgresDatabase database) {
        String name = checkedName(database.name());
        database.wipe();
        admin("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)", "DROP ROLE IF EXISTS " + name);
    }

    /** Whether the cluster has a database of this name, asked of the catalog through an admin session. */
    public boolean databaseExists(String name) {
        return !adminQuery("SELECT 1 FROM pg_catalog.pg_database WHERE datname = '" + checkedName(name) + "'")
                .isBlank();
    }

    /** Whether the cluster has a role of this name. */
    public boolean roleExists(String name) {
        return !adminQuery("SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = '" + checkedName(name) + "'").isBlank();
    }

    /** Parses {@code pg_lsclusters --no-header}: version, name, port, status, owner, data directory, log file. */
    static List<ClusterInfo> parseClusters(String output) {
        List<ClusterInfo> clusters = new ArrayList<>();
        for (String line : output.split("\\R")) {
            if (line.isBlank()) {
                continue;
            }
            String[] fields = line.strip().split("\\s+");
            if (fields.length < 5) {
                throw new IllegalStateException("unexpected line from pg_lsclusters: " + line);
            }
            int port;
            try {
                port = Integer.parseInt(fields[2]);
            } catch (NumberFormatException e) {
                throw new IllegalStateException("unexpected port in pg_lsclusters line: " + line, e);
            }
            clusters.add(new ClusterInfo(fields[0], fields[1], port, fields[3], fields[4]));
        }
        return clusters;
    }

    /** The cluster named by {@code wanted} ({@code version/name}), else the newest online one, else the newest. */
    static Optional<ClusterInfo> choose(List<ClusterInfo> clusters, String wanted) {
        if (wanted != null && !wanted.isBlank()) {
            return clusters.stream().filter(c -> c.id().equals(wanted.strip())).findFirst();
        }
        Comparator<ClusterInfo> newest = Comparator.comparing((ClusterInfo c) -> versionNumber(c.version()))
                .thenComparing(ClusterInfo::name).reversed();
        return clusters.stream().sorted(Comparator.comparing((ClusterInfo c) -> !c.online()).thenComparing(newest))
                .findFirst();
    }

    private static PostgresCluster open() {
        RequiredTool.PSQL.path();
        if (RequiredTool.PG_LSCLUSTERS.find().isEmpty()) {
            return openWithoutClusterTools();
        }
        Path lsclusters = RequiredTool.PG_LSCLUSTERS.path();
        String wanted = System.getProperty(CLUSTER_PROPERTY);
        List<ClusterInfo> clusters = parseClusters(Exec.run(List.of(lsclusters.toString(), "--no-header"), Map.of(),
                PSQL_TIMEOUT).requireSuccess().stdout());
        ClusterInfo cluster = choose(clusters, wanted).orElseThrow(() -> new IllegalStateException(clusters.isEmpty()
                ? "no PostgreSQL cluster exists on this machine: install the Debian package 'postgresql' (apt-get "
                        + "install postgresql creates one), or create one with pg_createcluster <version> main"
                : "no PostgreSQL cluster " + wanted + " (system property " + CLUSTER_PROPERTY + "); pg_lsclusters "
                        + "lists " + clusters.stream().map(ClusterInfo::id).toList()));
        boolean root = isRoot();
        if (!cluster.online()) {
            Path ctlcluster = RequiredTool.PG_CTLCLUSTER.path();
            Exec.Result started = Exec.run(List.of(ctlcluster.toString(), cluster.version(), cluster.name(), "start"),
                    Map.of(), START_TIMEOUT);
            if (started.exitCode() != 0) {
                throw new IllegalStateException("PostgreSQL cluster " + cluster.id() + " is down and pg_ctlcluster "
                        + "could not start it" + (root ? "" : " (it needs root or the cluster owner, "
                        + cluster.owner() + ")") + ": exit " + started.exitCode() + "\n" + started.stdout()
                        + started.stderr());
            }
        }
        awaitTcp(cluster);
        PostgresCluster opened = new PostgresCluster(cluster, root);
        opened.adminQuery("SELECT 1");
        return opened;
    }

    /**
     * RHEL-family machines have no {@code pg_lsclusters}: one server per machine, started by the system
     * ({@code bin/test} runs {@code postgresql-setup --initdb} and starts it). Its port is {@code PGPORT} or 5432.
     */
    private static PostgresCluster openWithoutClusterTools() {
        String portText = System.getenv().getOrDefault("PGPORT", "5432");
        int port;
        try {
            port = Integer.parseInt(portText);
        } catch (NumberFormatException e) {
            throw new IllegalStateException("PGPORT is not a port number: " + portText, e);
        }
        ClusterInfo cluster = new ClusterInfo("system", "default", port, "online", "postgres");
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 1_000);
        } catch (IOException e) {
            throw new IllegalStateException("PostgreSQL does not answer on 127.0.0.1:" + port + " and this machine "
                    + "has no pg_ctlcluster to start it: install postgresql-server, then run "
                    + "'postgresql-setup --initdb' and 'systemctl start postgresql' (bin/test does this)", e);
        }
        PostgresCluster opened = new PostgresCluster(cluster, isRoot());
        opened.adminQuery("SELECT 1");
        return opened;
    }

    private static void awaitTcp(ClusterInfo cluster) {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        IOException last = null;
        while (System.nanoTime() < deadline) {
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress("127.0.0.1", cluster.port()), 1_000);
                return;
            } catch (IOException e) {
                last = e;
            }
            try {
                Thread.sleep(CONNECT_POLL.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for PostgreSQL", e);
            }
        }
        throw new IllegalStateException("PostgreSQL cluster " + cluster.id() + " does not accept TCP connections on "
                + "127.0.0.1:" + cluster.port() + " after " + START_TIMEOUT.toSeconds() + " s; check listen_addresses "
                + "in /etc/postgresql/" + cluster.version() + "/" + cluster.name() + "/postgresql.conf", last);
    }

    private void admin(String... statements) {
        List<String> command = psql();
        command.add("-q");
        for (String statement : statements) {
            command.add("-c");
            command.add(statement);
        }
        runPsql(command);
    }

    private String adminQuery(String query) {
        List<String> command = psql();
        command.addAll(List.of("-A", "-t", "-c", query));
        return runPsql(command).stdout().strip();
    }

    /** psql on the cluster's Unix socket: as postgres through runuser when root, as ourselves otherwise. */
    private List<String> psql() {
        List<String> command = new ArrayList<>();
        if (root) {
            command.addAll(List.of(RequiredTool.RUNUSER.path().toString(), "-u", cluster.owner(), "--"));
        }
        command.addAll(List.of(RequiredTool.PSQL.path().toString(), "-X", "-v", "ON_ERROR_STOP=1",
                "-p", Integer.toString(cluster.port()), "-d", "postgres"));
        return command;
    }

    private Exec.Result runPsql(List<String> command) {
        Exec.Result result = Exec.run(command, Map.of("PGAPPNAME", "bourne-test-fixture"), PSQL_TIMEOUT);
        if (result.exitCode() != 0) {
            String hint = root ? "" : "\nNot running as root, so psql ran as " + System.getProperty("user.name")
                    + ": run the tests as root (the fixture then uses runuser -u " + cluster.owner() + "), or give this"
                    + " user a superuser role on this test cluster (it creates and force-drops other roles' databases):"
                    + " sudo -u " + cluster.owner() + " createuser --superuser " + System.getProperty("user.name");
            throw new IllegalStateException("psql on PostgreSQL cluster " + cluster.id() + " exited with "
                    + result.exitCode() + ": " + result.stderr().strip() + hint);
        }
        return result;
    }

    private static boolean isRoot() {
        try {
            // /proc/self belongs to the process's effective user.
            return ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0;
        } catch (IOException | UnsupportedOperationException e) {
            return "root".equals(System.getProperty("user.name"));
        }
    }

    private static String checkedName(String name) {
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("not a fixture database name: " + name);
        }
        return name;
    }

    private static int versionNumber(String version) {
        try {
            return (int) (Double.parseDouble(version) * 100);
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private char[] randomPassword() {
        char[] password = new char[PASSWORD_LENGTH];
        for (int i = 0; i < password.length; i++) {
            password[i] = PASSWORD_ALPHABET[random.nextInt(PASSWORD_ALPHABET.length)];
        }
        return password;
    }

    private byte[] randomBytes(int count) {
        byte[] bytes = new byte[count];
        random.nextBytes(bytes);
        return bytes;
    }
}
