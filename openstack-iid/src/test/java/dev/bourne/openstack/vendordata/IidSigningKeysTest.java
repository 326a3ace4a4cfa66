package dev.bourne.openstack.vendordata;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.JWK;
import dev.bourne.core.keymanager.HsmUnavailableException;
import dev.bourne.core.keymanager.KeyManager;
import dev.bourne.core.keymanager.KeyManagerException;
import dev.bourne.core.keymanager.KeyManagerStatus;
import dev.bourne.core.keymanager.KeyType;
import dev.bourne.core.keymanager.ManagedKey;
import dev.bourne.keymanager.disk.DiskKeyManager;
import dev.bourne.testing.time.MutableClock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The two-slot key schedule and its journal, on the disk KeyManager (real key files, so restarts and lost keys are
 * real): first start, resuming, keys lost or replaced behind the service's back, a long outage, a failing HSM.
 */
class IidSigningKeysTest {
    private static final Duration LIFETIME = Duration.ofHours(24);
    private static final Duration TTL = Duration.ofMinutes(5);
    private static final Instant START = Instant.parse("2026-03-01T10:00:00Z");

    @TempDir
    Path dataDir;

    private final MutableClock clock = new MutableClock(START);
    private Path keysDir;

    @BeforeEach
    void setUp() {
        keysDir = dataDir.resolve("keys");
    }

    private DiskKeyManager keyManager() throws KeyManagerException {
        return DiskKeyManager.open(keysDir, new SecureRandom());
    }

    private IidSigningKeys open(KeyManager keyManager, KeyType type) throws SigningKeysException {
        return IidSigningKeys.open(keyManager, dataDir, type, LIFETIME, TTL, clock);
    }

    private static List<String> kids(IidSigningKeys keys) throws Exception {
        return keys.publicKeys().getKeys().stream().map(JWK::getKeyID).toList();
    }

