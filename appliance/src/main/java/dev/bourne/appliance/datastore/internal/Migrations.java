package dev.bourne.appliance.datastore.internal;

import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;
import org.flywaydb.core.api.MigrationInfo;
import org.flywaydb.core.api.MigrationState;
import org.flywaydb.core.api.MigrationVersion;
import org.flywaydb.core.api.output.MigrateResult;

import javax.sql.DataSource;

/**
 * Brings a database to the schema this build of Bourne expects, with Flyway's versioned SQL migrations
 * ({@code V<n>__<what>.sql}, one directory per {@link Dialect}), recorded with checksums in
 * {@value #HISTORY_TABLE}.
 *
 * <p>Flyway is configured to change nothing but the schema: clean is disabled (no command of ours can drop the
 * database), and a migration recorded in the database but unknown to this build is refused rather than ignored, so an
 * older Bourne never runs against a schema a newer one wrote. Flyway takes a lock while migrating (an advisory lock on
 * PostgreSQL), so several servers starting together migrate once. The community edition in flyway-core has no
 * network client and its telemetry hook is a no-op ({@code NullFlywayTelemetryManager}): nothing leaves the machine.
 */
public final class Migrations {
    /** The table recording applied migrations. */
    public static final String HISTORY_TABLE = "bourne_schema_history";
    public static final String NEWER_SCHEMA = "the database schema is version %s, newer than version %s that this"
            + " Bourne knows: it was upgraded by a newer Bourne; run that version, or restore a backup taken before the"
            + " upgrade";
    public static final String FAILED_MIGRATION = "a migration failed earlier and left version %s marked failed:"
            + " restore the database from a backup";

    private Migrations() {
    }

    /**
     * Migrates the database to the latest version and returns how many migrations ran (0 when it was current).
     *
     * @throws IllegalStateException with {@link #NEWER_SCHEMA} or {@link #FAILED_MIGRATION}, or Flyway's own
     *     message when a migration fails or a recorded checksum does not match
     */
    public static int migrate(DataSource dataSource, Dialect dialect) {
        Flyway flyway = configure(dataSource, dialect);
        checkVersions(flyway);
        try {
            MigrateResult result = flyway.migrate();
            return result.migrationsExecuted;
        } catch (FlywayException e) {
            throw new IllegalStateException("database migration failed: " + e.getMessage(), e);
        }
    }

    /** The newest schema version this build knows for {@code dialect}. */
    public static String latestVersion(DataSource dataSource, Dialect dialect) {
        MigrationVersion latest = MigrationVersion.EMPTY;
        for (MigrationInfo info : configure(dataSource, dialect).info().all()) {
            if (info.getState().isResolved() && info.getVersion() != null
                    && info.getVersion().isNewerThan(latest.getVersion())) {
                latest = info.getVersion();
            }
        }
        return latest.getVersion();
    }

    private static void checkVersions(Flyway flyway) {
        MigrationInfo[] all = flyway.info().all();
        MigrationVersion latestKnown = MigrationVersion.EMPTY;
        for (MigrationInfo info : all) {
            if (info.getState().isResolved() && info.getVersion() != null
                    && (latestKnown == MigrationVersion.EMPTY || info.getVersion().isNewerThan(latestKnown.getVersion()))) {
                latestKnown = info.getVersion();
            }
        }
        for (MigrationInfo info : all) {
            MigrationState state = info.getState();
            if (state == MigrationState.FUTURE_SUCCESS || state == MigrationState.FUTURE_FAILED) {
                throw new IllegalStateException(String.format(NEWER_SCHEMA, info.getVersion(),
                        latestKnown == MigrationVersion.EMPTY ? "none" : latestKnown.getVersion()));
            }
            if (state.isFailed()) {
                throw new IllegalStateException(String.format(FAILED_MIGRATION, info.getVersion()));
            }
        }
    }

    private static Flyway configure(DataSource dataSource, Dialect dialect) {
        return Flyway.configure(Migrations.class.getClassLoader())
                .dataSource(dataSource)
                .locations(dialect.migrationLocation())
                .table(HISTORY_TABLE)
                .cleanDisabled(true)
                .validateMigrationNaming(true)
                .validateOnMigrate(true)
                // Nothing ignored: an applied migration this build does not know fails validation.
                .ignoreMigrationPatterns(new String[0])
                .failOnMissingLocations(true)
                .loggers("slf4j")
                .load();
    }
}
