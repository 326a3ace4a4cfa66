package dev.bourne.testing.tpm;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * JUnit extension behind {@link WithSwtpm}: one {@link Swtpm} per test class, started in {@code beforeAll}, closed in
 * {@code afterAll}, injected as a parameter. The instance lives in the class's extension store, so a class-level
 * parameter resolved before {@code beforeAll} (a {@code PER_CLASS} constructor) starts the same instance.
 */
public final class SwtpmExtension implements BeforeAllCallback, AfterAllCallback, ParameterResolver {

    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(SwtpmExtension.class);

    /** Used by JUnit through {@link WithSwtpm} or {@code @ExtendWith}. */
    public SwtpmExtension() {
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        swtpmFor(context);
    }

    @Override
    public void afterAll(ExtensionContext context) {
        Swtpm swtpm = context.getStore(NAMESPACE).remove(key(context), Swtpm.class);
        if (swtpm != null) {
            swtpm.close();
        }
    }

    @Override
    public boolean supportsParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        return parameterContext.getParameter().getType() == Swtpm.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        return swtpmFor(extensionContext);
    }

    /** The class-level instance, started on first request; method contexts reach it through their class context. */
    private static Swtpm swtpmFor(ExtensionContext context) {
        ExtensionContext classContext = classContext(context);
        return classContext.getStore(NAMESPACE)
                .computeIfAbsent(key(classContext), k -> Swtpm.start(), Swtpm.class);
    }

    private static ExtensionContext classContext(ExtensionContext context) {
        ExtensionContext current = context;
        while (current.getTestMethod().isPresent() && current.getParent().isPresent()) {
            current = current.getParent().get();
        }
        return current;
    }

    private static Class<?> key(ExtensionContext context) {
        return context.getRequiredTestClass();
    }
}
