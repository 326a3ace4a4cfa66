package dev.bourne.testing.postgres;

import dev.bourne.testing.internal.PerClassResourceExtension;

/**
 * JUnit extension giving each test class a fresh database and role on the local PostgreSQL cluster (started if it is
 * down), dropped after the class even when connections are still open. It injects the {@link PostgresDatabase} into
 * constructors, {@code @BeforeAll}, {@code @BeforeEach} and test methods.
 *
 * <p>Use {@link WithPostgres} or {@code @ExtendWith(PostgresExtension.class)}. A {@code @Nested} class shares its
 * enclosing class's database.
 */
public final class PostgresExtension extends PerClassResourceExtension<PostgresDatabase> {

    /** Used by JUnit through the meta-annotation or {@code @ExtendWith}. */
    public PostgresExtension() {
        super(PostgresDatabase.class);
    }

    @Override
    protected PostgresDatabase open() {
        return PostgresCluster.local().createDatabase();
    }

    @Override
    protected void close(PostgresDatabase resource) {
        PostgresCluster.local().drop(resource);
    }
}
