package dev.bourne.agent.workloadattestor.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ProcCgroupTest {

    static String sample(String name) throws IOException {
        try (InputStream in = ProcCgroupTest.class.getResourceAsStream("/proc/cgroup/" + name)) {
            if (in == null) {
                throw new IOException("no sample " + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @ParameterizedTest
    @CsvSource({
            "v2-service, nginx.service",
            "v2-session-scope, session-3.scope",
            "v2-user-manager-nested, user@1000.service",
            "v2-delegated, containerd.service",
            "v2-template-instance, getty@tty1.service",
            "v2-init-scope, init.scope",
            "v2-colons, a:b.service",
            "v1-service, sshd.service",
            "hybrid-service, postgresql@15-main.service"})
    void systemdUnit_recordedFormats_firstUnitLevel(String sample, String unit) throws IOException {
        assertEquals(Optional.of(unit), ProcCgroup.systemdUnit(sample(sample)));
    }

    @ParameterizedTest
    @CsvSource({"v2-root", "v2-slice-only", "v1-container-no-systemd", "v2-bad-unit-chars"})
    void systemdUnit_noUnit_empty(String sample) throws IOException {
        assertEquals(Optional.empty(), ProcCgroup.systemdUnit(sample(sample)));
    }

    @Test
    void systemdUnit_userUnitNamedLikeSystemService_notTrusted() throws IOException {
        // A user can create ~/.config/systemd/user/nginx.service; only the system manager's level counts.
        assertEquals(Optional.of("user@1000.service"), ProcCgroup.systemdUnit(sample("v2-user-manager-nested")));
    }

    @Test
    void systemdUnit_noSystemdHierarchy_rejected() throws IOException {
        String content = sample("no-systemd-hierarchy");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ProcCgroup.systemdUnit(content));
        assertEquals(ProcCgroup.NO_SYSTEMD_HIERARCHY, e.getMessage());
    }

    @Test
    void systemdUnit_garbage_rejected() {
        assertThrows(IllegalArgumentException.class, () -> ProcCgroup.systemdUnit("\u0000\u0001garbage"));
        assertThrows(IllegalArgumentException.class, () -> ProcCgroup.systemdUnit(""));
    }

    @ParameterizedTest
    @CsvSource({"foo.service, true", "getty@tty1.service, true", "a\\x2db.service, true", ".hidden.service, false",
            "'', false", "sp ace.service, false", "sl/ash.service, false"})
    void isUnitName_characters(String name, boolean valid) {
        assertEquals(valid, ProcCgroup.isUnitName(name));
    }

    @Test
    void isUnitName_tooLong_rejected() {
        assertEquals(false, ProcCgroup.isUnitName("a".repeat(ProcCgroup.MAX_UNIT_NAME - 7) + ".service"));
        assertEquals(true, ProcCgroup.isUnitName("a".repeat(ProcCgroup.MAX_UNIT_NAME - 8) + ".service"));
    }
}
