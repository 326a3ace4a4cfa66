package dev.bourne.testing.hsm;

import dev.bourne.testing.internal.PerClassResourceExtension;

/**
 * JUnit extension giving each test class its own SoftHSM2 token, leased from the JVM's {@link SoftHsmPool} and deleted
 * after the class. It injects the {@link SoftHsmToken} into constructors, {@code @BeforeAll}, {@code @BeforeEach} and
 * test methods.
 *
 * <p>Use {@link WithSoftHsm} or {@code @ExtendWith(SoftHsmExtension.class)}. A {@code @Nested} class shares its
 * enclosing class's token. A fresh token per class means a class sees only the keys it generated, without cleanup
 * between classes.
 */
public final class SoftHsmExtension extends PerClassResourceExtension<SoftHsmToken> {

    /** Used by JUnit through the meta-annotation or {@code @ExtendWith}. */
    public SoftHsmExtension() {
        super(SoftHsmToken.class);
    }

    @Override
    protected SoftHsmToken open() {
        return SoftHsmPool.jvmPool().lease();
    }

    @Override
    protected void close(SoftHsmToken resource) {
        SoftHsmPool.jvmPool().release(resource);
    }
}
