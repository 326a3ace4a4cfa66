package dev.bourne.agent.node;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bourne.testing.pki.TestCa;
import dev.bourne.testing.tpm.Swtpm;
import dev.bourne.testing.tpm.WithSwtpm;
import dev.bourne.tpm.agent.AgentTpm;
import dev.bourne.tpm.agent.AkType;
import dev.bourne.tpm.agent.TpmAgentSettings;
import dev.bourne.tpm.common.TpmHashAlg;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tss.tpm.TPMT_HA;
import tss.tpm.TPM_ALG_ID;
import tss.tpm.TPM_HANDLE;

/**
 * The agent key sealed to a real TPM (swtpm, PCR 16, resettable at locality 0) through {@link AgentStateStore}, without a
 * server: saved, unsealed by a new store instance, broken by a PCR extension, altered, moved beside another SVID, and
 * with the TPM unreachable. No plaintext key ever lands in data_dir.
 */
@WithSwtpm
class SealedAgentStateStoreTest {

    @TempDir
    Path dir;
    private final TestCa ca = TestCa.root("example.org");
    private Swtpm swtpm;
    private NodeTpm tpm;

    @BeforeEach
    void resetPcr16(Swtpm swtpm) {
        this.swtpm = swtpm;
        swtpm.tpm().PCR_Reset(TPM_HANDLE.pcr(16));
        swtpm.disconnect();
        tpm = new NodeTpm(sealTo16("tcp://127.0.0.1:" + swtpm.dataPort()));
    }

    @AfterEach
    void closeTpm() {
        tpm.close();
    }

    private static TpmAgentSettings sealTo16(String device) {
        return new TpmAgentSettings(device, TpmAgentSettings.DEFAULT_AK_HANDLE, AkType.ECC_P256,
                TpmAgentSettings.DEFAULT_EVENT_LOG, List.of(16), TpmHashAlg.SHA256);
    }

    private AgentStateStore store(NodeTpm sealer) throws IOException {
        return new AgentStateStore(dir, Optional.of(dir), Optional.of(sealer), new SecureRandom());
    }

    /** The agent's TPM connection released, so the fixture's own connection is served. */
    private void extendPcr16() {
        tpm.release();
        swtpm.tpm().PCR_Extend(TPM_HANDLE.pcr(16), new TPMT_HA[] {new TPMT_HA(TPM_ALG_ID.SHA256, new byte[32])});
        swtpm.disconnect();
    }

