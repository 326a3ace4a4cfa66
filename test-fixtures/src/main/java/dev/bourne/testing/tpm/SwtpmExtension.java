package dev.bourne.testing.tpm;

import dev.bourne.testing.internal.PerClassResourceExtension;

/**
 * JUnit extension behind {@link WithSwtpm}: one {@link Swtpm} per test class (shared with its {@code @Nested}
 * classes), started in {@code beforeAll}, closed in
 * {@code afterAll}, injected as a parameter. The instance lives in the class's extension store, so a class-level
 * parameter resolved before {@code beforeAll} (a {@code PER_CLASS} constructor) starts the same instance.
 */
public final class SwtpmExtension extends PerClassResourceExtension<Swtpm> {

    /** Used by JUnit through the meta-annotation or {@code @ExtendWith}. */
    public SwtpmExtension() {
        super(Swtpm.class);
    }

    @Override
    protected Swtpm open() {
        return Swtpm.start();
    }

    @Override
    protected void close(Swtpm resource) {
        resource.close();
    }
}
