package dev.bourne.testing.postgres;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * JUnit extension giving each test class a fresh database and role on the local PostgreSQL cluster (started if it is
 * down), dropped after the class even when connections are still open. It injects the {@link PostgresDatabase} into
 * constructors, {@code @BeforeAll}, {@code @BeforeEach} and test methods.
 *
 * <p>Use {@link WithPostgres} or {@code @ExtendWith(PostgresExtension.class)}. A {@code @Nested} class shares its
 * enclosing class's database.
 */
public final class PostgresExtension implements BeforeAllCallback, AfterAllCallback, ParameterResolver {

    private static final ExtensionContext.Namespace NAMESPACE =
            ExtensionContext.Namespace.create(PostgresExtension.class);
    private static final String DATABASE = "database";

    @Override
    public void beforeAll(ExtensionContext context) {
        databaseFor(context);
    }

    @Override
    public void afterAll(ExtensionContext context) {
        // remove() only looks at this class's own store: an enclosing class's database stays until that class ends.
        PostgresDatabase database = context.getStore(NAMESPACE).remove(DATABASE, PostgresDatabase.class);
        if (database != null) {
            PostgresCluster.local().drop(database);
        }
    }

    @Override
    public boolean supportsParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        return parameterContext.getParameter().getType() == PostgresDatabase.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        return databaseFor(extensionContext);
    }

    /**
     * The database visible from this context (get() also searches enclosing contexts), creating one for the nearest
     * class when there is none yet: with {@code @TestInstance(PER_CLASS)} the constructor is resolved before beforeAll.
     */
    private static PostgresDatabase databaseFor(ExtensionContext context) {
        PostgresDatabase existing = context.getStore(NAMESPACE).get(DATABASE, PostgresDatabase.class);
        if (existing != null) {
            return existing;
        }
        ExtensionContext classContext = context;
        while (classContext.getTestMethod().isPresent() && classContext.getParent().isPresent()) {
            classContext = classContext.getParent().get();
        }
        PostgresDatabase database = PostgresCluster.local().createDatabase();
        classContext.getStore(NAMESPACE).put(DATABASE, database);
        return database;
    }
}
