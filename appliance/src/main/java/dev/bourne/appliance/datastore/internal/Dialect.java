package dev.bourne.appliance.datastore.internal;

import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;

/**
 * Everything that differs between SQLite and PostgreSQL, in one place. The schema itself differs only in column
 * types, kept in one migration directory per dialect ({@link #migrationLocation()}); every statement the datastore
 * runs is plain SQL both accept ({@code ON CONFLICT}, {@code RETURNING}, {@code LIMIT}).
 */
public enum Dialect {
    SQLITE("sqlite3", "sqlite"),
    POSTGRES("postgres", "postgres");

    /** SQLite's primary result codes for a locked database (sqlite-jdbc reports them as the vendor error code). */
    private static final int SQLITE_BUSY = 5;
    private static final int SQLITE_LOCKED = 6;
    private static final int SQLITE_CONSTRAINT = 19;
    private static final int SQLITE_CANTOPEN = 14;
    private static final int SQLITE_IOERR = 10;
    private static final int SQLITE_FULL = 13;
    /** A constant key for PostgreSQL's transaction-scoped advisory lock that orders change events ("BOURNEEV"). */
    private static final long EVENT_LOCK_KEY = 0x424F55524E450045L;

    private final String configName;
    private final String directory;

    Dialect(String configName, String directory) {
        this.configName = configName;
        this.directory = directory;
    }

    /** The {@code database_type} value naming this dialect. */
    public String configName() {
        return configName;
    }

    /** The classpath location of this dialect's versioned migrations. */
    public String migrationLocation() {
        return "classpath:dev/bourne/appliance/datastore/migration/" + directory;
    }

    /**
     * The statement a write transaction runs just before appending change events, or null. On PostgreSQL, concurrent
     * transactions (on one or several servers) take identity values in one order but may commit in another; a
     * consumer reading "events after N" could then skip an event committed late with a smaller ID. Holding one
     * advisory lock from the first event insert to commit makes ID order and commit order the same. SQLite already
     * serialises writers.
     */
    public String eventOrderLock() {
        return this == POSTGRES ? "SELECT pg_advisory_xact_lock(" + EVENT_LOCK_KEY + ")" : null;
    }

    /**
     * The clause that locks rows read inside a write transaction until it ends, so two servers cannot both update
     * from the same revision. SQLite has no row locks and needs none: a write transaction holds the database lock.
     */
    public String forUpdate() {
        return this == POSTGRES ? " FOR UPDATE" : "";
    }

    /** Whether the exception says a unique or primary key constraint refused the row. */
    public boolean isUniqueViolation(SQLException e) {
        for (SQLException x = e; x != null; x = x.getNextException()) {
            if (this == POSTGRES && "23505".equals(x.getSQLState())) {
                return true;
            }
            if (this == SQLITE && (x.getErrorCode() & 0xff) == SQLITE_CONSTRAINT
                    && x.getMessage() != null && (x.getMessage().contains("UNIQUE") || x.getMessage().contains("PRIMARY KEY"))) {
                return true;
            }
        }
        return false;
    }

    /** Whether a retry of the whole transaction may succeed: SQLite busy or locked, PostgreSQL serialization. */
    public boolean isRetryable(SQLException e) {
        if (this == SQLITE) {
            int code = e.getErrorCode() & 0xff;
            return code == SQLITE_BUSY || code == SQLITE_LOCKED;
        }
        // 40001 serialization_failure, 40P01 deadlock_detected: PostgreSQL asks the client to retry.
        return "40001".equals(e.getSQLState()) || "40P01".equals(e.getSQLState());
    }

    /**
     * Whether the exception says the connection itself broke (PostgreSQL restarted, a backend was terminated, the
     * network dropped). Such a connection is evicted by the pool; a transaction that never reached its commit had no
     * effect and can run again on a new connection.
     */
    public boolean isConnectionFailure(SQLException e) {
        String state = e.getSQLState();
        return state != null && (state.startsWith("08") || state.startsWith("57P"));
    }

    /** Whether the exception says the database cannot be reached or used right now. */
    public boolean isUnavailable(SQLException e) {
        if (e instanceof SQLTransientConnectionException) {
            return true;    // Hikari: no connection within the timeout
        }
        String state = e.getSQLState();
        if (state != null && (state.startsWith("08") || state.startsWith("57P") || state.equals("53300"))) {
            return true;    // connection exceptions, admin shutdown, too many connections
        }
        if (this == SQLITE) {
            int code = e.getErrorCode() & 0xff;
            return code == SQLITE_BUSY || code == SQLITE_LOCKED || code == SQLITE_CANTOPEN || code == SQLITE_IOERR
                    || code == SQLITE_FULL;
        }
        return false;
    }

    /** The dialect named by a {@code database_type} value, or null. */
    public static Dialect fromConfigName(String name) {
        for (Dialect dialect : values()) {
            if (dialect.configName.equals(name)) {
                return dialect;
            }
        }
        return null;
    }
}
