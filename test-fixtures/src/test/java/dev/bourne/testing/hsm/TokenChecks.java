package dev.bourne.testing.hsm;

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
 * Cross-class checks of the token lease. Test classes record their token in {@code @BeforeAll}; registered before
 * {@link WithSoftHsm}, this extension's afterAll runs after the fixture's (JUnit runs afterAll callbacks in reverse
 * registration order), so it sees the state the fixture left behind.
 */
final class TokenChecks implements AfterAllCallback {

    private static final Set<String> LABELS_SEEN = ConcurrentHashMap.newKeySet();
    private static final Map<Class<?>, String> LABEL_BY_CLASS = new ConcurrentHashMap<>();

    /** Records the token of a test class, failing if another class of this JVM already had the same token. */
    static void record(Class<?> testClass, SoftHsmToken token) {
        assertTrue(LABELS_SEEN.add(token.label()), "token " + token.label() + " was leased twice");
        LABEL_BY_CLASS.put(testClass, token.label());
    }

    @Override
    public void afterAll(ExtensionContext context) {
        Class<?> testClass = context.getRequiredTestClass();
        if (testClass.isMemberClass() && !Modifier.isStatic(testClass.getModifiers())) {
            return; // a @Nested class shares its enclosing class's token, which outlives it
        }
        String label = LABEL_BY_CLASS.get(testClass);
        assertNotNull(label, context.getRequiredTestClass() + " did not record its token");
        assertFalse(SoftHsmPool.jvmPool().slotsOnDisk().containsKey(label),
                "token " + label + " is still on disk after its class");
    }
}
