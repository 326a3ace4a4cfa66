package dev.bourne.testing.hsm;

import org.junit.jupiter.api.extension.ExtendWith;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a test class that runs against its own SoftHSM2 token; declare a {@link SoftHsmToken} parameter to get it.
 * See {@link SoftHsmExtension}.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Documented
@ExtendWith(SoftHsmExtension.class)
public @interface WithSoftHsm {
}
