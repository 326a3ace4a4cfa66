package dev.bourne.testing.tpm;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Gives the annotated test class its own running {@link Swtpm}, started before the class's first test and shut down
 * cleanly after its last; test methods, lifecycle methods and constructors receive it as a {@code Swtpm} parameter.
 *
 * <pre>{@code
 * @WithSwtpm
 * class QuoteTest {
 *     @Test
 *     void quote_overPcr16_verifies(Swtpm swtpm) {
 *         Tpm tpm = swtpm.tpm();
 *         ...
 *     }
 * }
 * }</pre>
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Inherited
@ExtendWith(SwtpmExtension.class)
public @interface WithSwtpm {
}
