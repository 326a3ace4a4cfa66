package dev.bourne.agent.node;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bourne.core.bundle.SpiffeBundle;
import dev.bourne.core.spiffeid.TrustDomain;
import dev.bourne.testing.pki.TestCa;
import dev.bourne.testing.pki.TestKeys;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AgentStateStoreTest {
    private static final TrustDomain TD = TrustDomain.parse("example.org");

    @TempDir
    Path dir;
    private final TestCa ca = TestCa.root("example.org");

    @Test
    void disk_svidAndKeyRoundTrip_keyFileIs0600() throws Exception {
        AgentStateStore store = new AgentStateStore(dir, Optional.of(dir));
        AgentSvid saved = TestAgentSvids.issue(ca);
        store.saveSvid(saved);

        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(
                dir.resolve(AgentStateStore.KEY_FILE))));
        AgentSvid loaded = new AgentStateStore(dir, Optional.of(dir)).loadSvid().orElseThrow();
        assertEquals(saved.chain(), loaded.chain());
        assertArrayEquals(saved.pkcs8().pkcs8(), loaded.pkcs8().pkcs8());
        assertEquals(saved.spiffeId(), loaded.spiffeId());
    }

    @Test
    void disk_keyFileOpenedUp_isIgnored() throws Exception {
        AgentStateStore store = new AgentStateStore(dir, Optional.of(dir));
        store.saveSvid(TestAgentSvids.issue(ca));
        Files.setPosixFilePermissions(dir.resolve(AgentStateStore.KEY_FILE),
                PosixFilePermissions.fromString("rw-r--r--"));
        assertTrue(store.loadSvid().isEmpty());
    }

    @Test
    void disk_corruptFiles_ignored() throws Exception {
        AgentStateStore store = new AgentStateStore(dir, Optional.of(dir));
        store.saveSvid(TestAgentSvids.issue(ca));
        Files.writeString(dir.resolve(AgentStateStore.SVID_FILE), "garbage");
        assertTrue(store.loadSvid().isEmpty());
    }

    @Test
    void memory_neverWritesTheKey_andRemovesOneLeftBehind() throws Exception {
        new AgentStateStore(dir, Optional.of(dir)).saveSvid(TestAgentSvids.issue(ca));
        AgentStateStore memory = new AgentStateStore(dir, Optional.empty());
        assertFalse(Files.exists(dir.resolve(AgentStateStore.KEY_FILE)));
        memory.saveSvid(TestAgentSvids.issue(ca));
        assertFalse(Files.exists(dir.resolve(AgentStateStore.KEY_FILE)));
        assertTrue(memory.loadSvid().isEmpty());
    }

    @Test
    void bundle_roundTripsAsSpiffeJson() throws Exception {
        AgentStateStore store = new AgentStateStore(dir, Optional.empty());
        SpiffeBundle bundle = SpiffeBundle.of(TD, List.of(ca.certificate()), Map.of("k1", TestKeys.ecP256(2)
                .getPublic()));
        store.saveBundle(bundle);
        SpiffeBundle loaded = store.loadBundle(TD).orElseThrow();
        assertEquals(bundle.x509Authorities(), loaded.x509Authorities());
        assertEquals(bundle.jwtAuthorities(), loaded.jwtAuthorities());
    }

    @Test
    void bundle_corrupt_ignored() throws Exception {
        AgentStateStore store = new AgentStateStore(dir, Optional.empty());
        Files.writeString(dir.resolve(AgentStateStore.BUNDLE_FILE), "{not json");
        assertTrue(store.loadBundle(TD).isEmpty());
    }

    @Test
    void dataDir_createdPrivate() throws Exception {
        Path data = dir.resolve("new/data");
        new AgentStateStore(data, Optional.empty());
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(data)));
    }
}
