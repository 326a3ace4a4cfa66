package dev.bourne.core.selector;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class SelectorTest {

    static Stream<Arguments> invalid() {
        return Stream.of(
                Arguments.of("", Selector.EMPTY),
                Arguments.of("unix", Selector.MISSING_SEPARATOR),
                Arguments.of(":1000", Selector.EMPTY_TYPE),
                Arguments.of("unix:", Selector.EMPTY_VALUE),
                Arguments.of("Unix:uid:0", Selector.TYPE_BAD_CHAR),
                Arguments.of("unix-x:uid:0", Selector.TYPE_BAD_CHAR),
                Arguments.of("t".repeat(65) + ":v", Selector.TYPE_TOO_LONG),
                Arguments.of("unix:" + "v".repeat(Selector.MAX_VALUE_LENGTH + 1), Selector.VALUE_TOO_LONG),
                Arguments.of("unix:uid:0\nunix:uid:1000", Selector.VALUE_CONTROL_CHAR),
                Arguments.of("unix:uid:\u001b[31m", Selector.VALUE_CONTROL_CHAR));
    }

    @ParameterizedTest(name = "[{index}] {1}")
    @MethodSource("invalid")
    void parse_invalid_rejectedWithReason(String input, String reason) {
        InvalidSelectorException e = assertThrows(InvalidSelectorException.class, () -> Selector.parse(input));
        assertEquals(reason, e.reason());
        assertTrue(e.getMessage().endsWith(": " + reason));
    }

    @Test
    void parse_splitsAtFirstColon() {
        Selector s = Selector.parse("tpm:label:rack:r12");
        assertEquals("tpm", s.type());
        assertEquals("label:rack:r12", s.value());
        assertEquals("tpm:label:rack:r12", s.toString());
    }

    @Test
    void stamped_usesPluginNameAsType() {
        assertEquals(new Selector("openstack_iid", "project_id:p1"),
                Selector.stamped("openstack_iid", "project_id:p1"));
    }

    @Test
    void compareTo_ordersByTypeThenValue() {
        assertTrue(Selector.parse("a:z").compareTo(Selector.parse("b:a")) < 0);
        assertTrue(Selector.parse("unix:uid:1").compareTo(Selector.parse("unix:uid:2")) < 0);
        assertEquals(0, Selector.parse("unix:uid:1").compareTo(new Selector("unix", "uid:1")));
    }
}
