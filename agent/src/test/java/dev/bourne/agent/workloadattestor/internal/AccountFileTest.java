package dev.bourne.agent.workloadattestor.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class AccountFileTest {

    @Test
    void passwd_ordinaryLines_mapUidToName() {
        AccountFile users = AccountFile.passwd("""
                root:x:0:0:root:/root:/bin/bash
                daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
                nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
                """);
        assertEquals(Optional.of("root"), users.name(0));
        assertEquals(Optional.of("daemon"), users.name(1));
        assertEquals(Optional.of("nobody"), users.name(65534));
        assertEquals(Optional.empty(), users.name(1000));
        assertEquals(3, users.size());
    }

    @Test
    void passwd_duplicateUid_firstLineWinsLikeGetpwuid() {
        AccountFile users = AccountFile.passwd("toor:x:0:0::/root:/bin/sh\nroot:x:0:0::/root:/bin/bash\n");
        assertEquals(Optional.of("toor"), users.name(0));
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "# alice:x:1000:1000::/home/alice:/bin/sh",
            "+alice:x:1000:1000::/home/alice:/bin/sh",
            "-alice:x:1000:1000::/home/alice:/bin/sh",
            "alice:x:1000:1000::/home/alice",
            "alice:x:1000:1000::/home/alice:/bin/sh:extra",
            ":x:1000:1000::/home/alice:/bin/sh",
            "alice:x::1000::/home/alice:/bin/sh",
            "alice:x:-1000:1000::/home/alice:/bin/sh",
            "alice:x:+1000:1000::/home/alice:/bin/sh",
            "alice:x:1e3:1000::/home/alice:/bin/sh",
            "alice:x:4294967295:1000::/home/alice:/bin/sh",
            "alice:x:99999999999:1000::/home/alice:/bin/sh",
            "al ice:x:1000:1000::/home/alice:/bin/sh",
            "al\u001bice:x:1000:1000::/home/alice:/bin/sh"})
    void passwd_brokenLine_skippedWithoutHidingOthers(String broken) {
        AccountFile users = AccountFile.passwd("root:x:0:0::/root:/bin/sh\n" + broken + "\nbob:x:1001:1001::/:/bin/sh");
        assertEquals(Optional.empty(), users.name(1000));
        assertEquals(Optional.empty(), users.name(4294967295L));
        assertEquals(Optional.of("root"), users.name(0));
        assertEquals(Optional.of("bob"), users.name(1001));
    }

    @Test
    void passwd_overlongLine_skipped() {
        String longGecos = "g".repeat(AccountFile.MAX_LINE_CHARS);
        AccountFile users = AccountFile.passwd("alice:x:1000:1000:" + longGecos + ":/home/alice:/bin/sh\n"
                + "bob:x:1001:1001::/:/bin/sh");
        assertEquals(Optional.empty(), users.name(1000));
        assertEquals(Optional.of("bob"), users.name(1001));
    }

    @Test
    void passwd_largestId_accepted() {
        assertEquals(Optional.of("max"), AccountFile.passwd("max:x:4294967294:0::/:/bin/sh").name(4294967294L));
    }

    @Test
    void passwd_oversizedFile_rejected() {
        String huge = "x".repeat(AccountFile.MAX_FILE_BYTES + 1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AccountFile.passwd(huge));
        assertEquals("account file is larger than " + AccountFile.MAX_FILE_BYTES + " bytes", e.getMessage());
    }

    @Test
    void passwd_emptyAndBlank_noNames() {
        assertEquals(0, AccountFile.passwd("").size());
        assertEquals(0, AccountFile.passwd("\n\n\n").size());
    }

    @Test
    void group_fourFields_mapGidToName() {
        AccountFile groups = AccountFile.group("root:x:0:\nadm:x:4:syslog,alice\nusers:x:100:\nbad:x:5\n");
        assertEquals(Optional.of("root"), groups.name(0));
        assertEquals(Optional.of("adm"), groups.name(4));
        assertEquals(Optional.of("users"), groups.name(100));
        assertEquals(Optional.empty(), groups.name(5));
    }

    @Test
    void passwd_thisMachine_rootIsUidZero() throws Exception {
        AccountFile users = AccountFile.passwd(Files.readString(Path.of("/etc/passwd")));
        assertEquals(Optional.of("root"), users.name(0));
    }
}
