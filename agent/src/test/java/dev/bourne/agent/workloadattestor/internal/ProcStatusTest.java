package dev.bourne.agent.workloadattestor.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import java.util.stream.Stream;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ProcStatusTest {

    @Test
    void groups_tabSeparatedWithTrailingSpace_parsed() {
        String status = "Name:\tbash\nUid:\t1000\t1000\t1000\t1000\nGid:\t1000\t1000\t1000\t1000\n"
                + "FDSize:\t256\nGroups:\t4 24 27 1000 \nNStgid:\t1\n";
        assertEquals(List.of(4L, 24L, 27L, 1000L), ProcStatus.supplementaryGroups(status));
    }

    @Test
    void groups_emptyLine_noGroups() {
        assertEquals(List.of(), ProcStatus.supplementaryGroups("Name:\tx\nGroups:\t\nPid:\t1\n"));
    }

    @Test
    void groups_duplicates_keptOnce() {
        assertEquals(List.of(5L, 6L), ProcStatus.supplementaryGroups("Groups:\t5 6 5\n"));
    }

    static Stream<Arguments> malformed() {
        return Stream.of(
                Arguments.of("Name:\tx\nUid:\t0\n", ProcStatus.NO_GROUPS_LINE),
                Arguments.of("Groups:\t1 two 3\n", ProcStatus.BAD_GROUP),
                Arguments.of("Groups:\t-1\n", ProcStatus.BAD_GROUP),
                Arguments.of("Groups:\t4294967295\n", ProcStatus.BAD_GROUP));
    }

    @ParameterizedTest
    @MethodSource("malformed")
    void groups_malformed_rejected(String status, String reason) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ProcStatus.supplementaryGroups(status));
        assertEquals(reason, e.getMessage());
    }
}
