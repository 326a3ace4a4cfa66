package dev.bourne.appliance.datastore;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.bourne.appliance.datastore.internal.Dialect;
import dev.bourne.appliance.datastore.internal.Migrations;
import dev.bourne.appliance.datastore.internal.PostgresConnectionString;
import dev.bourne.appliance.datastore.internal.Sql;
import dev.bourne.appliance.datastore.internal.SqliteFiles;
import dev.bourne.core.bundle.SpiffeBundle;
import dev.bourne.core.bundle.SpiffeBundleJson;
import dev.bourne.core.selector.Selector;
import dev.bourne.core.spiffeid.SpiffeId;
import dev.bourne.core.spiffeid.TrustDomain;
import dev.bourne.tpm.common.EkHash;
import dev.bourne.tpm.server.TpmEnrollment;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteDataSource;

import javax.sql.DataSource;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The {@link DataStore} on SQLite (embedded, one server) or PostgreSQL (one database, several servers), over JDBC.
 *
 * <p>Opening a datastore migrates the schema to the latest version ({@link Migrations}); a schema written by a newer
 * Bourne is refused. SQLite runs with WAL journaling, {@code synchronous=FULL} (a committed write survives power
 * loss), a busy timeout and foreign keys on; its file is created mode 0600. In-process writes go through a single
 * connection, and transactions start {@code IMMEDIATE}, so SQLite writers queue on the database lock rather than
 * deadlocking on a lock upgrade; a write still refused as busy is retried a bounded number of times. PostgreSQL
 * connections come from a Hikari pool; rows read for update are locked ({@code FOR UPDATE}).
 *
 * <p>Connection strings may hold passwords: they are never logged nor put in exception messages.
 */
public final class SqlDataStore implements DataStore {
    /** The SQLite file name under the server's data directory. */
    public static final String SQLITE_FILE_NAME = "datastore.sqlite3";
    /** How long an SQLite statement waits for another connection's lock before reporting busy. */
    public static final Duration SQLITE_BUSY_TIMEOUT = Duration.ofSeconds(5);
    /**
     * How many times a transaction is tried when the database reports busy, a serialization failure, or a broken
     * connection before commit.
     */
    public static final int MAX_ATTEMPTS = 4;
    private static final int SQLITE_READERS = 4;
    private static final int IN_CHUNK = 500;
    /** The node attestor whose nodes have an AK binding (TpmNodeAttestor.NAME; the datastore cannot import it). */
    private static final String TPM_ATTESTOR = "tpm";

    private static final Logger LOG = LoggerFactory.getLogger(SqlDataStore.class);
    private static final String ENTRY_COLUMNS = "e.id, e.spiffe_id, e.parent_id, e.x509_svid_ttl, e.jwt_svid_ttl,"
            + " e.admin, e.downstream, e.store_svid, e.hint, e.revision_number, e.created_at";
    private static final String NODE_COLUMNS = "n.spiffe_id, n.attestation_data_type, n.cert_serial_number,"
            + " n.cert_not_after, n.new_cert_serial_number, n.new_cert_not_after, n.can_reattest, n.banned,"
            + " n.created_at";

    private final Dialect dialect;
    private final HikariDataSource readPool;
    private final HikariDataSource writePool;
    /** How long a used jti is kept past its document's exp: longer than the largest clock skew an attestor allows. */
    static final Duration IID_JTI_RETENTION = Duration.ofMinutes(15);

    private final Clock clock;
    private final SecureRandom random;
    private final String description;

    private SqlDataStore(Dialect dialect, HikariDataSource readPool, HikariDataSource writePool, Clock clock,
            SecureRandom random, String description) {
        this.dialect = dialect;
        this.readPool = readPool;
        this.writePool = writePool;
        this.clock = clock;
        this.random = random;
        this.description = description;
    }

    /**
     * Opens the datastore the settings describe, migrating its schema.
     *
     * @throws UnavailableException when the database cannot be reached
     * @throws DataStoreFailureException when the schema is newer than this build or a migration fails
     */
    public static SqlDataStore open(SqlDataStoreSettings settings, Clock clock, SecureRandom random)
            throws DataStoreException {
        Objects.requireNonNull(settings, "settings");
        if (settings.type() == DatabaseType.SQLITE3) {
            return openSqlite(settings.sqliteFile().orElseThrow(), clock, random);
        }
        return openPostgres(settings.connectionString().orElseThrow().reveal(), settings.maxOpenConns(), clock,
                random);
    }

    /** Opens (creating it mode 0600 if needed) the SQLite database in {@code file}. */
    public static SqlDataStore openSqlite(Path file, Clock clock, SecureRandom random) throws DataStoreException {
        return openSqlite(file, clock, random, SQLITE_BUSY_TIMEOUT);
    }

    /** {@link #openSqlite(Path, Clock, SecureRandom)} with another busy timeout; for tests of lock contention. */
    static SqlDataStore openSqlite(Path file, Clock clock, SecureRandom random, Duration busyTimeout)
            throws DataStoreException {
        Objects.requireNonNull(clock, "clock");
        Objects.requireNonNull(random, "random");
        Path absolute = file.toAbsolutePath();
        SqliteFiles.createPrivateFile(absolute);
        String url = "jdbc:sqlite:" + absolute;
        SQLiteDataSource migrationSource = sqliteSource(url, SQLiteConfig.TransactionMode.IMMEDIATE, busyTimeout);
        migrate(migrationSource, Dialect.SQLITE, "SQLite file " + absolute);
        HikariDataSource writer = null;
        try {
            writer = pool("bourne-datastore-writer", 1,
                    sqliteSource(url, SQLiteConfig.TransactionMode.IMMEDIATE, busyTimeout));
            HikariDataSource reader = pool("bourne-datastore-reader", SQLITE_READERS,
                    sqliteSource(url, SQLiteConfig.TransactionMode.DEFERRED, busyTimeout));
            LOG.info("datastore: SQLite {} (WAL, synchronous FULL)", absolute);
            return new SqlDataStore(Dialect.SQLITE, reader, writer, clock, random, "SQLite " + absolute);
        } catch (RuntimeException e) {
            if (writer != null) {
                writer.close();
            }
            throw new UnavailableException(DataStoreErrors.UNAVAILABLE + ": cannot open SQLite file " + absolute, e);
        }
    }

    /**
     * Opens the PostgreSQL database named by {@code connectionString} (URL or key/value form), with a pool of at
     * most {@code maxConnections} connections.
     *
     * @throws InvalidArgumentException when the connection string is malformed (the message never quotes it)
     */
    public static SqlDataStore openPostgres(String connectionString, int maxConnections, Clock clock,
            SecureRandom random) throws DataStoreException {
        Objects.requireNonNull(clock, "clock");
        Objects.requireNonNull(random, "random");
        PostgresConnectionString parsed;
        try {
            parsed = PostgresConnectionString.parse(connectionString);
        } catch (IllegalArgumentException e) {
            throw new InvalidArgumentException("connection_string", e.getMessage());
        }
        HikariConfig config = new HikariConfig();
        config.setPoolName("bourne-datastore");
        config.setJdbcUrl(parsed.jdbcUrl());
        config.setDataSourceProperties(parsed.properties());
        config.setMaximumPoolSize(Math.max(2, maxConnections));
        config.setMinimumIdle(1);
        config.setConnectionTimeout(10_000);
        config.setTransactionIsolation("TRANSACTION_READ_COMMITTED");
        config.setAutoCommit(true);
        HikariDataSource pool;
        try {
            pool = new HikariDataSource(config);
        } catch (RuntimeException e) {
            // Hikari wraps the driver's exception; its message names host and port only, never the password.
            throw new UnavailableException(DataStoreErrors.UNAVAILABLE + ": cannot connect to PostgreSQL at "
                    + parsed.jdbcUrl(), e);
        }
        try {
            migrate(pool, Dialect.POSTGRES, "PostgreSQL " + parsed.jdbcUrl());
        } catch (DataStoreException | RuntimeException e) {
            pool.close();
            throw e;
        }
        LOG.info("datastore: PostgreSQL {}", parsed.jdbcUrl());
        return new SqlDataStore(Dialect.POSTGRES, pool, pool, clock, random, "PostgreSQL " + parsed.jdbcUrl());
    }

    private static void migrate(DataSource source, Dialect dialect, String where)
            throws DataStoreException {
        try {
            int applied = Migrations.migrate(source, dialect);
            if (applied > 0) {
                LOG.info("datastore: applied {} schema migration(s) to {}", applied, where);
            }
        } catch (IllegalStateException e) {
            SQLException sql = findSqlException(e);
            if (sql != null && dialect.isUnavailable(sql)) {
                throw new UnavailableException(DataStoreErrors.UNAVAILABLE + ": " + where, e);
            }
            throw new DataStoreFailureException(e.getMessage(), e);
        } catch (RuntimeException e) {
            // Flyway reports database errors as its own runtime exceptions, wrapping the driver's.
            SQLException sql = findSqlException(e);
            if (sql == null || dialect.isUnavailable(sql)) {
                throw new UnavailableException(DataStoreErrors.UNAVAILABLE + ": " + where, e);
            }
            throw new DataStoreFailureException(DataStoreErrors.FAILURE + ": " + where + " (SQL state "
                    + sql.getSQLState() + ", code " + sql.getErrorCode() + ")", e);
        }
    }

