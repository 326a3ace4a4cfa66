package dev.bourne.testing.postgres;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.lang.reflect.Modifier;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Cross-class checks of the per-class database. Test classes record their database in {@code @BeforeAll}; registered
 * before {@link WithPostgres}, this extension's afterAll runs after the fixture's (JUnit runs afterAll callbacks in
 * reverse registration order), so it asks the catalog whether the fixture really dropped the database and its role.
 */
final class DatabaseChecks implements AfterAllCallback {

    private static final Set<String> NAMES_SEEN = ConcurrentHashMap.newKeySet();
    private static final Map<Class<?>, String> NAME_BY_CLASS = new ConcurrentHashMap<>();

    /** Records the database of a test class, failing if another class of this JVM had the same one. */
    static void record(Class<?> testClass, PostgresDatabase database) {
        assertTrue(NAMES_SEEN.add(database.name()), "database " + database.name() + " was handed out twice");
        NAME_BY_CLASS.put(testClass, database.name());
    }

    @Override
    public void afterAll(ExtensionContext context) {
        Class<?> testClass = context.getRequiredTestClass();
        if (testClass.isMemberClass() && !Modifier.isStatic(testClass.getModifiers())) {
            return; // a @Nested class shares its enclosing class's database, which outlives it
        }
        String name = NAME_BY_CLASS.get(testClass);
        assertNotNull(name, testClass + " did not record its database");
        PostgresCluster cluster = PostgresCluster.local();
        assertFalse(cluster.databaseExists(name), "database " + name + " still exists after its class");
        assertFalse(cluster.roleExists(name), "role " + name + " still exists after its class");
    }
}