    @Test
    void firstStart_generatesSlotA_journal0600() throws Exception {
        IidSigningKeys keys = open(keyManager(), KeyType.EC_P256);
        assertTrue(keys.state().isEmpty(), "nothing is loaded before the first call");

        SigningKey active = keys.activeKey();

        assertEquals(KeySlot.A, active.slot());
        assertEquals(JWSAlgorithm.ES256, active.jwsAlgorithm());
        assertEquals(new SigningKeyState(KeySlot.A, active.kid(), START, SigningKeyState.Standby.empty()),
                keys.state().orElseThrow());
        assertEquals(List.of(active.kid()), kids(keys));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(keys.journalFile())));
        assertEquals(keys.state().orElseThrow(), SigningKeyJournal.decode(Files.readAllBytes(keys.journalFile())));
    }

    @Test
    void algorithms_perKeyType() throws Exception {
        assertEquals(JWSAlgorithm.ES384, open(keyManager(), KeyType.EC_P384).activeKey().jwsAlgorithm());
        Files.delete(dataDir.resolve(SigningKeyJournal.FILE_NAME));
        assertEquals(JWSAlgorithm.RS256, open(keyManager(), KeyType.RSA_2048).activeKey().jwsAlgorithm());
    }

    @Test
    void restart_activeKeyMissing_newKeyInItsSlot_journalUpdated() throws Exception {
        String lost = open(keyManager(), KeyType.EC_P256).activeKey().kid();
        Files.delete(keysDir.resolve(KeySlot.A.keyId() + DiskKeyManager.SUFFIX));
        clock.advance(Duration.ofHours(1));

        IidSigningKeys keys = open(keyManager(), KeyType.EC_P256);
        SigningKey active = keys.activeKey();

        assertEquals(KeySlot.A, active.slot());
        assertNotEquals(lost, active.kid());
        assertEquals(START.plus(Duration.ofHours(1)), keys.state().orElseThrow().activeSince(),
                "a new key's lifetime starts now");
        assertEquals(keys.state().orElseThrow(), SigningKeyJournal.decode(Files.readAllBytes(keys.journalFile())));
    }

    @Test
    void restart_activeKeyReplaced_signsWithTheKeyHeld_journalUpdated() throws Exception {
        String recorded = open(keyManager(), KeyType.EC_P256).activeKey().kid();
        try (DiskKeyManager other = keyManager()) {
            other.generateKey(KeySlot.A.keyId(), KeyType.EC_P256);
        }

        IidSigningKeys keys = open(keyManager(), KeyType.EC_P256);

        assertNotEquals(recorded, keys.activeKey().kid());
        assertEquals(keys.activeKey().kid(), keys.state().orElseThrow().activeKid());
        assertEquals(START, keys.state().orElseThrow().activeSince(), "the schedule is kept");
    }

    @Test
    void restart_preparedKeyMissing_preparedAgain() throws Exception {
        IidSigningKeys first = open(keyManager(), KeyType.EC_P256);
        first.activeKey();
        clock.advance(LIFETIME.dividedBy(2));
        String prepared = kids(first).get(1);
        Files.delete(keysDir.resolve(KeySlot.B.keyId() + DiskKeyManager.SUFFIX));

        IidSigningKeys keys = open(keyManager(), KeyType.EC_P256);
        List<String> published = kids(keys);

        assertEquals(2, published.size());
        assertNotEquals(prepared, published.get(1), "a new next key, since the recorded one is gone");
        assertEquals(SigningKeyState.Phase.PREPARED, keys.state().orElseThrow().standby().phase());
    }

    @Test
    void restart_retiredKeyMissingOrReplaced_noLongerPublished() throws Exception {
        IidSigningKeys first = open(keyManager(), KeyType.EC_P256);
        String keyA = first.activeKey().kid();
        clock.advance(LIFETIME);
        first.rotateIfDue();
        assertEquals(SigningKeyState.Phase.RETIRED, first.state().orElseThrow().standby().phase());
        try (DiskKeyManager other = keyManager()) {
            other.generateKey(KeySlot.A.keyId(), KeyType.EC_P256);
        }

        IidSigningKeys keys = open(keyManager(), KeyType.EC_P256);

        assertEquals(1, kids(keys).size(), "another key under the retired key's name is not the retired key");
        assertTrue(!kids(keys).contains(keyA));
        assertEquals(SigningKeyState.Phase.EMPTY, keys.state().orElseThrow().standby().phase());
    }

    @Test
    void longOutage_catchesUpAtOnce_preparesAndActivates_previousKeyPublishedForTtlPlusGrace() throws Exception {
        String keyA = open(keyManager(), KeyType.EC_P256).activeKey().kid();
        clock.advance(LIFETIME.multipliedBy(3));
        Instant now = clock.instant();

        IidSigningKeys keys = open(keyManager(), KeyType.EC_P256);
        SigningKey active = keys.activeKey();

        assertEquals(KeySlot.B, active.slot());
        SigningKeyState state = keys.state().orElseThrow();
        assertEquals(now, state.activeSince());
        assertEquals(SigningKeyState.Standby.retired(keyA, now, now.plus(TTL).plus(IidSigningKeys.RETIREMENT_GRACE)),
                state.standby());
        assertEquals(List.of(active.kid(), keyA), kids(keys));
    }

    @Test
    void keyTypeChanged_activeKeySignsOn_nextKeyHasTheNewType() throws Exception {
        open(keyManager(), KeyType.EC_P256).activeKey();

        IidSigningKeys keys = open(keyManager(), KeyType.EC_P384);
        assertEquals(KeyType.EC_P256, keys.activeKey().type());
        clock.advance(LIFETIME);

        assertEquals(KeyType.EC_P384, keys.activeKey().type());
        assertEquals(JWSAlgorithm.ES384, keys.activeKey().jwsAlgorithm());
    }

    @Test
    void rotationFails_currentKeySignsOn_retriedOnTheNextCall() throws Exception {
        FlakyKeyManager flaky = new FlakyKeyManager(keyManager());
        IidSigningKeys keys = open(flaky, KeyType.EC_P256);
        String keyA = keys.activeKey().kid();
        flaky.failing = true;
        clock.advance(LIFETIME.dividedBy(2));

        assertEquals(keyA, keys.activeKey().kid(), "signing goes on with the current key");
        assertEquals(List.of(keyA), kids(keys), "nothing prepared while the HSM fails");
        assertThrows(HsmUnavailableException.class, keys::rotateIfDue);

        flaky.failing = false;
        assertEquals(2, kids(keys).size(), "prepared on the next call");
    }

    @Test
    void hsmDownAtFirstCall_failsThenLoadsWhenItIsBack() throws Exception {
        FlakyKeyManager flaky = new FlakyKeyManager(keyManager());
        flaky.failing = true;
        IidSigningKeys keys = open(flaky, KeyType.EC_P256);

        assertThrows(HsmUnavailableException.class, keys::activeKey);
        assertTrue(!keys.loaded());

        flaky.failing = false;
        assertEquals(KeySlot.A, keys.activeKey().slot());
    }

    @Test
    void damagedJournal_openRefuses_fileLeftUntouched() throws Exception {
        Path journal = dataDir.resolve(SigningKeyJournal.FILE_NAME);
        Files.writeString(journal, "{\"version\": 1, \"active\": ");

        SigningKeysException e = assertThrows(SigningKeysException.class, () -> open(keyManager(), KeyType.EC_P256));

        assertEquals(String.format(SigningKeyJournal.DAMAGED, journal, "not a JSON object"), e.getMessage());
        assertEquals("{\"version\": 1, \"active\": ", Files.readString(journal));
    }

    @Test
    void open_lifetimeTooShortForTheDocumentTtl_refused() {
        assertThrows(IllegalArgumentException.class, () -> IidSigningKeys.open(keyManager(), dataDir,
                KeyType.EC_P256, Duration.ofMinutes(12), Duration.ofMinutes(5), clock));
    }

    /** A KeyManager whose key generation and lookups fail while {@link #failing}, as an unreachable HSM's do. */
    private static final class FlakyKeyManager implements KeyManager {
        private final KeyManager delegate;
        volatile boolean failing;

        FlakyKeyManager(KeyManager delegate) {
            this.delegate = delegate;
        }

        private void check() throws HsmUnavailableException {
            if (failing) {
                throw new HsmUnavailableException("the HSM is unreachable (test)");
            }
        }

        @Override
        public String name() {
            return delegate.name();
        }

        @Override
        public ManagedKey generateKey(String id, KeyType type) throws KeyManagerException {
            check();
            return delegate.generateKey(id, type);
        }

        @Override
        public Optional<ManagedKey> getKey(String id) throws KeyManagerException {
            check();
            return delegate.getKey(id);
        }

        @Override
        public List<ManagedKey> getKeys() throws KeyManagerException {
            check();
            return delegate.getKeys();
        }

        @Override
        public KeyManagerStatus status() {
            return failing ? new KeyManagerStatus(KeyManagerStatus.State.UNAVAILABLE, "test") : delegate.status();
        }

        @Override
        public void close() {
            delegate.close();
        }
    }
}