    private static SQLException findSqlException(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException sql) {
                return sql;
            }
        }
        return null;
    }

    private static SQLiteDataSource sqliteSource(String url, SQLiteConfig.TransactionMode mode,
            Duration busyTimeout) {
        SQLiteConfig config = new SQLiteConfig();
        config.setJournalMode(SQLiteConfig.JournalMode.WAL);
        // FULL: with WAL, NORMAL may lose the last transactions on power loss; an issued SVID's node record must not.
        config.setSynchronous(SQLiteConfig.SynchronousMode.FULL);
        config.setBusyTimeout((int) busyTimeout.toMillis());
        config.enforceForeignKeys(true);
        config.setTransactionMode(mode);
        SQLiteDataSource source = new SQLiteDataSource(config);
        source.setUrl(url);
        return source;
    }

    private static HikariDataSource pool(String name, int size, DataSource source) {
        HikariConfig config = new HikariConfig();
        config.setPoolName(name);
        config.setDataSource(source);
        config.setMaximumPoolSize(size);
        config.setMinimumIdle(1);
        config.setConnectionTimeout(30_000);
        config.setAutoCommit(true);
        return new HikariDataSource(config);
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Transactions

    @FunctionalInterface
    private interface Work<T> {
        T run(Connection connection) throws SQLException, DataStoreException;
    }

    private <T> T write(String operation, Work<T> work) throws DataStoreException {
        return transaction(operation, writePool, false, work);
    }

    private <T> T read(String operation, Work<T> work) throws DataStoreException {
        return transaction(operation, readPool, true, work);
    }

    private <T> T transaction(String operation, HikariDataSource pool, boolean readOnly, Work<T> work)
            throws DataStoreException {
        if (pool.isClosed()) {
            throw new UnavailableException(DataStoreErrors.CLOSED, null);
        }
        for (int attempt = 1; ; attempt++) {
            boolean committing = false;
            Connection connection = null;
            try {
                connection = pool.getConnection();
                if (readOnly && dialect == Dialect.POSTGRES) {
                    // One snapshot for the several statements a listing runs.
                    connection.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
                    connection.setReadOnly(true);
                }
                connection.setAutoCommit(false);
                T result = work.run(connection);
                committing = true;
                connection.commit();
                return result;
            } catch (DataStoreException | RuntimeException e) {
                rollbackQuietly(connection);
                throw e;
            } catch (SQLException e) {
                boolean working = connection != null;
                rollbackQuietly(connection);
                if (working && dialect == Dialect.SQLITE) {
                    // sqlite-jdbc marks a connection non-autocommit before its BEGIN runs; a BEGIN refused as busy
                    // leaves it claiming a transaction it does not have, and the next user's statements would each
                    // commit on their own. Such a connection is never reused.
                    pool.evictConnection(connection);
                }
                // A transaction whose connection broke before its commit was sent had no effect, so running it
                // again cannot apply it twice. A failure during commit is ambiguous (it may have committed), and a
                // pool that found no connection already waited its timeout: neither is retried.
                boolean retry = dialect.isRetryable(e)
                        || (working && !committing && dialect.isConnectionFailure(e));
                if (retry && attempt < MAX_ATTEMPTS) {
                    LOG.debug("datastore: {} attempt {} failed (SQL state {}); retrying", operation, attempt,
                            e.getSQLState());
                    continue;
                }
                throw translate(operation, e);
            } finally {
                closeQuietly(connection);
            }
        }
    }

    private static void closeQuietly(Connection connection) {
        if (connection == null) {
            return;
        }
        try {
            connection.close();
        } catch (SQLException e) {
            LOG.debug("datastore: closing a connection failed", e);
        }
    }

    private static void rollbackQuietly(Connection connection) {
        if (connection == null) {
            return;
        }
        try {
            connection.rollback();
        } catch (SQLException e) {
            // The original failure matters more; a broken connection is evicted by the pool.
            LOG.debug("datastore: rollback failed", e);
        }
    }

    private DataStoreException translate(String operation, SQLException e) {
        if (dialect.isUnavailable(e)) {
            return new UnavailableException(DataStoreErrors.UNAVAILABLE + " (" + operation + ")", e);
        }
        return new DataStoreFailureException(DataStoreErrors.FAILURE + " (" + operation + ", SQL state "
                + e.getSQLState() + ")", e);
    }

    private long now() {
        return clock.instant().getEpochSecond();
    }

    private void appendEvent(Connection c, ChangeEvent.Kind kind, String subject, long at) throws SQLException {
        String lock = dialect.eventOrderLock();
        if (lock != null) {
            try (Statement s = c.createStatement()) {
                s.execute(lock);
            }
        }
        try (PreparedStatement s = c.prepareStatement(
                "INSERT INTO change_events (kind, subject, created_at) VALUES (?, ?, ?)")) {
            s.setString(1, kind.name());
            s.setString(2, subject);
            s.setLong(3, at);
            s.executeUpdate();
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Registration entries

    @Override
    public RegistrationEntry createEntry(RegistrationEntry entry) throws DataStoreException {
        Objects.requireNonNull(entry, "entry");
        String id = entry.id().isEmpty() ? newEntryId() : Validator.entryId("entry_id", entry.id());
        Validator.entry(entry);
        String identity = identityHash(entry);
        return write("create entry", c -> {
            if (Sql.exists(c, "SELECT 1 FROM registered_entries WHERE id = ?", id)) {
                throw new AlreadyExistsException(DataStoreErrors.quoted(DataStoreErrors.ENTRY_ID_TAKEN, id));
            }
            if (Sql.exists(c, "SELECT 1 FROM registered_entries WHERE identity_hash = ?", identity)) {
                throw new AlreadyExistsException(DataStoreErrors.ENTRY_DUPLICATE);
            }
            long at = now();
            RegistrationEntry stored = entry.toBuilder().id(id).revisionNumber(0)
                    .createdAt(Instant.ofEpochSecond(at)).build();
            try (PreparedStatement s = c.prepareStatement("INSERT INTO registered_entries (id, spiffe_id, parent_id,"
                    + " x509_svid_ttl, jwt_svid_ttl, admin, downstream, store_svid, hint, revision_number, created_at,"
                    + " identity_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                s.setString(1, id);
                s.setString(2, stored.spiffeId().toString());
                s.setString(3, stored.parentId().toString());
                s.setLong(4, stored.x509SvidTtl().getSeconds());
                s.setLong(5, stored.jwtSvidTtl().getSeconds());
                s.setBoolean(6, stored.admin());
                s.setBoolean(7, stored.downstream());
                s.setBoolean(8, stored.storeSvid());
                s.setString(9, stored.hint());
                s.setLong(10, 0);
                s.setLong(11, at);
                s.setString(12, identity);
                s.executeUpdate();
            } catch (SQLException e) {
                throw duplicateOr(e, DataStoreErrors.ENTRY_DUPLICATE);
            }
            insertEntryChildren(c, stored, EntryField.all());
            appendEvent(c, ChangeEvent.Kind.ENTRY_CREATED, id, at);
            return stored;
        });
    }

    @Override
    public Optional<RegistrationEntry> getEntry(String id) throws DataStoreException {
        Validator.entryId("entry_id", id);
        return read("get entry", c -> loadEntry(c, id, false));
    }

    @Override
    public Page<RegistrationEntry> listEntries(EntryFilter filter, PageRequest page) throws DataStoreException {
        Objects.requireNonNull(filter, "filter");
        Objects.requireNonNull(page, "page");
        Validator.selectorMatch("selectors", filter.selectors());
        String after = Validator.pageStart(page);
        return read("list entries", c -> {
            List<Object> params = new ArrayList<>();
            StringBuilder sql = new StringBuilder("SELECT ").append(ENTRY_COLUMNS)
                    .append(" FROM registered_entries e WHERE ").append(entryWhere(filter, params));
            if (after != null) {
                sql.append(" AND e.id > ?");
                params.add(after);
            }
            sql.append(" ORDER BY e.id");
            if (page.pageSize() > 0) {
                sql.append(" LIMIT ?");
                params.add(page.pageSize() + 1);
            }
            Map<String, RegistrationEntry.Builder> rows = new LinkedHashMap<>();
            try (PreparedStatement s = Sql.prepare(c, sql.toString(), params); ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    RegistrationEntry.Builder b = entryRow(r);
                    rows.put(r.getString(1), b);
                }
            }
            boolean more = page.pageSize() > 0 && rows.size() > page.pageSize();
            if (more) {
                String extra = null;
                for (String key : rows.keySet()) {
                    extra = key;
                }
                rows.remove(extra);
            }
            List<RegistrationEntry> entries = completeEntries(c, rows);
            Optional<String> next = more
                    ? Optional.of(Validator.pageToken(entries.get(entries.size() - 1).id())) : Optional.empty();
            return new Page<>(entries, next);
        });
    }

    @Override
    public long countEntries(EntryFilter filter) throws DataStoreException {
        Objects.requireNonNull(filter, "filter");
        Validator.selectorMatch("selectors", filter.selectors());
        return read("count entries", c -> {
            List<Object> params = new ArrayList<>();
            String sql = "SELECT COUNT(*) FROM registered_entries e WHERE " + entryWhere(filter, params);
            try (PreparedStatement s = Sql.prepare(c, sql, params); ResultSet r = s.executeQuery()) {
                r.next();
                return r.getLong(1);
            }
        });
    }

    @Override
    public RegistrationEntry updateEntry(RegistrationEntry entry, Set<EntryField> mask) throws DataStoreException {
        return update(entry, mask, OptionalLong.empty());
    }

    @Override
    public RegistrationEntry updateEntry(RegistrationEntry entry, Set<EntryField> mask, long expectedRevision)
            throws DataStoreException {
        return update(entry, mask, OptionalLong.of(expectedRevision));
    }

    private RegistrationEntry update(RegistrationEntry entry, Set<EntryField> mask, OptionalLong expectedRevision)
            throws DataStoreException {
        Objects.requireNonNull(entry, "entry");
        Objects.requireNonNull(mask, "mask");
        String id = Validator.entryId("entry_id", entry.id());
        if (mask.isEmpty()) {
            throw new InvalidArgumentException("mask", Limits.MASK_EMPTY);
        }
        Set<EntryField> fields = EnumSet.copyOf(mask);
        return write("update entry", c -> {
            RegistrationEntry current = loadEntry(c, id, true).orElseThrow(
                    () -> new NotFoundException(DataStoreErrors.quoted(DataStoreErrors.ENTRY_NOT_FOUND, id)));
            if (expectedRevision.isPresent() && expectedRevision.getAsLong() != current.revisionNumber()) {
                throw new ConflictException(DataStoreErrors.quoted(DataStoreErrors.ENTRY_REVISION_CONFLICT, id));
            }
            RegistrationEntry merged = merge(current, entry, fields);
            Validator.entry(merged);
            String identity = identityHash(merged);
            if (Sql.exists(c, "SELECT 1 FROM registered_entries WHERE identity_hash = ? AND id <> ?", identity, id)) {
                throw new AlreadyExistsException(DataStoreErrors.ENTRY_DUPLICATE);
            }
            try (PreparedStatement s = c.prepareStatement("UPDATE registered_entries SET spiffe_id = ?,"
                    + " parent_id = ?, x509_svid_ttl = ?, jwt_svid_ttl = ?, admin = ?, downstream = ?,"
                    + " store_svid = ?, hint = ?, revision_number = ?, identity_hash = ? WHERE id = ?")) {
                s.setString(1, merged.spiffeId().toString());
                s.setString(2, merged.parentId().toString());
                s.setLong(3, merged.x509SvidTtl().getSeconds());
                s.setLong(4, merged.jwtSvidTtl().getSeconds());
                s.setBoolean(5, merged.admin());
                s.setBoolean(6, merged.downstream());
                s.setBoolean(7, merged.storeSvid());
                s.setString(8, merged.hint());
                s.setLong(9, merged.revisionNumber());
                s.setString(10, identity);
                s.setString(11, id);
                s.executeUpdate();
            } catch (SQLException e) {
                throw duplicateOr(e, DataStoreErrors.ENTRY_DUPLICATE);
            }
            Set<EntryField> children = EnumSet.noneOf(EntryField.class);
            for (EntryField field : List.of(EntryField.SELECTORS, EntryField.DNS_NAMES, EntryField.FEDERATES_WITH)) {
                if (fields.contains(field)) {
                    children.add(field);
                }
            }
            deleteEntryChildren(c, id, children);
            insertEntryChildren(c, merged, children);
            appendEvent(c, ChangeEvent.Kind.ENTRY_UPDATED, id, now());
            return merged;
        });
    }

    private static RegistrationEntry merge(RegistrationEntry current, RegistrationEntry change,
            Set<EntryField> fields) {
        RegistrationEntry.Builder b = current.toBuilder().revisionNumber(current.revisionNumber() + 1);
        for (EntryField field : fields) {
            switch (field) {
                case SPIFFE_ID -> b.spiffeId(change.spiffeId());
                case PARENT_ID -> b.parentId(change.parentId());
                case SELECTORS -> b.selectors(change.selectors());
                case X509_SVID_TTL -> b.x509SvidTtl(change.x509SvidTtl());
                case JWT_SVID_TTL -> b.jwtSvidTtl(change.jwtSvidTtl());
                case FEDERATES_WITH -> b.federatesWith(change.federatesWith());
                case ADMIN -> b.admin(change.admin());
                case DOWNSTREAM -> b.downstream(change.downstream());
                case DNS_NAMES -> b.dnsNames(change.dnsNames());
                case STORE_SVID -> b.storeSvid(change.storeSvid());
                case HINT -> b.hint(change.hint());
                default -> throw new IllegalStateException("unhandled field " + field);
            }
        }
        return b.build();
    }

    @Override
    public RegistrationEntry deleteEntry(String id) throws DataStoreException {
        Validator.entryId("entry_id", id);
        return write("delete entry", c -> {
            RegistrationEntry current = loadEntry(c, id, true).orElseThrow(
                    () -> new NotFoundException(DataStoreErrors.quoted(DataStoreErrors.ENTRY_NOT_FOUND, id)));
            // Children go with ON DELETE CASCADE (SQLite enforces it because foreign_keys is on).
            Sql.update(c, "DELETE FROM registered_entries WHERE id = ?", id);
            appendEvent(c, ChangeEvent.Kind.ENTRY_DELETED, id, now());
            return current;
        });
    }

    private Optional<RegistrationEntry> loadEntry(Connection c, String id, boolean forUpdate) throws SQLException {
        Map<String, RegistrationEntry.Builder> rows = new LinkedHashMap<>();
        try (PreparedStatement s = c.prepareStatement("SELECT " + ENTRY_COLUMNS
                + " FROM registered_entries e WHERE e.id = ?" + (forUpdate ? dialect.forUpdate() : ""))) {
            s.setString(1, id);
            try (ResultSet r = s.executeQuery()) {
                if (r.next()) {
                    rows.put(id, entryRow(r));
                }
            }
        }
        List<RegistrationEntry> entries = completeEntries(c, rows);
        return entries.isEmpty() ? Optional.empty() : Optional.of(entries.get(0));
    }

    private static RegistrationEntry.Builder entryRow(ResultSet r) throws SQLException {
        return RegistrationEntry.builder()
                .id(r.getString(1))
                .spiffeId(SpiffeId.parse(r.getString(2)))
                .parentId(SpiffeId.parse(r.getString(3)))
                .x509SvidTtl(Duration.ofSeconds(r.getLong(4)))
                .jwtSvidTtl(Duration.ofSeconds(r.getLong(5)))
                .admin(r.getBoolean(6))
                .downstream(r.getBoolean(7))
                .storeSvid(r.getBoolean(8))
                .hint(r.getString(9))
                .revisionNumber(r.getLong(10))
                .createdAt(Instant.ofEpochSecond(r.getLong(11)));
    }

    /** Adds selectors, DNS names and federated trust domains to the rows, in their order. */
    private List<RegistrationEntry> completeEntries(Connection c, Map<String, RegistrationEntry.Builder> rows)
            throws SQLException {
        if (rows.isEmpty()) {
            return List.of();
        }
        Map<String, List<Selector>> selectors = new HashMap<>();
        Map<String, List<String>> dnsNames = new HashMap<>();
        Map<String, List<TrustDomain>> federates = new HashMap<>();
        List<String> ids = new ArrayList<>(rows.keySet());
        for (int from = 0; from < ids.size(); from += IN_CHUNK) {
            List<String> chunk = ids.subList(from, Math.min(ids.size(), from + IN_CHUNK));
            String in = Sql.placeholders(chunk.size());
            try (PreparedStatement s = Sql.prepare(c, "SELECT entry_id, type, value FROM entry_selectors WHERE entry_id IN ("
                    + in + ")", new ArrayList<>(chunk)); ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    selectors.computeIfAbsent(r.getString(1), k -> new ArrayList<>())
                            .add(new Selector(r.getString(2), r.getString(3)));
                }
            }
            try (PreparedStatement s = Sql.prepare(c, "SELECT entry_id, name FROM entry_dns_names WHERE entry_id IN ("
                    + in + ") ORDER BY entry_id, position", new ArrayList<>(chunk)); ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    dnsNames.computeIfAbsent(r.getString(1), k -> new ArrayList<>()).add(r.getString(2));
                }
            }
            try (PreparedStatement s = Sql.prepare(c, "SELECT entry_id, trust_domain FROM entry_federates_with"
                    + " WHERE entry_id IN (" + in + ")", new ArrayList<>(chunk)); ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    federates.computeIfAbsent(r.getString(1), k -> new ArrayList<>())
                            .add(new TrustDomain(r.getString(2)));
                }
            }
        }
        List<RegistrationEntry> out = new ArrayList<>(rows.size());
        for (Map.Entry<String, RegistrationEntry.Builder> row : rows.entrySet()) {
            String id = row.getKey();
            out.add(row.getValue()
                    .selectors(selectors.getOrDefault(id, List.of()))
                    .dnsNames(dnsNames.getOrDefault(id, List.of()))
                    .federatesWith(federates.getOrDefault(id, List.of()))
                    .build());
        }
        return out;
    }

    private static void deleteEntryChildren(Connection c, String id, Set<EntryField> fields) throws SQLException {
        if (fields.contains(EntryField.SELECTORS)) {
            Sql.update(c, "DELETE FROM entry_selectors WHERE entry_id = ?", id);
        }
        if (fields.contains(EntryField.DNS_NAMES)) {
            Sql.update(c, "DELETE FROM entry_dns_names WHERE entry_id = ?", id);
        }
        if (fields.contains(EntryField.FEDERATES_WITH)) {
            Sql.update(c, "DELETE FROM entry_federates_with WHERE entry_id = ?", id);
        }
    }

    private static void insertEntryChildren(Connection c, RegistrationEntry entry, Set<EntryField> fields)
            throws SQLException {
        if (fields.contains(EntryField.SELECTORS) && !entry.selectors().isEmpty()) {
            try (PreparedStatement s = c.prepareStatement(
                    "INSERT INTO entry_selectors (entry_id, selector_hash, type, value) VALUES (?, ?, ?, ?)")) {
                for (Selector selector : entry.selectors()) {
                    s.setString(1, entry.id());
                    s.setString(2, Sql.selectorHash(selector));
                    s.setString(3, selector.type());
                    s.setString(4, selector.value());
                    s.addBatch();
                }
                s.executeBatch();
            }
        }
        if (fields.contains(EntryField.DNS_NAMES) && !entry.dnsNames().isEmpty()) {
            try (PreparedStatement s = c.prepareStatement(
                    "INSERT INTO entry_dns_names (entry_id, position, name) VALUES (?, ?, ?)")) {
                for (int i = 0; i < entry.dnsNames().size(); i++) {
                    s.setString(1, entry.id());
                    s.setInt(2, i);
                    s.setString(3, entry.dnsNames().get(i));
                    s.addBatch();
                }
                s.executeBatch();
            }
        }
        if (fields.contains(EntryField.FEDERATES_WITH) && !entry.federatesWith().isEmpty()) {
            try (PreparedStatement s = c.prepareStatement(
                    "INSERT INTO entry_federates_with (entry_id, trust_domain) VALUES (?, ?)")) {
                for (TrustDomain domain : entry.federatesWith()) {
                    s.setString(1, entry.id());
                    s.setString(2, domain.name());
                    s.addBatch();
                }
                s.executeBatch();
            }
        }
    }

    private static String entryWhere(EntryFilter filter, List<Object> params) {
        StringBuilder where = new StringBuilder("1 = 1");
        filter.parentId().ifPresent(id -> {
            where.append(" AND e.parent_id = ?");
            params.add(id.toString());
        });
        filter.spiffeId().ifPresent(id -> {
            where.append(" AND e.spiffe_id = ?");
            params.add(id.toString());
        });
        filter.selectors().ifPresent(match ->
                where.append(" AND ").append(Sql.selectorCondition("entry_selectors", "entry_id", "e.id", match, params)));
        return where.toString();
    }

    /** SHA-256 of (parent ID, SPIFFE ID, sorted selectors), each length-prefixed: the entry's identity for SPIRE. */
    private static String identityHash(RegistrationEntry entry) {
        List<String> parts = new ArrayList<>();
        parts.add(entry.parentId().toString());
        parts.add(entry.spiffeId().toString());
        for (Selector selector : entry.selectors()) {
            parts.add(selector.type());
            parts.add(selector.value());
        }
        return Sql.sha256(parts);
    }

    /** A random (version 4) UUID from the injected generator. */
    private String newEntryId() {
        byte[] bytes = new byte[16];
        random.nextBytes(bytes);
        bytes[6] = (byte) ((bytes[6] & 0x0f) | 0x40);
        bytes[8] = (byte) ((bytes[8] & 0x3f) | 0x80);
        String hex = HexFormat.of().formatHex(bytes);
        return hex.substring(0, 8) + "-" + hex.substring(8, 12) + "-" + hex.substring(12, 16) + "-"
                + hex.substring(16, 20) + "-" + hex.substring(20);
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Attested nodes

    @Override
    public AttestedNode createNode(AttestedNode node) throws DataStoreException {
        Objects.requireNonNull(node, "node");
        Validator.node(node);
        String id = node.spiffeId().toString();
        return write("create node", c -> {
            if (Sql.exists(c, "SELECT 1 FROM attested_nodes WHERE spiffe_id = ?", id)) {
                throw new AlreadyExistsException(DataStoreErrors.quoted(DataStoreErrors.NODE_EXISTS, id));
            }
            long at = now();
            try (PreparedStatement s = c.prepareStatement("INSERT INTO attested_nodes (spiffe_id,"
                    + " attestation_data_type, cert_serial_number, cert_not_after, new_cert_serial_number,"
                    + " new_cert_not_after, can_reattest, banned, created_at, updated_at)"
                    + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                s.setString(1, id);
                s.setString(2, node.attestationDataType());
                setCertificate(s, 3, node.certificate());
                setCertificate(s, 5, node.newCertificate());
                s.setBoolean(7, node.canReattest());
                s.setBoolean(8, node.banned());
                s.setLong(9, at);
                s.setLong(10, at);
                s.executeUpdate();
            } catch (SQLException e) {
                throw duplicateOr(e, DataStoreErrors.quoted(DataStoreErrors.NODE_EXISTS, id));
            }
            insertNodeSelectors(c, id, node.selectors());
            appendEvent(c, ChangeEvent.Kind.NODE_CREATED, id, at);
            return loadNode(c, id, false).orElseThrow();
        });
    }

    @Override
    public Optional<AttestedNode> getNode(SpiffeId spiffeId) throws DataStoreException {
        Validator.spiffeId("spiffe_id", spiffeId, false);
        return read("get node", c -> loadNode(c, spiffeId.toString(), false));
    }

    @Override
    public Page<AttestedNode> listNodes(NodeFilter filter, PageRequest page) throws DataStoreException {
        Objects.requireNonNull(filter, "filter");
        Objects.requireNonNull(page, "page");
        Validator.selectorMatch("selectors", filter.selectors());
        String after = Validator.pageStart(page);
        return read("list nodes", c -> {
            List<Object> params = new ArrayList<>();
            StringBuilder sql = new StringBuilder("SELECT ").append(NODE_COLUMNS)
                    .append(" FROM attested_nodes n WHERE ").append(nodeWhere(filter, params));
            if (after != null) {
                sql.append(" AND n.spiffe_id > ?");
                params.add(after);
            }
            sql.append(" ORDER BY n.spiffe_id");
            if (page.pageSize() > 0) {
                sql.append(" LIMIT ?");
                params.add(page.pageSize() + 1);
            }
            List<AttestedNode> nodes = new ArrayList<>();
            try (PreparedStatement s = Sql.prepare(c, sql.toString(), params); ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    nodes.add(nodeRow(r, List.of()));
                }
            }
            boolean more = page.pageSize() > 0 && nodes.size() > page.pageSize();
            if (more) {
                nodes.remove(nodes.size() - 1);
            }
            List<AttestedNode> complete = withNodeSelectors(c, nodes);
            Optional<String> next = more
                    ? Optional.of(Validator.pageToken(complete.get(complete.size() - 1).spiffeId().toString()))
                    : Optional.empty();
            return new Page<>(complete, next);
        });
    }

    @Override
    public long countNodes(NodeFilter filter) throws DataStoreException {
        Objects.requireNonNull(filter, "filter");
        Validator.selectorMatch("selectors", filter.selectors());
        return read("count nodes", c -> {
            List<Object> params = new ArrayList<>();
            String sql = "SELECT COUNT(*) FROM attested_nodes n WHERE " + nodeWhere(filter, params);
            try (PreparedStatement s = Sql.prepare(c, sql, params); ResultSet r = s.executeQuery()) {
                r.next();
                return r.getLong(1);
            }
        });
    }

    @Override
    public AttestedNode updateNodeCertificates(SpiffeId spiffeId, Optional<NodeCertificate> certificate,
            Optional<NodeCertificate> newCertificate) throws DataStoreException {
        Validator.spiffeId("spiffe_id", spiffeId, true);
        Validator.certificate("cert_serial_number", certificate);
        Validator.certificate("new_cert_serial_number", newCertificate);
        String id = spiffeId.toString();
        return write("update node certificates", c -> {
            AttestedNode current = requireNode(c, id);
            if (current.banned()) {
                throw new ConflictException(DataStoreErrors.quoted(DataStoreErrors.NODE_BANNED, id));
            }
            long at = now();
            try (PreparedStatement s = c.prepareStatement("UPDATE attested_nodes SET cert_serial_number = ?,"
                    + " cert_not_after = ?, new_cert_serial_number = ?, new_cert_not_after = ?, updated_at = ?"
                    + " WHERE spiffe_id = ?")) {
                setCertificate(s, 1, certificate);
                setCertificate(s, 3, newCertificate);
                s.setLong(5, at);
                s.setString(6, id);
                s.executeUpdate();
            }
            appendEvent(c, ChangeEvent.Kind.NODE_UPDATED, id, at);
            return loadNode(c, id, false).orElseThrow();
        });
    }

    @Override
    public AttestedNode setNodeSelectors(SpiffeId spiffeId, List<Selector> selectors) throws DataStoreException {
        Validator.spiffeId("spiffe_id", spiffeId, true);
        Objects.requireNonNull(selectors, "selectors");
        List<Selector> sorted = List.copyOf(new TreeSet<>(selectors));
        Validator.selectors("selectors", sorted, false);
        String id = spiffeId.toString();
        return write("set node selectors", c -> {
            requireNode(c, id);
            long at = now();
            Sql.update(c, "DELETE FROM node_selectors WHERE spiffe_id = ?", id);
            insertNodeSelectors(c, id, sorted);
            try (PreparedStatement s = c.prepareStatement(
                    "UPDATE attested_nodes SET updated_at = ? WHERE spiffe_id = ?")) {
                s.setLong(1, at);
                s.setString(2, id);
                s.executeUpdate();
            }
            appendEvent(c, ChangeEvent.Kind.NODE_UPDATED, id, at);
            return loadNode(c, id, false).orElseThrow();
        });
    }

    @Override
    public AttestedNode banNode(SpiffeId spiffeId) throws DataStoreException {
        Validator.spiffeId("spiffe_id", spiffeId, true);
        String id = spiffeId.toString();
        return write("ban node", c -> {
            requireNode(c, id);
            long at = now();
            // Forgetting the serial numbers means no certificate the node holds is recognised on renewal.
            try (PreparedStatement s = c.prepareStatement("UPDATE attested_nodes SET banned = ?,"
                    + " cert_serial_number = NULL, cert_not_after = NULL, new_cert_serial_number = NULL,"
                    + " new_cert_not_after = NULL, updated_at = ? WHERE spiffe_id = ?")) {
                s.setBoolean(1, true);
                s.setLong(2, at);
                s.setString(3, id);
                s.executeUpdate();
            }
            appendEvent(c, ChangeEvent.Kind.NODE_BANNED, id, at);
            return loadNode(c, id, false).orElseThrow();
        });
    }

    @Override
    public AttestedNode deleteNode(SpiffeId spiffeId) throws DataStoreException {
        Validator.spiffeId("spiffe_id", spiffeId, true);
        String id = spiffeId.toString();
        return write("delete node", c -> {
            AttestedNode current = requireNode(c, id);
            Sql.update(c, "DELETE FROM attested_nodes WHERE spiffe_id = ?", id);
            Optional<String> ekHash = tpmEkHash(current);
            if (ekHash.isPresent()) {
                Sql.update(c, "DELETE FROM tpm_ak_bindings WHERE ek_hash = ?", ekHash.get());
            }
            appendEvent(c, ChangeEvent.Kind.NODE_DELETED, id, now());
            return current;
        });
    }

    /**
     * The EK hash of a node the {@code tpm} attestor attested ({@code spiffe://<td>/spire/agent/tpm/<ek-hash>}), whose
     * AK binding goes with it when it is evicted; empty for any other node.
     */
    private static Optional<String> tpmEkHash(AttestedNode node) {
        List<String> segments = node.spiffeId().segments();
        if (!node.attestationDataType().equals(TPM_ATTESTOR) || segments.size() != 4
                || !node.spiffeId().hasPathPrefix("spire", "agent", TPM_ATTESTOR)) {
            return Optional.empty();
        }
        try {
            return Optional.of(EkHash.parse(segments.get(3)));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    private AttestedNode requireNode(Connection c, String id) throws SQLException, NotFoundException {
        return loadNode(c, id, true).orElseThrow(
                () -> new NotFoundException(DataStoreErrors.quoted(DataStoreErrors.NODE_NOT_FOUND, id)));
    }

    private Optional<AttestedNode> loadNode(Connection c, String id, boolean forUpdate) throws SQLException {
        AttestedNode node = null;
        try (PreparedStatement s = c.prepareStatement("SELECT " + NODE_COLUMNS
                + " FROM attested_nodes n WHERE n.spiffe_id = ?" + (forUpdate ? dialect.forUpdate() : ""))) {
            s.setString(1, id);
            try (ResultSet r = s.executeQuery()) {
                if (r.next()) {
                    node = nodeRow(r, List.of());
                }
            }
        }
        if (node == null) {
            return Optional.empty();
        }
        return Optional.of(withNodeSelectors(c, List.of(node)).get(0));
    }

    private static AttestedNode nodeRow(ResultSet r, List<Selector> selectors) throws SQLException {
        return new AttestedNode(SpiffeId.parse(r.getString(1)), r.getString(2), certificate(r, 3), certificate(r, 5),
                r.getBoolean(7), r.getBoolean(8), selectors, Instant.ofEpochSecond(r.getLong(9)));
    }

    private static Optional<NodeCertificate> certificate(ResultSet r, int column) throws SQLException {
        String serial = r.getString(column);
        long notAfter = r.getLong(column + 1);
        boolean noExpiry = r.wasNull();
        if (serial == null || noExpiry) {
            return Optional.empty();
        }
        return Optional.of(new NodeCertificate(serial, Instant.ofEpochSecond(notAfter)));
    }

    private static void setCertificate(PreparedStatement s, int column, Optional<NodeCertificate> certificate)
            throws SQLException {
        if (certificate.isPresent()) {
            s.setString(column, certificate.get().serialNumber());
            s.setLong(column + 1, certificate.get().notAfter().getEpochSecond());
        } else {
            s.setNull(column, Types.VARCHAR);
            s.setNull(column + 1, Types.BIGINT);
        }
    }

    private static List<AttestedNode> withNodeSelectors(Connection c, List<AttestedNode> nodes) throws SQLException {
        if (nodes.isEmpty()) {
            return nodes;
        }
        Map<String, List<Selector>> selectors = new HashMap<>();
        List<String> ids = new ArrayList<>();
        for (AttestedNode node : nodes) {
            ids.add(node.spiffeId().toString());
        }
        for (int from = 0; from < ids.size(); from += IN_CHUNK) {
            List<String> chunk = ids.subList(from, Math.min(ids.size(), from + IN_CHUNK));
            try (PreparedStatement s = Sql.prepare(c, "SELECT spiffe_id, type, value FROM node_selectors WHERE spiffe_id"
                    + " IN (" + Sql.placeholders(chunk.size()) + ")", new ArrayList<>(chunk));
                    ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    selectors.computeIfAbsent(r.getString(1), k -> new ArrayList<>())
                            .add(new Selector(r.getString(2), r.getString(3)));
                }
            }
        }
        List<AttestedNode> out = new ArrayList<>(nodes.size());
        for (AttestedNode node : nodes) {
            out.add(new AttestedNode(node.spiffeId(), node.attestationDataType(), node.certificate(),
                    node.newCertificate(), node.canReattest(), node.banned(),
                    selectors.getOrDefault(node.spiffeId().toString(), List.of()), node.createdAt()));
        }
        return out;
    }

    private static void insertNodeSelectors(Connection c, String id, List<Selector> selectors) throws SQLException {
        if (selectors.isEmpty()) {
            return;
        }
        try (PreparedStatement s = c.prepareStatement(
                "INSERT INTO node_selectors (spiffe_id, selector_hash, type, value) VALUES (?, ?, ?, ?)")) {
            for (Selector selector : selectors) {
                s.setString(1, id);
                s.setString(2, Sql.selectorHash(selector));
                s.setString(3, selector.type());
                s.setString(4, selector.value());
                s.addBatch();
            }
            s.executeBatch();
        }
    }

    private static String nodeWhere(NodeFilter filter, List<Object> params) {
        StringBuilder where = new StringBuilder("1 = 1");
        filter.attestationDataType().ifPresent(type -> {
            where.append(" AND n.attestation_data_type = ?");
            params.add(type);
        });
        filter.banned().ifPresent(banned -> {
            where.append(" AND n.banned = ?");
            params.add(banned);
        });
        filter.certificateExpiresBefore().ifPresent(before -> {
            where.append(" AND n.cert_not_after < ?");
            params.add(before.getEpochSecond());
        });
        filter.selectors().ifPresent(match ->
                where.append(" AND ").append(Sql.selectorCondition("node_selectors", "spiffe_id", "n.spiffe_id", match,
                        params)));
        return where.toString();
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Join tokens

    @Override
    public void createJoinToken(String token, Instant expiresAt) throws DataStoreException {
        Validator.joinToken(token);
        Objects.requireNonNull(expiresAt, "expiresAt");
        String hash = tokenHash(token);
        write("create join token", c -> {
            if (Sql.exists(c, "SELECT 1 FROM join_tokens WHERE token_hash = ?", hash)) {
                throw new AlreadyExistsException(DataStoreErrors.JOIN_TOKEN_EXISTS);
            }
            try (PreparedStatement s = c.prepareStatement(
                    "INSERT INTO join_tokens (token_hash, expires_at) VALUES (?, ?)")) {
                s.setString(1, hash);
                s.setLong(2, expiresAt.getEpochSecond());
                s.executeUpdate();
            } catch (SQLException e) {
                throw duplicateOr(e, DataStoreErrors.JOIN_TOKEN_EXISTS);
            }
            return null;
        });
    }

    @Override
    public Optional<Instant> takeJoinToken(String token) throws DataStoreException {
        Validator.joinToken(token);
        String hash = tokenHash(token);
        // One DELETE ... RETURNING: the row goes to whichever transaction deletes it first; on PostgreSQL a racing
        // delete waits for the row lock, then finds the row gone and returns nothing.
        return write("take join token", c -> {
            try (PreparedStatement s = c.prepareStatement(
                    "DELETE FROM join_tokens WHERE token_hash = ? RETURNING expires_at")) {
                s.setString(1, hash);
                try (ResultSet r = s.executeQuery()) {
                    return r.next() ? Optional.of(Instant.ofEpochSecond(r.getLong(1))) : Optional.<Instant>empty();
                }
            }
        });
    }

    @Override
    public int pruneJoinTokens(Instant expiredBefore) throws DataStoreException {
        Objects.requireNonNull(expiredBefore, "expiredBefore");
        return write("prune join tokens",
                c -> Sql.update(c, "DELETE FROM join_tokens WHERE expires_at < ?", expiredBefore.getEpochSecond()));
    }

    /** Tokens are stored as SHA-256 hashes: whoever reads the database cannot attest with a pending token. */
    private static String tokenHash(String token) {
        try {
            return HexFormat.of().formatHex(
                    MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by every Java platform", e);
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Bundles

    @Override
    public void setBundle(SpiffeBundle bundle) throws DataStoreException {
        Objects.requireNonNull(bundle, "bundle");
        String json = bundleJson(bundle);
        String domain = bundle.trustDomain().name();
        write("set bundle", c -> {
            try (PreparedStatement s = c.prepareStatement("INSERT INTO federated_bundles (trust_domain, bundle_json,"
                    + " updated_at) VALUES (?, ?, ?) ON CONFLICT (trust_domain) DO UPDATE SET"
                    + " bundle_json = excluded.bundle_json, updated_at = excluded.updated_at")) {
                s.setString(1, domain);
                s.setString(2, json);
                s.setLong(3, now());
                s.executeUpdate();
            }
            return null;
        });
    }

    @Override
    public Optional<SpiffeBundle> getBundle(TrustDomain trustDomain) throws DataStoreException {
        Objects.requireNonNull(trustDomain, "trustDomain");
        String json = read("get bundle", c -> {
            try (PreparedStatement s = c.prepareStatement(
                    "SELECT bundle_json FROM federated_bundles WHERE trust_domain = ?")) {
                s.setString(1, trustDomain.name());
                try (ResultSet r = s.executeQuery()) {
                    return r.next() ? r.getString(1) : null;
                }
            }
        });
        return json == null ? Optional.empty() : Optional.of(decodeBundle(trustDomain, json));
    }

    @Override
    public List<SpiffeBundle> listBundles() throws DataStoreException {
        Map<String, String> rows = read("list bundles", c -> {
            Map<String, String> out = new LinkedHashMap<>();
            try (PreparedStatement s = c.prepareStatement(
                    "SELECT trust_domain, bundle_json FROM federated_bundles ORDER BY trust_domain");
                    ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    out.put(r.getString(1), r.getString(2));
                }
            }
            return out;
        });
        List<SpiffeBundle> bundles = new ArrayList<>();
        for (Map.Entry<String, String> row : rows.entrySet()) {
            bundles.add(decodeBundle(new TrustDomain(row.getKey()), row.getValue()));
        }
        return bundles;
    }

    @Override
    public void deleteBundle(TrustDomain trustDomain) throws DataStoreException {
        Objects.requireNonNull(trustDomain, "trustDomain");
        write("delete bundle", c -> {
            if (Sql.update(c, "DELETE FROM federated_bundles WHERE trust_domain = ?", trustDomain.name()) == 0) {
                throw new NotFoundException(DataStoreErrors.quoted(DataStoreErrors.BUNDLE_NOT_FOUND, trustDomain));
            }
            return null;
        });
    }

    private static SpiffeBundle decodeBundle(TrustDomain trustDomain, String json) throws DataStoreException {
        try {
            return SpiffeBundleJson.decode(trustDomain, json);
        } catch (IllegalArgumentException e) {
            throw new DataStoreFailureException(DataStoreErrors.quoted(DataStoreErrors.BUNDLE_CORRUPT, trustDomain),
                    e);
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // CA journal

    @Override
    public Optional<CaJournal> getCaJournal(String serverId) throws DataStoreException {
        Validator.serverId(serverId);
        return read("get CA journal", c -> {
            try (PreparedStatement s = c.prepareStatement(
                    "SELECT version, data FROM ca_journals WHERE server_id = ?")) {
                s.setString(1, serverId);
                try (ResultSet r = s.executeQuery()) {
                    return r.next() ? Optional.of(new CaJournal(serverId, r.getLong(1), r.getBytes(2)))
                            : Optional.<CaJournal>empty();
                }
            }
        });
    }

    @Override
    public long putCaJournal(String serverId, long expectedVersion, byte[] data) throws DataStoreException {
        Validator.serverId(serverId);
        Objects.requireNonNull(data, "data");
        if (expectedVersion < 0) {
            throw new InvalidArgumentException("expected_version", Limits.JOURNAL_VERSION_NEGATIVE);
        }
        if (data.length > Limits.MAX_JOURNAL_BYTES) {
            throw new InvalidArgumentException("journal", Limits.JOURNAL_TOO_LARGE);
        }
        byte[] copy = data.clone();
        long next = expectedVersion + 1;
        return write("put CA journal", c -> {
            long at = now();
            if (expectedVersion == 0) {
                if (Sql.exists(c, "SELECT 1 FROM ca_journals WHERE server_id = ?", serverId)) {
                    throw new ConflictException(DataStoreErrors.quoted(DataStoreErrors.JOURNAL_CONFLICT, serverId));
                }
                try (PreparedStatement s = c.prepareStatement(
                        "INSERT INTO ca_journals (server_id, version, data, updated_at) VALUES (?, ?, ?, ?)")) {
                    s.setString(1, serverId);
                    s.setLong(2, next);
                    s.setBytes(3, copy);
                    s.setLong(4, at);
                    s.executeUpdate();
                } catch (SQLException e) {
                    if (dialect.isUniqueViolation(e)) {
                        throw new ConflictException(
                                DataStoreErrors.quoted(DataStoreErrors.JOURNAL_CONFLICT, serverId));
                    }
                    throw e;
                }
                return next;
            }
            // Compare-and-set in one statement: of two writers holding the same version, one updates the row and
            // the other finds the version changed.
            try (PreparedStatement s = c.prepareStatement("UPDATE ca_journals SET version = ?, data = ?,"
                    + " updated_at = ? WHERE server_id = ? AND version = ?")) {
                s.setLong(1, next);
                s.setBytes(2, copy);
                s.setLong(3, at);
                s.setString(4, serverId);
                s.setLong(5, expectedVersion);
                if (s.executeUpdate() != 1) {
                    throw new ConflictException(DataStoreErrors.quoted(DataStoreErrors.JOURNAL_CONFLICT, serverId));
                }
            }
            return next;
        });
    }

    // ---------------------------------------------------------------------------------------------------------------
    // TPM enrolments

    private static final String TPM_ENROLLMENT_COLUMNS =
            "ek_hash, labels, pcr_policy, ek_certificate, created_at, revoked_at";

    @Override
    public TpmEnrollment createTpmEnrollment(TpmEnrollment enrollment) throws DataStoreException {
        Objects.requireNonNull(enrollment, "enrollment");
        Validator.tpmEnrollment(enrollment);
        String ekHash = enrollment.ekHash();
        String labels = encodeLabels(enrollment.labels());
        return write("create TPM enrolment", c -> {
            if (Sql.exists(c, "SELECT 1 FROM tpm_enrollments WHERE ek_hash = ?", ekHash)) {
                throw new AlreadyExistsException(DataStoreErrors.quoted(DataStoreErrors.TPM_ENROLLMENT_EXISTS, ekHash));
            }
            long at = now();
            try (PreparedStatement s = c.prepareStatement("INSERT INTO tpm_enrollments (" + TPM_ENROLLMENT_COLUMNS
                    + ") VALUES (?, ?, ?, ?, ?, NULL)")) {
                s.setString(1, ekHash);
                s.setString(2, labels);
                s.setString(3, enrollment.pcrPolicy().orElse(null));
                s.setString(4, enrollment.ekCertificatePem().orElse(null));
                s.setLong(5, at);
                s.executeUpdate();
            } catch (SQLException e) {
                throw duplicateOr(e, DataStoreErrors.quoted(DataStoreErrors.TPM_ENROLLMENT_EXISTS, ekHash));
            }
            return new TpmEnrollment(ekHash, enrollment.labels(), enrollment.pcrPolicy(),
                    enrollment.ekCertificatePem(), Instant.ofEpochSecond(at), Optional.empty());
        });
    }

    @Override
    public Optional<TpmEnrollment> getTpmEnrollment(String ekHash) throws DataStoreException {
        String hash = Validator.ekHash(ekHash);
        return read("get TPM enrolment", c -> loadTpmEnrollment(c, hash, false));
    }

    @Override
    public Page<TpmEnrollment> listTpmEnrollments(Optional<Boolean> revoked, PageRequest page)
            throws DataStoreException {
        Objects.requireNonNull(revoked, "revoked");
        Objects.requireNonNull(page, "page");
        String after = Validator.pageStart(page);
        return read("list TPM enrolments", c -> {
            List<Object> params = new ArrayList<>();
            StringBuilder sql = new StringBuilder("SELECT ").append(TPM_ENROLLMENT_COLUMNS)
                    .append(" FROM tpm_enrollments WHERE 1 = 1");
            revoked.ifPresent(r -> sql.append(r ? " AND revoked_at IS NOT NULL" : " AND revoked_at IS NULL"));
            if (after != null) {
                sql.append(" AND ek_hash > ?");
                params.add(after);
            }
            sql.append(" ORDER BY ek_hash");
            if (page.pageSize() > 0) {
                sql.append(" LIMIT ?");
                params.add(page.pageSize() + 1);
            }
            List<TpmEnrollment> items = new ArrayList<>();
            try (PreparedStatement s = Sql.prepare(c, sql.toString(), params); ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    items.add(tpmEnrollmentRow(r));
                }
            }
            boolean more = page.pageSize() > 0 && items.size() > page.pageSize();
            if (more) {
                items.remove(items.size() - 1);
            }
            Optional<String> next = more
                    ? Optional.of(Validator.pageToken(items.get(items.size() - 1).ekHash())) : Optional.empty();
            return new Page<>(items, next);
        });
    }

    @Override
    public TpmEnrollment revokeTpmEnrollment(String ekHash) throws DataStoreException {
        String hash = Validator.ekHash(ekHash);
        return write("revoke TPM enrolment", c -> {
            TpmEnrollment current = loadTpmEnrollment(c, hash, true).orElseThrow(() -> new NotFoundException(
                    DataStoreErrors.quoted(DataStoreErrors.TPM_ENROLLMENT_NOT_FOUND, hash)));
            if (current.revoked()) {
                return current;
            }
            long at = now();
            // "AND revoked_at IS NULL": of two servers revoking at once, the first time stays.
            Sql.update(c, "UPDATE tpm_enrollments SET revoked_at = ? WHERE ek_hash = ? AND revoked_at IS NULL", at,
                    hash);
            return loadTpmEnrollment(c, hash, false).orElseThrow();
        });
    }

    private Optional<TpmEnrollment> loadTpmEnrollment(Connection c, String ekHash, boolean forUpdate)
            throws SQLException, DataStoreException {
        try (PreparedStatement s = c.prepareStatement("SELECT " + TPM_ENROLLMENT_COLUMNS
                + " FROM tpm_enrollments WHERE ek_hash = ?" + (forUpdate ? dialect.forUpdate() : ""))) {
            s.setString(1, ekHash);
            try (ResultSet r = s.executeQuery()) {
                return r.next() ? Optional.of(tpmEnrollmentRow(r)) : Optional.empty();
            }
        }
    }

    private static TpmEnrollment tpmEnrollmentRow(ResultSet r) throws SQLException, DataStoreException {
        String ekHash = r.getString(1);
        try {
            long revokedAt = r.getLong(6);
            Optional<Instant> revoked = r.wasNull() ? Optional.empty() : Optional.of(Instant.ofEpochSecond(revokedAt));
            return new TpmEnrollment(ekHash, decodeLabels(r.getString(2)), Optional.ofNullable(r.getString(3)),
                    Optional.ofNullable(r.getString(4)), Instant.ofEpochSecond(r.getLong(5)), revoked);
        } catch (IllegalArgumentException e) {
            throw new DataStoreFailureException(
                    DataStoreErrors.quoted(DataStoreErrors.TPM_ENROLLMENT_CORRUPT, ekHash), e);
        }
    }

    /**
     * Labels as one {@code key=value} line each, sorted by key. Unambiguous because keys hold no '=' and values no
     * control characters ({@link Limits#isTpmLabelKey}, {@link Limits#isTpmLabelValue}).
     */
    private static String encodeLabels(Map<String, String> labels) {
        StringBuilder text = new StringBuilder();
        new TreeMap<>(labels).forEach((key, value) -> text.append(key).append('=').append(value).append('\n'));
        return text.toString();
    }

    private static SortedMap<String, String> decodeLabels(String text) {
        SortedMap<String, String> labels = new TreeMap<>();
        if (text.isEmpty()) {
            return labels;
        }
        if (!text.endsWith("\n")) {
            throw new IllegalArgumentException("labels do not end with a newline");
        }
        for (String line : text.substring(0, text.length() - 1).split("\n", -1)) {
            int eq = line.indexOf('=');
            if (eq < 0 || !Limits.isTpmLabelKey(line.substring(0, eq))
                    || !Limits.isTpmLabelValue(line.substring(eq + 1))
                    || labels.put(line.substring(0, eq), line.substring(eq + 1)) != null) {
                throw new IllegalArgumentException("malformed label line");
            }
        }
        return labels;
    }

    // ---------------------------------------------------------------------------------------------------------------
    // TPM attestation keys

    @Override
    public TpmAkBinding setTpmAkBinding(String ekHash, byte[] akPublic, byte[] akName) throws DataStoreException {
        String hash = Validator.ekHash(ekHash);
        Validator.akBinding(akPublic, akName);
        byte[] publicArea = akPublic.clone();
        String name = HexFormat.of().formatHex(akName);
        return write("set TPM AK binding", c -> {
            long at = now();
            // One upsert: two servers binding the same node at once leave one row, the later key winning.
            try (PreparedStatement s = c.prepareStatement("INSERT INTO tpm_ak_bindings (ek_hash, ak_public, ak_name,"
                    + " bound_at, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (ek_hash) DO UPDATE SET"
                    + " ak_public = excluded.ak_public, ak_name = excluded.ak_name,"
                    + " updated_at = excluded.updated_at")) {
                s.setString(1, hash);
                s.setBytes(2, publicArea);
                s.setString(3, name);
                s.setLong(4, at);
                s.setLong(5, at);
                s.executeUpdate();
            }
            return loadAkBinding(c, hash).orElseThrow();
        });
    }

    @Override
    public Optional<TpmAkBinding> getTpmAkBinding(String ekHash) throws DataStoreException {
        String hash = Validator.ekHash(ekHash);
        return read("get TPM AK binding", c -> loadAkBinding(c, hash));
    }

    @Override
    public Optional<TpmAkBinding> deleteTpmAkBinding(String ekHash) throws DataStoreException {
        String hash = Validator.ekHash(ekHash);
        return write("delete TPM AK binding", c -> {
            try (PreparedStatement s = c.prepareStatement("DELETE FROM tpm_ak_bindings WHERE ek_hash = ?"
                    + " RETURNING ek_hash, ak_public, ak_name, bound_at, updated_at")) {
                s.setString(1, hash);
                try (ResultSet r = s.executeQuery()) {
                    return r.next() ? Optional.of(akBindingRow(r)) : Optional.<TpmAkBinding>empty();
                }
            }
        });
    }

    private static Optional<TpmAkBinding> loadAkBinding(Connection c, String ekHash)
            throws SQLException, DataStoreException {
        try (PreparedStatement s = c.prepareStatement("SELECT ek_hash, ak_public, ak_name, bound_at, updated_at"
                + " FROM tpm_ak_bindings WHERE ek_hash = ?")) {
            s.setString(1, ekHash);
            try (ResultSet r = s.executeQuery()) {
                return r.next() ? Optional.of(akBindingRow(r)) : Optional.empty();
            }
        }
    }

    private static TpmAkBinding akBindingRow(ResultSet r) throws SQLException, DataStoreException {
        String ekHash = r.getString(1);
        try {
            return new TpmAkBinding(ekHash, r.getBytes(2), HexFormat.of().parseHex(r.getString(3)),
                    Instant.ofEpochSecond(r.getLong(4)), Instant.ofEpochSecond(r.getLong(5)));
        } catch (IllegalArgumentException e) {
            throw new DataStoreFailureException(
                    DataStoreErrors.quoted(DataStoreErrors.TPM_AK_BINDING_CORRUPT, ekHash), e);
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // OpenStack IID single-use IDs

    @Override
    public boolean consumeIidJti(String issuer, String jti, Instant expiresAt) throws DataStoreException {
        Validator.iidJti(issuer, jti, expiresAt);
        return write("consume IID jti", c -> {
            long at = now();
            // Records go once their document is past its exp by more than any configurable clock skew: such a
            // document is refused by its exp claim before it reaches the ledger.
            Sql.update(c, "DELETE FROM iid_jtis WHERE expires_at < ?", at - IID_JTI_RETENTION.toSeconds());
            // One insert that does nothing on a conflict: of two servers racing with the same jti, exactly one
            // inserts (the primary key decides), so exactly one attestation succeeds.
            try (PreparedStatement s = c.prepareStatement("INSERT INTO iid_jtis (issuer, jti, expires_at, used_at)"
                    + " VALUES (?, ?, ?, ?) ON CONFLICT (issuer, jti) DO NOTHING")) {
                s.setString(1, issuer);
                s.setString(2, jti);
                s.setLong(3, Math.max(expiresAt.getEpochSecond(), at));
                s.setLong(4, at);
                return s.executeUpdate() == 1;
            }
        });
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Federation relationships

    private static final String RELATIONSHIP_COLUMNS = "trust_domain, bundle_endpoint_url, bundle_endpoint_profile,"
            + " endpoint_spiffe_id, created_at, updated_at, last_success_at, last_error_at, last_error,"
            + " next_attempt_at, consecutive_failures";

    @Override
    public FederationRelationship createFederationRelationship(FederationRelationship relationship,
            Optional<SpiffeBundle> bootstrapBundle) throws DataStoreException {
        Objects.requireNonNull(relationship, "relationship");
        Objects.requireNonNull(bootstrapBundle, "bootstrapBundle");
        String domain = relationship.trustDomain().name();
        String bootstrapJson = null;
        if (bootstrapBundle.isPresent()) {
            if (!bootstrapBundle.get().trustDomain().equals(relationship.trustDomain())) {
                throw new InvalidArgumentException("trust_domain_bundle", Limits.BUNDLE_TRUST_DOMAIN_MISMATCH);
            }
            bootstrapJson = bundleJson(bootstrapBundle.get());
        }
        String bootstrap = bootstrapJson;
        return write("create federation relationship", c -> {
            if (Sql.exists(c, "SELECT 1 FROM federation_relationships WHERE trust_domain = ?", domain)) {
                throw new AlreadyExistsException(
                        DataStoreErrors.quoted(DataStoreErrors.RELATIONSHIP_EXISTS, domain));
            }
            long at = now();
            try (PreparedStatement s = c.prepareStatement("INSERT INTO federation_relationships (trust_domain,"
                    + " bundle_endpoint_url, bundle_endpoint_profile, endpoint_spiffe_id, created_at, updated_at,"
                    + " consecutive_failures) VALUES (?, ?, ?, ?, ?, ?, 0)")) {
                s.setString(1, domain);
                s.setString(2, relationship.bundleEndpointUrl().toString());
                s.setString(3, relationship.profile().profileName());
                s.setString(4, endpointId(relationship.profile()));
                s.setLong(5, at);
                s.setLong(6, at);
                s.executeUpdate();
            } catch (SQLException e) {
                throw duplicateOr(e, DataStoreErrors.quoted(DataStoreErrors.RELATIONSHIP_EXISTS, domain));
            }
            if (bootstrap != null) {
                // The bootstrap bundle only seeds a domain: a bundle already stored (set by an operator, or fetched
                // under an earlier relationship) is at least as current.
                try (PreparedStatement s = c.prepareStatement("INSERT INTO federated_bundles (trust_domain,"
                        + " bundle_json, updated_at) VALUES (?, ?, ?) ON CONFLICT (trust_domain) DO NOTHING")) {
                    s.setString(1, domain);
                    s.setString(2, bootstrap);
                    s.setLong(3, at);
                    s.executeUpdate();
                }
            }
            return loadRelationship(c, domain).orElseThrow();
        });
    }

    @Override
    public Optional<FederationRelationship> getFederationRelationship(TrustDomain trustDomain)
            throws DataStoreException {
        Objects.requireNonNull(trustDomain, "trustDomain");
        return read("get federation relationship", c -> loadRelationship(c, trustDomain.name()));
    }

    @Override
    public Page<FederationRelationship> listFederationRelationships(PageRequest page) throws DataStoreException {
        Objects.requireNonNull(page, "page");
        String after = Validator.pageStart(page);
        return read("list federation relationships", c -> {
            List<Object> params = new ArrayList<>();
            StringBuilder sql = new StringBuilder("SELECT ").append(RELATIONSHIP_COLUMNS)
                    .append(" FROM federation_relationships WHERE 1 = 1");
            if (after != null) {
                sql.append(" AND trust_domain > ?");
                params.add(after);
            }
            sql.append(" ORDER BY trust_domain");
            if (page.pageSize() > 0) {
                sql.append(" LIMIT ?");
                params.add(page.pageSize() + 1);
            }
            List<FederationRelationship> items = new ArrayList<>();
            try (PreparedStatement s = Sql.prepare(c, sql.toString(), params); ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    items.add(relationshipRow(r));
                }
            }
            boolean more = page.pageSize() > 0 && items.size() > page.pageSize();
            if (more) {
                items.remove(items.size() - 1);
            }
            Optional<String> next = more ? Optional.of(Validator.pageToken(
                    items.get(items.size() - 1).trustDomain().name())) : Optional.empty();
            return new Page<>(items, next);
        });
    }

    @Override
    public FederationRelationship updateFederationRelationship(FederationRelationship relationship)
            throws DataStoreException {
        Objects.requireNonNull(relationship, "relationship");
        String domain = relationship.trustDomain().name();
        return write("update federation relationship", c -> {
            try (PreparedStatement s = c.prepareStatement("UPDATE federation_relationships SET"
                    + " bundle_endpoint_url = ?, bundle_endpoint_profile = ?, endpoint_spiffe_id = ?, updated_at = ?"
                    + " WHERE trust_domain = ?")) {
                s.setString(1, relationship.bundleEndpointUrl().toString());
                s.setString(2, relationship.profile().profileName());
                s.setString(3, endpointId(relationship.profile()));
                s.setLong(4, now());
                s.setString(5, domain);
                if (s.executeUpdate() == 0) {
                    throw new NotFoundException(DataStoreErrors.quoted(DataStoreErrors.RELATIONSHIP_NOT_FOUND,
                            domain));
                }
            }
            return loadRelationship(c, domain).orElseThrow();
        });
    }

    @Override
    public FederationRelationship deleteFederationRelationship(TrustDomain trustDomain) throws DataStoreException {
        Objects.requireNonNull(trustDomain, "trustDomain");
        String domain = trustDomain.name();
        return write("delete federation relationship", c -> {
            FederationRelationship current = loadRelationship(c, domain).orElseThrow(() -> new NotFoundException(
                    DataStoreErrors.quoted(DataStoreErrors.RELATIONSHIP_NOT_FOUND, domain)));
            Sql.update(c, "DELETE FROM federation_relationships WHERE trust_domain = ?", domain);
            return current;
        });
    }

    @Override
    public void setBundleFetchState(TrustDomain trustDomain, BundleFetchState state) throws DataStoreException {
        Objects.requireNonNull(trustDomain, "trustDomain");
        Objects.requireNonNull(state, "state");
        write("set bundle fetch state", c -> {
            try (PreparedStatement s = c.prepareStatement("UPDATE federation_relationships SET last_success_at = ?,"
                    + " last_error_at = ?, last_error = ?, next_attempt_at = ?, consecutive_failures = ?"
                    + " WHERE trust_domain = ?")) {
                setSeconds(s, 1, state.lastSuccessAt());
                setSeconds(s, 2, state.lastErrorAt());
                s.setString(3, state.lastError().orElse(null));
                setSeconds(s, 4, state.nextAttemptAt());
                s.setLong(5, state.consecutiveFailures());
                s.setString(6, trustDomain.name());
                if (s.executeUpdate() == 0) {
                    throw new NotFoundException(DataStoreErrors.quoted(DataStoreErrors.RELATIONSHIP_NOT_FOUND,
                            trustDomain.name()));
                }
            }
            return null;
        });
    }

    @Override
    public boolean compareAndSetBundle(Optional<SpiffeBundle> expected, SpiffeBundle next) throws DataStoreException {
        Objects.requireNonNull(expected, "expected");
        Objects.requireNonNull(next, "next");
        if (expected.isPresent() && !expected.get().trustDomain().equals(next.trustDomain())) {
            throw new InvalidArgumentException("bundle", Limits.BUNDLE_TRUST_DOMAIN_MISMATCH);
        }
        String json = bundleJson(next);
        TrustDomain td = next.trustDomain();
        return write("compare and set bundle", c -> {
            long at = now();
            if (expected.isEmpty()) {
                // Of two servers inserting at once, the primary key lets exactly one in.
                try (PreparedStatement s = c.prepareStatement("INSERT INTO federated_bundles (trust_domain,"
                        + " bundle_json, updated_at) VALUES (?, ?, ?) ON CONFLICT (trust_domain) DO NOTHING")) {
                    s.setString(1, td.name());
                    s.setString(2, json);
                    s.setLong(3, at);
                    return s.executeUpdate() == 1;
                }
            }
            String stored;
            try (PreparedStatement s = c.prepareStatement("SELECT bundle_json FROM federated_bundles"
                    + " WHERE trust_domain = ?" + dialect.forUpdate())) {
                s.setString(1, td.name());
                try (ResultSet r = s.executeQuery()) {
                    stored = r.next() ? r.getString(1) : null;
                }
            }
            // Compared as decoded bundles, not as text: what matters is the authorities and metadata.
            if (stored == null || !decodeBundle(td, stored).equals(expected.get())) {
                return false;
            }
            Sql.update(c, "UPDATE federated_bundles SET bundle_json = ?, updated_at = ? WHERE trust_domain = ?",
                    json, at, td.name());
            return true;
        });
    }

    private static String bundleJson(SpiffeBundle bundle) throws InvalidArgumentException {
        String json;
        try {
            json = SpiffeBundleJson.encode(bundle);
        } catch (RuntimeException e) {
            throw new InvalidArgumentException("bundle", Limits.BUNDLE_INVALID);
        }
        if (json.getBytes(StandardCharsets.UTF_8).length > SpiffeBundleJson.MAX_DOCUMENT_BYTES) {
            throw new InvalidArgumentException("bundle", Limits.BUNDLE_INVALID);
        }
        return json;
    }

    private static String endpointId(BundleEndpointProfile profile) {
        return profile instanceof BundleEndpointProfile.HttpsSpiffe spiffe
                ? spiffe.endpointSpiffeId().toString() : null;
    }

    private static void setSeconds(PreparedStatement s, int index, Optional<Instant> time) throws SQLException {
        if (time.isPresent()) {
            s.setLong(index, time.get().getEpochSecond());
        } else {
            s.setNull(index, Types.BIGINT);
        }
    }

    private static Optional<Instant> seconds(ResultSet r, int column) throws SQLException {
        long value = r.getLong(column);
        return r.wasNull() ? Optional.empty() : Optional.of(Instant.ofEpochSecond(value));
    }

    private Optional<FederationRelationship> loadRelationship(Connection c, String domain)
            throws SQLException, DataStoreException {
        try (PreparedStatement s = c.prepareStatement("SELECT " + RELATIONSHIP_COLUMNS
                + " FROM federation_relationships WHERE trust_domain = ?")) {
            s.setString(1, domain);
            try (ResultSet r = s.executeQuery()) {
                return r.next() ? Optional.of(relationshipRow(r)) : Optional.empty();
            }
        }
    }

    private static FederationRelationship relationshipRow(ResultSet r) throws SQLException, DataStoreException {
        String domain = r.getString(1);
        try {
            String profileName = r.getString(3);
            BundleEndpointProfile profile = switch (profileName) {
                case BundleEndpointProfile.HTTPS_WEB -> new BundleEndpointProfile.HttpsWeb();
                case BundleEndpointProfile.HTTPS_SPIFFE -> new BundleEndpointProfile.HttpsSpiffe(
                        SpiffeId.parse(r.getString(4)));
                default -> throw new IllegalArgumentException("unknown profile " + profileName);
            };
            BundleFetchState state = new BundleFetchState(seconds(r, 7), seconds(r, 8),
                    Optional.ofNullable(r.getString(9)), seconds(r, 10), (int) r.getLong(11));
            return new FederationRelationship(new TrustDomain(domain),
                    FederationRelationship.parseEndpointUrl(r.getString(2)), profile,
                    Instant.ofEpochSecond(r.getLong(5)), Instant.ofEpochSecond(r.getLong(6)), state);
        } catch (IllegalArgumentException | NullPointerException e) {
            throw new DataStoreFailureException(DataStoreErrors.quoted(DataStoreErrors.RELATIONSHIP_CORRUPT, domain),
                    e);
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Change log

    @Override
    public List<ChangeEvent> listEvents(long afterId, int limit) throws DataStoreException {
        if (afterId < 0) {
            throw new InvalidArgumentException("after_id", Limits.EVENT_ID_NEGATIVE);
        }
        if (limit < 1 || limit > Limits.MAX_EVENTS_PER_CALL) {
            throw new InvalidArgumentException("limit", Limits.EVENT_LIMIT_INVALID);
        }
        return read("list events", c -> {
            List<ChangeEvent> events = new ArrayList<>();
            try (PreparedStatement s = c.prepareStatement("SELECT id, kind, subject, created_at FROM change_events"
                    + " WHERE id > ? ORDER BY id LIMIT ?")) {
                s.setLong(1, afterId);
                s.setInt(2, limit);
                try (ResultSet r = s.executeQuery()) {
                    while (r.next()) {
                        events.add(new ChangeEvent(r.getLong(1), ChangeEvent.Kind.valueOf(r.getString(2)),
                                r.getString(3), Instant.ofEpochSecond(r.getLong(4))));
                    }
                }
            }
            return events;
        });
    }

    @Override
    public long lastEventId() throws DataStoreException {
        return read("last event id", c -> {
            try (PreparedStatement s = c.prepareStatement("SELECT COALESCE(MAX(id), 0) FROM change_events");
                    ResultSet r = s.executeQuery()) {
                r.next();
                return r.getLong(1);
            }
        });
    }

    @Override
    public int pruneEvents(Instant createdBefore) throws DataStoreException {
        Objects.requireNonNull(createdBefore, "createdBefore");
        return write("prune events",
                c -> Sql.update(c, "DELETE FROM change_events WHERE created_at < ?", createdBefore.getEpochSecond()));
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Helpers

    private AlreadyExistsException duplicateOr(SQLException e, String message) throws SQLException {
        if (dialect.isUniqueViolation(e)) {
            return new AlreadyExistsException(message);
        }
        throw e;
    }

    /**
     * Runs {@code work} in a transaction on a read or write connection; for tests in this package that inspect the
     * database and its connection settings.
     */
    <T> T withConnection(boolean write, SqlFunction<T> work) throws DataStoreException {
        return write ? write("inspect", work::apply) : read("inspect", work::apply);
    }

    /** A function of a JDBC connection, for {@link #withConnection}. */
    @FunctionalInterface
    interface SqlFunction<T> {
        T apply(Connection connection) throws SQLException;
    }

    @Override
    public void close() {
        if (readPool != writePool) {
            readPool.close();
        }
        writePool.close();
    }

    @Override
    public String toString() {
        return "SqlDataStore[" + description + "]";
    }
}
