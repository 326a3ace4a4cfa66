package dev.bourne.testing.postgres;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.Properties;

/**
 * One throwaway PostgreSQL database on the local cluster, owned by a login role of the same name that only it may
 * connect to, reached over TCP on 127.0.0.1 with SCRAM-SHA-256 password authentication, as the appliance reaches its
 * datastore.
 *
 * <p>Made by {@link PostgresCluster#createDatabase()}; {@link PostgresExtension} gives one to each test class and drops
 * it, with its role, after the class. Holds a password, so {@link #toString()} is redacted and equality is identity.
 */
public final class PostgresDatabase {

    private final String name;
    private final int port;
    private final char[] password;

    PostgresDatabase(String name, int port, char[] password) {
        this.name = name;
        this.port = port;
        this.password = password.clone();
    }

    /** The database name, {@code bourne_t_<random>}, which is also its owner role's name. */
    public String name() {
        return name;
    }

    /** {@code jdbc:postgresql://127.0.0.1:<port>/<name>}. */
    public String jdbcUrl() {
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + name;
    }

    /** The owner role, which may log in. */
    public String user() {
        return name;
    }

    /** A copy of the role's password; wipe it after use. */
    public char[] password() {
        return password.clone();
    }

    /** A new connection as the owner role; the caller closes it. */
    public Connection connect() throws SQLException {
        Properties properties = new Properties();
        properties.setProperty("user", name);
        properties.setProperty("password", new String(password));
        return DriverManager.getConnection(jdbcUrl(), properties);
    }

    void wipe() {
        Arrays.fill(password, '\0');
    }

    @Override
    public String toString() {
        return "PostgresDatabase[" + jdbcUrl() + ", user=" + name + ", password=<redacted>]";
    }
}
