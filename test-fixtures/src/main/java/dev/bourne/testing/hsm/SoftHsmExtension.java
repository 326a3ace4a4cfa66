package dev.bourne.testing.hsm;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * JUnit extension giving each test class its own SoftHSM2 token, leased from the JVM's {@link SoftHsmPool} and deleted
 * after the class. It injects the {@link SoftHsmToken} into constructors, {@code @BeforeAll}, {@code @BeforeEach} and
 * test methods.
 *
 * <p>Use {@link WithSoftHsm} or {@code @ExtendWith(SoftHsmExtension.class)}. A {@code @Nested} class shares its
 * enclosing class's token. A fresh token per class means a class sees only the keys it generated, without cleanup
 * between classes.
 */
public final class SoftHsmExtension implements BeforeAllCallback, AfterAllCallback, ParameterResolver {

    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(SoftHsmExtension.class);
    private static final String TOKEN = "token";

    @Override
    public void beforeAll(ExtensionContext context) {
        tokenFor(context);
    }

    @Override
    public void afterAll(ExtensionContext context) {
        // remove() only looks at this class's own store: an enclosing class's token stays until that class ends.
        SoftHsmToken token = context.getStore(NAMESPACE).remove(TOKEN, SoftHsmToken.class);
        if (token != null) {
            SoftHsmPool.jvmPool().release(token);
        }
    }

    @Override
    public boolean supportsParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        return parameterContext.getParameter().getType() == SoftHsmToken.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        return tokenFor(extensionContext);
    }

    /**
     * The token visible from this context (get() also searches enclosing contexts), leasing one for the nearest class
     * when there is none yet: with {@code @TestInstance(PER_CLASS)} the constructor is resolved before beforeAll.
     */
    private static SoftHsmToken tokenFor(ExtensionContext context) {
        SoftHsmToken existing = context.getStore(NAMESPACE).get(TOKEN, SoftHsmToken.class);
        if (existing != null) {
            return existing;
        }
        ExtensionContext classContext = context;
        while (classContext.getTestMethod().isPresent() && classContext.getParent().isPresent()) {
            classContext = classContext.getParent().get();
        }
        SoftHsmToken token = SoftHsmPool.jvmPool().lease();
        classContext.getStore(NAMESPACE).put(TOKEN, token);
        return token;
    }
}
