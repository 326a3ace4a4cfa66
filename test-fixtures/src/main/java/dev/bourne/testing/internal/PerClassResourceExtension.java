package dev.bourne.testing.internal;

import java.util.Objects;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * The shape every fixture extension shares: one resource per test class, opened before the class (or when a
 * {@code PER_CLASS} constructor asks for it first), injected as a parameter, closed after the class. A {@code @Nested}
 * class shares its enclosing class's resource: the store lookup searches enclosing contexts.
 *
 * @param <T> the resource type injected into tests
 */
public abstract class PerClassResourceExtension<T> implements BeforeAllCallback, AfterAllCallback, ParameterResolver {
    private static final String KEY = "resource";

    private final Class<T> type;
    private final ExtensionContext.Namespace namespace;

    protected PerClassResourceExtension(Class<T> type) {
        this.type = Objects.requireNonNull(type, "type");
        this.namespace = ExtensionContext.Namespace.create(getClass());
    }

    /** Opens a fresh resource for one test class. */
    protected abstract T open();

    /** Releases what {@link #open()} returned. */
    protected abstract void close(T resource);

    @Override
    public final void beforeAll(ExtensionContext context) {
        resourceFor(context);
    }

    @Override
    public final void afterAll(ExtensionContext context) {
        // remove() only looks at this class's own store: an enclosing class's resource stays until that class ends.
        T resource = context.getStore(namespace).remove(KEY, type);
        if (resource != null) {
            close(resource);
        }
    }

    @Override
    public final boolean supportsParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        return parameterContext.getParameter().getType() == type;
    }

    @Override
    public final Object resolveParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        return resourceFor(extensionContext);
    }

    private T resourceFor(ExtensionContext context) {
        T existing = context.getStore(namespace).get(KEY, type);
        if (existing != null) {
            return existing;
        }
        ExtensionContext classContext = context;
        while (classContext.getTestMethod().isPresent() && classContext.getParent().isPresent()) {
            classContext = classContext.getParent().get();
        }
        T resource = open();
        classContext.getStore(namespace).put(KEY, resource);
        return resource;
    }
}
