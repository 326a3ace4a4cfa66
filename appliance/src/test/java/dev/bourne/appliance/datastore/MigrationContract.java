package dev.bourne.appliance.datastore;

import dev.bourne.appliance.datastore.internal.Dialect;
import dev.bourne.appliance.datastore.internal.Migrations;
import dev.bourne.core.selector.Selector;
import dev.bourne.core.spiffeid.SpiffeId;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;

import javax.sql.DataSource;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Schema migration behaviour, run against each real database on a database with no Bourne schema yet. */
abstract class MigrationContract {
    static final List<String> TABLES = List.of("registered_entries", "entry_selectors", "entry_dns_names",
            "entry_federates_with", "attested_nodes", "node_selectors", "join_tokens", "federated_bundles",
            "ca_journals", "change_events", "tpm_enrollments", "tpm_ak_bindings", "federation_relationships");
    /** The schema version this build migrates to. */
    static final String LATEST = "4";

    final Clock clock = Clock.systemUTC();
    final SecureRandom random = new SecureRandom();

    abstract SqlDataStore open() throws Exception;

    /** A plain data source on the same database, for looking at it and playing a newer Bourne. */
    abstract DataSource dataSource() throws Exception;

    abstract Dialect dialect();

    List<String> history() throws Exception {
        List<String> rows = new ArrayList<>();
        try (Connection c = dataSource().getConnection(); PreparedStatement s = c.prepareStatement(
                "SELECT version, checksum, success FROM " + Migrations.HISTORY_TABLE + " ORDER BY installed_rank");
                ResultSet r = s.executeQuery()) {
            while (r.next()) {
                rows.add(r.getString(1) + "/" + r.getInt(2) + "/" + r.getBoolean(3));
            }
        }
        return rows;
    }

    @Test
    void freshDatabase_migratesToTheLatestVersion() throws Exception {
        try (SqlDataStore store = open()) {
            for (String table : TABLES) {
                long count = store.withConnection(false, c -> {
                    try (PreparedStatement s = c.prepareStatement("SELECT COUNT(*) FROM " + table);
                            ResultSet r = s.executeQuery()) {
                        r.next();
                        return r.getLong(1);
                    }
                });
                assertEquals(0, count, table);
            }
        }
        List<String> history = history();
        assertEquals(Integer.parseInt(LATEST), history.size(), history.toString());
        for (int i = 0; i < history.size(); i++) {
            assertTrue(history.get(i).startsWith((i + 1) + "/"), history.get(i));
            assertTrue(history.get(i).endsWith("/true"), history.get(i));
        }
        assertEquals(LATEST, Migrations.latestVersion(dataSource(), dialect()));
    }

    @Test
    void secondStart_isANoOp_andKeepsTheData() throws Exception {
        String id;
        try (SqlDataStore store = open()) {
            id = store.createEntry(RegistrationEntry.builder().spiffeId(SpiffeId.parse("spiffe://example.org/w"))
                    .parentId(SpiffeId.parse("spiffe://example.org/spire/agent/x/y"))
                    .selector(Selector.parse("unix:uid:0")).build()).id();
        }
        List<String> before = history();
        assertEquals(0, Migrations.migrate(dataSource(), dialect()));
        try (SqlDataStore store = open()) {
            assertTrue(store.getEntry(id).isPresent());
        }
        assertEquals(before, history());
    }

    @Test
    void version1Database_upgradesToTheLatest_keepingItsData() throws Exception {
        Flyway.configure(getClass().getClassLoader()).dataSource(dataSource())
                .locations(dialect().migrationLocation()).table(Migrations.HISTORY_TABLE).target("1").load()
                .migrate();
        try (Connection c = dataSource().getConnection(); Statement s = c.createStatement()) {
            s.executeUpdate("INSERT INTO join_tokens (token_hash, expires_at) VALUES ('h', 1)");
        }
        assertEquals(1, history().size());
        try (SqlDataStore store = open()) {
            assertEquals(Integer.parseInt(LATEST), history().size());
            long tokens = store.withConnection(false, c -> {
                try (PreparedStatement s = c.prepareStatement("SELECT COUNT(*) FROM join_tokens");
                        ResultSet r = s.executeQuery()) {
                    r.next();
                    return r.getLong(1);
                }
            });
            assertEquals(1, tokens);
            assertTrue(store.listTpmEnrollments(java.util.Optional.empty(),
                    PageRequest.ALL).items().isEmpty());
        }
    }

    @Test
    void schemaFromANewerBourne_isRefused() throws Exception {
        open().close();
        Flyway.configure(getClass().getClassLoader()).dataSource(dataSource())
                .locations(dialect().migrationLocation(),
                        "classpath:dev/bourne/appliance/datastore/future/" + (dialect() == Dialect.SQLITE ? "sqlite"
                                : "postgres"))
                .table(Migrations.HISTORY_TABLE).load().migrate();
        List<String> before = history();
        assertEquals(Integer.parseInt(LATEST) + 1, before.size());

        DataStoreFailureException e = assertThrows(DataStoreFailureException.class, this::open);
        assertEquals(String.format(Migrations.NEWER_SCHEMA, "999", LATEST), e.getMessage());
        assertEquals(DataStoreException.Kind.FAILURE, e.kind());
        assertEquals(before, history());
    }

    @Test
    void editedMigration_isRefused() throws Exception {
        open().close();
        try (Connection c = dataSource().getConnection(); Statement s = c.createStatement()) {
            s.executeUpdate("UPDATE " + Migrations.HISTORY_TABLE + " SET checksum = 12345 WHERE version = '1'");
        }
        DataStoreFailureException e = assertThrows(DataStoreFailureException.class, this::open);
        assertTrue(e.getMessage().startsWith("database migration failed: "), e.getMessage());
        assertTrue(e.getMessage().contains("checksum mismatch"), e.getMessage());
    }
}
