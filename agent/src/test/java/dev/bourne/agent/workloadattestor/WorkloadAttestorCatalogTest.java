package dev.bourne.agent.workloadattestor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bourne.core.selector.Selector;
import dev.bourne.core.workloadattestor.WorkloadAttestationException;
import dev.bourne.core.workloadattestor.WorkloadAttestor;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class WorkloadAttestorCatalogTest {
    private static final ProcessStartTimes START_TIMES = new ProcessStartTimes(Path.of("/proc"));
    private static final int SELF = (int) ProcessHandle.current().pid();

    /** An attestor that reports fixed values, to see what the catalog does with them. */
    private record FakeWorkloadAttestor(String name, List<String> values) implements WorkloadAttestor {
        @Override
        public List<String> attest(int pid, int uid, int gid) {
            return values;
        }
    }

    @Test
    void attest_stampsEachValueWithItsAttestorsName() throws Exception {
        WorkloadAttestorCatalog catalog = new WorkloadAttestorCatalog(List.of(
                new FakeWorkloadAttestor("fake", List.of("unix:uid:0", "x")),
                new FakeWorkloadAttestor("other", List.of("y"))), START_TIMES);
        List<Selector> selectors = catalog.attest(START_TIMES.capture(SELF, 0, 0));
        // "unix:uid:0" from the fake stays the fake's: no plugin can forge another's selectors.
        assertEquals(List.of(new Selector("fake", "unix:uid:0"), new Selector("fake", "x"),
                new Selector("other", "y")), selectors);
    }

    @Test
    void attest_invalidValue_fails() {
        WorkloadAttestorCatalog catalog = new WorkloadAttestorCatalog(List.of(
                new FakeWorkloadAttestor("fake", List.of("evil\nline"))), START_TIMES);
        WorkloadAttestationException e = assertThrows(WorkloadAttestationException.class,
                () -> catalog.attest(START_TIMES.capture(SELF, 0, 0)));
        assertEquals("workload attestor fake produced an invalid selector: " + Selector.VALUE_CONTROL_CHAR,
                e.getMessage());
    }

    @Test
    void attest_startTimeChangedSinceAccept_rejectedAsPidReuse() {
        WorkloadAttestorCatalog catalog = new WorkloadAttestorCatalog(List.of(
                UnixWorkloadAttestor.system(UnixAttestorSettings.DEFAULTS)), START_TIMES);
        long real = START_TIMES.startTime(SELF).orElseThrow();
        WorkloadProcess recycled = new WorkloadProcess(SELF, 0, 0, OptionalLong.of(real - 1));
        WorkloadAttestationException e = assertThrows(WorkloadAttestationException.class,
                () -> catalog.attest(recycled));
        assertEquals(WorkloadAttestorCatalog.PID_REUSED, e.getMessage());
    }

    @Test
    void attest_sameStartTime_accepted() throws Exception {
        WorkloadAttestorCatalog catalog = new WorkloadAttestorCatalog(List.of(
                UnixWorkloadAttestor.system(UnixAttestorSettings.DEFAULTS)), START_TIMES);
        assertTrue(catalog.attest(START_TIMES.capture(SELF, 0, 0)).contains(new Selector("unix", "uid:0")));
    }

    @Test
    void attest_startTimeUnknownAtAccept_rejected() {
        WorkloadAttestorCatalog catalog = new WorkloadAttestorCatalog(List.of(
                new FakeWorkloadAttestor("fake", List.of("x"))), START_TIMES);
        WorkloadAttestationException e = assertThrows(WorkloadAttestationException.class,
                () -> catalog.attest(new WorkloadProcess(SELF, 0, 0, OptionalLong.empty())));
        assertEquals(WorkloadAttestorCatalog.PROCESS_GONE, e.getMessage());
    }

    @Test
    void attest_processExitedAfterAccept_rejected() throws Exception {
        Process child = new ProcessBuilder("sleep", "300").start();
        WorkloadProcess captured = START_TIMES.capture((int) child.pid(), 0, 0);
        assertTrue(captured.startTime().isPresent());
        child.destroyForcibly();
        assertTrue(child.waitFor(30, TimeUnit.SECONDS));
        WorkloadAttestorCatalog catalog = new WorkloadAttestorCatalog(List.of(
                new FakeWorkloadAttestor("fake", List.of("x"))), START_TIMES);
        WorkloadAttestationException e = assertThrows(WorkloadAttestationException.class,
                () -> catalog.attest(captured));
        assertEquals(WorkloadAttestorCatalog.PROCESS_GONE, e.getMessage());
    }

    @Test
    void construct_duplicateOrNoAttestors_rejected() {
        assertThrows(IllegalArgumentException.class, () -> new WorkloadAttestorCatalog(List.of(), START_TIMES));
        assertThrows(IllegalArgumentException.class, () -> new WorkloadAttestorCatalog(List.of(
                new FakeWorkloadAttestor("a", List.of()), new FakeWorkloadAttestor("a", List.of())), START_TIMES));
    }
}
