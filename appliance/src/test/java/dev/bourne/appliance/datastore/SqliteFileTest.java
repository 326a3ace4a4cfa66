package dev.bourne.appliance.datastore;

import dev.bourne.core.selector.Selector;
import dev.bourne.core.spiffeid.SpiffeId;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What only SQLite has: a file with a mode, connection pragmas, and data that must survive a restart. */
class SqliteFileTest {

    @TempDir
    Path dir;

    final Clock clock = Clock.systemUTC();
    final SecureRandom random = new SecureRandom();

    private SqlDataStore open(Path file) throws DataStoreException {
        return SqlDataStore.openSqlite(file, clock, random);
    }

    private static String pragma(SqlDataStore store, boolean writer, String name) throws DataStoreException {
        return store.withConnection(writer, c -> {
            try (PreparedStatement s = c.prepareStatement("PRAGMA " + name); ResultSet r = s.executeQuery()) {
                r.next();
                return r.getString(1);
            }
        });
    }

    @Test
    void openFromPluginSettings() throws Exception {
        Path file = dir.resolve("from-config").resolve(SqlDataStore.SQLITE_FILE_NAME);
        SqlDataStoreSettings settings = SqlDataStoreSettings.fromPlugin(new dev.bourne.core.config.PluginConfig(
                "server.conf", "DataStore", "sql", true,
                java.util.Map.of("database_type", "sqlite3", "connection_string", file.toString()))).orElseThrow();
        try (SqlDataStore store = SqlDataStore.open(settings, clock, random)) {
            store.createJoinToken("t", Instant.now());
            assertTrue(store.toString().contains(file.toString()));
        }
        assertTrue(Files.isRegularFile(file));
    }

    @Test
    void pragmas_areInEffect_onReaderAndWriterConnections() throws Exception {
        try (SqlDataStore store = open(dir.resolve("datastore.sqlite3"))) {
            for (boolean writer : new boolean[] {false, true}) {
                assertEquals("wal", pragma(store, writer, "journal_mode"));
                assertEquals("2", pragma(store, writer, "synchronous"), "synchronous FULL is 2");
                assertEquals(Long.toString(SqlDataStore.SQLITE_BUSY_TIMEOUT.toMillis()),
                        pragma(store, writer, "busy_timeout"));
                assertEquals("1", pragma(store, writer, "foreign_keys"));
            }
        }
    }