    /** Every file under data_dir: none may hold the key in any form. */
    private void assertNoPlaintextKey(AgentSvid svid) throws IOException {
        byte[] pkcs8 = svid.pkcs8().pkcs8();
        String base64 = Base64.getEncoder().encodeToString(pkcs8).substring(0, 40);
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                assertFalse(file.getFileName().toString().equals(AgentStateStore.KEY_FILE), file.toString());
                byte[] content = Files.readAllBytes(file);
                String text = new String(content, StandardCharsets.ISO_8859_1);
                assertFalse(text.contains("PRIVATE KEY"), file + " holds a PEM private key");
                assertFalse(text.contains(base64), file + " holds the key in base64");
                assertFalse(text.contains(new String(pkcs8, StandardCharsets.ISO_8859_1)),
                        file + " holds the PKCS#8 key");
            }
        }
    }

    private static String mode(Path file) throws IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(file));
    }

    @Test
    void save_thenANewStoreUnseals_theSameSvidAndKey_noPlaintextKey_sealedFile0600() throws Exception {
        AgentSvid saved = TestAgentSvids.issue(ca);
        // Why the key is not sealed directly: its PKCS#8 is larger than a sealed object holds.
        assertTrue(saved.pkcs8().pkcs8().length > AgentTpm.MAX_SEALED_SECRET, "PKCS#8 of "
                + saved.pkcs8().pkcs8().length + " bytes");
        store(tpm).saveSvid(saved);
        tpm.release();

        assertTrue(Files.exists(dir.resolve(AgentStateStore.SEALED_KEY_FILE)));
        assertEquals("rw-------", mode(dir.resolve(AgentStateStore.SEALED_KEY_FILE)));
        assertEquals("rw-r--r--", mode(dir.resolve(AgentStateStore.SVID_FILE)));
        assertEquals("rwx------", mode(dir));
        assertNoPlaintextKey(saved);

        try (NodeTpm restarted = new NodeTpm(sealTo16("tcp://127.0.0.1:" + swtpm.dataPort()))) {
            AgentSvid loaded = store(restarted).loadSvid().orElseThrow();
            assertEquals(saved.chain(), loaded.chain());
            assertArrayEquals(saved.pkcs8().pkcs8(), loaded.pkcs8().pkcs8());
            assertTrue(loaded.keyMatchesLeaf());
        }
    }

    @Test
    void pcr16Extended_loadDiscardsTheSealedKeyAndSvid_andNothingIsLeft() throws Exception {
        AgentSvid saved = TestAgentSvids.issue(ca);
        store(tpm).saveSvid(saved);
        extendPcr16();

        AgentStateStore restarted = store(tpm);
        assertEquals(Optional.empty(), restarted.loadSvid());
        assertFalse(Files.exists(dir.resolve(AgentStateStore.SEALED_KEY_FILE)));
        assertFalse(Files.exists(dir.resolve(AgentStateStore.SVID_FILE)));
        assertNoPlaintextKey(saved);

        // The agent attests again and saves its new SVID sealed to the new PCR value: that one loads.
        AgentSvid next = TestAgentSvids.issue(ca);
        restarted.saveSvid(next);
        assertEquals(next.chain(), store(tpm).loadSvid().orElseThrow().chain());
    }

    @Test
    void ciphertextAltered_discarded() throws Exception {
        store(tpm).saveSvid(TestAgentSvids.issue(ca));
        Path sealed = dir.resolve(AgentStateStore.SEALED_KEY_FILE);
        byte[] file = Files.readAllBytes(sealed);
        file[file.length - 1] ^= 1;
        Files.write(sealed, file);

        assertEquals(Optional.empty(), store(tpm).loadSvid());
        assertFalse(Files.exists(sealed));
    }

    @Test
    void sealedKeyBesideAnotherSvid_doesNotDecrypt_discarded() throws Exception {
        AgentStateStore store = store(tpm);
        store.saveSvid(TestAgentSvids.issue(ca));
        byte[] sealedFirst = Files.readAllBytes(dir.resolve(AgentStateStore.SEALED_KEY_FILE));
        store.saveSvid(TestAgentSvids.issue(ca));
        Files.write(dir.resolve(AgentStateStore.SEALED_KEY_FILE), sealedFirst);

        assertEquals(Optional.empty(), store(tpm).loadSvid());
        assertFalse(Files.exists(dir.resolve(AgentStateStore.SVID_FILE)));
    }

    @Test
    void sealedBlobAltered_theTpmRefusesToLoadIt_discardedNotRetried() throws Exception {
        store(tpm).saveSvid(TestAgentSvids.issue(ca));
        Path sealed = dir.resolve(AgentStateStore.SEALED_KEY_FILE);
        byte[] file = Files.readAllBytes(sealed);
        int blobSize = ((file[6] & 0xff) << 8) | (file[7] & 0xff);
        file[8 + blobSize - 1] ^= 1; // the last byte of the TPM2B_PRIVATE: its integrity fails in TPM2_Load
        Files.write(sealed, file);

        assertEquals(Optional.empty(), store(tpm).loadSvid());
        assertFalse(Files.exists(sealed));
    }

    @Test
    void tpmUnreachable_loadThrowsForARetry_andKeepsTheFiles() throws Exception {
        store(tpm).saveSvid(TestAgentSvids.issue(ca));
        tpm.release();
        try (NodeTpm gone = new NodeTpm(sealTo16("tcp://127.0.0.1:" + closedPort()))) {
            SealedKeyUnavailableException e = assertThrows(SealedKeyUnavailableException.class,
                    () -> store(gone).loadSvid());
            assertTrue(e.getMessage().startsWith(SealedKeyUnavailableException.UNSEAL_FAILED), e.getMessage());
            assertTrue(e.getMessage().contains("cannot connect"), e.getMessage());
        }
        assertTrue(Files.exists(dir.resolve(AgentStateStore.SEALED_KEY_FILE)));
        assertTrue(Files.exists(dir.resolve(AgentStateStore.SVID_FILE)));
        assertTrue(store(tpm).loadSvid().isPresent(), "the TPM is back: the key unseals");
    }

    @Test
    void tpmUnreachableOnSave_noKeyFileAtAll() throws Exception {
        AgentSvid svid = TestAgentSvids.issue(ca);
        try (NodeTpm gone = new NodeTpm(sealTo16("tcp://127.0.0.1:" + closedPort()))) {
            IOException e = assertThrows(IOException.class, () -> store(gone).saveSvid(svid));
            assertTrue(e.getMessage().startsWith("cannot seal the agent key to the TPM: "), e.getMessage());
        }
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(), files.toList());
        }
    }

    @Test
    void plaintextKeyLeftByAJoinTokenRun_deletedWhenTheStoreSeals() throws Exception {
        AgentSvid plain = TestAgentSvids.issue(ca);
        new AgentStateStore(dir, Optional.of(dir)).saveSvid(plain);
        assertTrue(Files.exists(dir.resolve(AgentStateStore.KEY_FILE)));

        AgentStateStore sealed = store(tpm);
        assertFalse(Files.exists(dir.resolve(AgentStateStore.KEY_FILE)));
        assertEquals(Optional.empty(), sealed.loadSvid(), "no sealed key yet: attest again");
        assertNoPlaintextKey(plain);
    }

    @Test
    void switchToMemory_deletesTheSealedKey() throws Exception {
        store(tpm).saveSvid(TestAgentSvids.issue(ca));
        new AgentStateStore(dir, Optional.empty(), Optional.of(tpm), new SecureRandom());
        assertFalse(Files.exists(dir.resolve(AgentStateStore.SEALED_KEY_FILE)));
        assertFalse(Files.exists(dir.resolve(AgentStateStore.SVID_FILE)));
    }

    @Test
    void sealedFileOpenedUp_ignored() throws Exception {
        store(tpm).saveSvid(TestAgentSvids.issue(ca));
        Files.setPosixFilePermissions(dir.resolve(AgentStateStore.SEALED_KEY_FILE),
                PosixFilePermissions.fromString("rw-r--r--"));
        assertEquals(Optional.empty(), store(tpm).loadSvid());
    }

    static int closedPort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}