    @Test
    void databaseFile_isCreatedOwnerOnly_andSoAreItsWalFiles() throws Exception {
        Path file = dir.resolve("state").resolve("server").resolve(SqlDataStore.SQLITE_FILE_NAME);
        try (SqlDataStore store = open(file)) {
            store.createJoinToken("t", Instant.now());
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
            Path wal = Path.of(file + "-wal");
            assertTrue(Files.exists(wal));
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(wal)));
            assertEquals("rw-------", PosixFilePermissions.toString(
                    Files.getPosixFilePermissions(Path.of(file + "-shm"))));
        }
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file.getParent())));
    }

    @Test
    void existingFileReadableByOthers_isNarrowedToOwnerOnly() throws Exception {
        Path file = dir.resolve(SqlDataStore.SQLITE_FILE_NAME);
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-r--r--")));
        open(file).close();
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
    }

    @Test
    void restart_keepsEverything() throws Exception {
        Path file = dir.resolve(SqlDataStore.SQLITE_FILE_NAME);
        RegistrationEntry entry;
        AttestedNode node;
        dev.bourne.core.bundle.SpiffeBundle bundle = DataStoreContract.bundle("a.org", 4);
        try (SqlDataStore store = open(file)) {
            entry = store.createEntry(DataStoreContract.entry("/web", DataStoreContract.UID)
                    .dnsNames(List.of("web.example.org")).hint("h").build());
            node = store.createNode(DataStoreContract.node(DataStoreContract.AGENT, DataStoreContract.GID));
            store.createJoinToken("join-me", Instant.parse("2030-01-01T00:00:00Z"));
            store.setBundle(bundle);
            store.putCaJournal("server-1", 0, "journal".getBytes(StandardCharsets.UTF_8));
        }
        try (SqlDataStore store = open(file)) {
            assertEquals(Optional.of(entry), store.getEntry(entry.id()));
            assertEquals(Optional.of(node), store.getNode(DataStoreContract.AGENT));
            assertEquals(Optional.of(Instant.parse("2030-01-01T00:00:00Z")), store.takeJoinToken("join-me"));
            assertEquals(List.of(bundle), store.listBundles());
            CaJournal journal = store.getCaJournal("server-1").orElseThrow();
            assertEquals(1, journal.version());
            assertArrayEquals("journal".getBytes(StandardCharsets.UTF_8), journal.data());
            assertEquals(2, store.listEvents(0, 10).size());
        }
        try (SqlDataStore store = open(file)) {
            assertEquals(Optional.empty(), store.takeJoinToken("join-me"), "a taken token stays taken");
        }
    }

    @Test
    void writeLockHeldByAnotherProcess_failsUnavailableAfterBoundedRetries_whileReadsGoOn() throws Exception {
        Path file = dir.resolve(SqlDataStore.SQLITE_FILE_NAME);
        try (SqlDataStore store = SqlDataStore.openSqlite(file, clock, random, Duration.ofMillis(50))) {
            store.createJoinToken("first", Instant.now());
            try (Connection other = DriverManager.getConnection("jdbc:sqlite:" + file);
                    Statement s = other.createStatement()) {
                s.execute("BEGIN IMMEDIATE");   // what another server process on the same file would hold
                try {
                    UnavailableException e = assertThrows(UnavailableException.class,
                            () -> store.createJoinToken("second", Instant.now()));
                    assertEquals(DataStoreErrors.UNAVAILABLE + " (create join token)", e.getMessage());
                    // WAL: readers are not blocked by a writer.
                    assertEquals(0, store.countEntries(EntryFilter.all()));
                } finally {
                    s.execute("ROLLBACK");
                }
            }
            store.createJoinToken("second", Instant.now());
            assertTrue(store.takeJoinToken("second").isPresent());
        }
    }

    @Test
    void fileThatIsNotADatabase_isRefused() throws Exception {
        Path file = dir.resolve(SqlDataStore.SQLITE_FILE_NAME);
        Files.write(file, "this is not an SQLite database, just text long enough to have a header page"
                .repeat(20).getBytes(StandardCharsets.UTF_8));
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        DataStoreFailureException e = assertThrows(DataStoreFailureException.class, () -> open(file));
        assertTrue(e.getMessage().startsWith(DataStoreErrors.FAILURE + ": SQLite file " + file), e.getMessage());
    }

    @Test
    void pathThatIsADirectory_isRefused() throws Exception {
        Path file = dir.resolve("adir");
        Files.createDirectory(file);
        DataStoreFailureException e = assertThrows(DataStoreFailureException.class, () -> open(file));
        assertEquals(DataStoreErrors.FAILURE + ": the SQLite path exists and is not a regular file: " + file,
                e.getMessage());
    }

    @Test
    void selectorValuesWithSqlMetacharacters_areData() throws Exception {
        try (SqlDataStore store = open(dir.resolve(SqlDataStore.SQLITE_FILE_NAME))) {
            Selector hostile = Selector.parse("unix:path:/x'); DROP TABLE registered_entries; --");
            RegistrationEntry e = store.createEntry(RegistrationEntry.builder()
                    .spiffeId(SpiffeId.parse("spiffe://example.org/w")).parentId(DataStoreContract.AGENT)
                    .selector(hostile).build());
            assertEquals(List.of(e), store.listEntries(EntryFilter.all().withSelectors(
                    SelectorMatch.exact(List.of(hostile))), PageRequest.ALL).items());
        }
    }
}
