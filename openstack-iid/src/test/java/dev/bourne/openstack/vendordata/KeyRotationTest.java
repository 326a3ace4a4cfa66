package dev.bourne.openstack.vendordata;

import static dev.bourne.openstack.vendordata.VendordataTestSupport.AUDIENCE;
import static dev.bourne.openstack.vendordata.VendordataTestSupport.ISSUER;
import static dev.bourne.openstack.vendordata.VendordataTestSupport.TOKEN;
import static dev.bourne.openstack.vendordata.VendordataTestSupport.data;
import static dev.bourne.openstack.vendordata.VendordataTestSupport.get;
import static dev.bourne.openstack.vendordata.VendordataTestSupport.json;
import static dev.bourne.openstack.vendordata.VendordataTestSupport.novaBody;
import static dev.bourne.openstack.vendordata.VendordataTestSupport.post;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.nimbusds.jose.JWSObject;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import dev.bourne.core.keymanager.KeyManager;
import dev.bourne.core.keymanager.KeyType;
import dev.bourne.keymanager.KeyManagers;
import dev.bourne.openstack.common.IidClaims;
import dev.bourne.testing.hsm.SoftHsmToken;
import dev.bourne.testing.hsm.WithSoftHsm;
import dev.bourne.testing.time.MutableClock;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.http.HttpClient;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Key rotation as verifiers see it, over HTTPS with the keys on SoftHSM2 and time moved by a {@link MutableClock}:
 * the next key is published before it signs, documents signed with the previous key keep verifying through the
 * served JWK set until they expire, the previous key leaves the set after that, and a restart resumes from the
 * journal with the same keys.
 */
@WithSoftHsm
class KeyRotationTest {
    private static final Duration LIFETIME = Duration.ofHours(2);
    private static final Duration TTL = Duration.ofMinutes(5);

    private final SoftHsmToken token;
    private final MutableClock clock = MutableClock.at("2026-03-01T10:00:00Z");
    private KeyManager keyManager;
    private VendordataServer server;
    private IidSigningKeys keys;
    private HttpClient client;

    @TempDir
    Path dataDir;

    KeyRotationTest(SoftHsmToken token) {
        this.token = token;
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
        if (keyManager != null) {
            keyManager.close();
        }
    }

    /** Starts (or restarts) the service on the same data directory and token. */
    private void start() throws Exception {
        stop();
        keyManager = KeyManagers.open(VendordataTestSupport.pkcs11(token, "rotation"), dataDir, new SecureRandom(),
                clock);
        keys = IidSigningKeys.open(keyManager, dataDir, KeyType.EC_P256, LIFETIME, TTL, clock);
        IidSigner signer = new IidSigner(keys, ISSUER, List.of(AUDIENCE), TTL, clock, new SecureRandom());
        server = VendordataServer.start(new InetSocketAddress(InetAddress.getByName("localhost"), 0),
                VendordataTestSupport.serverTls(false), CallerAuthenticator.of(Optional.of(TOKEN), false), signer, keys,
                keyManager::status, line -> { });
        client = VendordataTestSupport.client();
    }

    private JWSObject issue() throws Exception {
        return JWSObject.parse(data(post(client, server.port(), json(novaBody()), Optional.of(TOKEN))));
    }

    private JWKSet jwks() throws Exception {
        return JWKSet.parse(get(client, server.port(), VendordataServer.JWKS_PATH).body());
    }

    private static List<String> kids(JWKSet set) {
        return set.getKeys().stream().map(JWK::getKeyID).toList();
    }

    /** Verifies as a verifier would: the key comes from the JWK set served now, by the document's kid. */
    private boolean verifiesThroughJwks(JWSObject document) throws Exception {
        JWK key = jwks().getKeyByKeyId(document.getHeader().getKeyID());
        return key != null && document.verify(new ECDSAVerifier((ECKey) key));
    }

    private void advanceTo(Duration sinceStart) {
        clock.set(Instant.parse("2026-03-01T10:00:00Z").plus(sinceStart));
    }

    @Test
    void rotation_publishedBeforeUse_oldDocumentsVerifyUntilExpiry_oldKeyDroppedAfter() throws Exception {
        start();
        JWSObject first = issue();
        String keyA = first.getHeader().getKeyID();
        assertEquals(List.of(keyA), kids(jwks()));

        // Half a lifetime: the next key is published, and does not sign yet.
        advanceTo(LIFETIME.dividedBy(2));
        List<String> published = kids(jwks());
        assertEquals(2, published.size(), "the next key is published: " + published);
        String keyB = published.get(1);
        assertNotEquals(keyA, keyB);
        assertEquals(keyA, issue().getHeader().getKeyID(), "the active key still signs");
        assertEquals(SigningKeyState.Phase.PREPARED, keys.state().orElseThrow().standby().phase());

        // One second before the lifetime ends: a last document with the old key.
        advanceTo(LIFETIME.minusSeconds(1));
        JWSObject lastOfA = issue();
        assertEquals(keyA, lastOfA.getHeader().getKeyID());
        Instant lastOfAExpires = IidClaims.fromJson(lastOfA.getPayload().toJSONObject()).expiresAt();

        // The lifetime ends: the next key signs; the old one stays published.
        advanceTo(LIFETIME);
        JWSObject firstOfB = issue();
        assertEquals(keyB, firstOfB.getHeader().getKeyID());
        assertEquals(List.of(keyB, keyA), kids(jwks()));
        assertTrue(verifiesThroughJwks(firstOfB));
        assertTrue(verifiesThroughJwks(lastOfA), "a document of the retired key verifies through the JWK set");

        // Up to its expiry (and the minute of skew allowance), the old key's document still verifies.
        clock.set(lastOfAExpires);
        assertTrue(verifiesThroughJwks(lastOfA));
        advanceTo(LIFETIME.plus(TTL).plus(IidSigningKeys.RETIREMENT_GRACE).minusSeconds(1));
        assertTrue(verifiesThroughJwks(lastOfA));

        // After it: the old key leaves the JWK set; its documents have all expired by then.
        advanceTo(LIFETIME.plus(TTL).plus(IidSigningKeys.RETIREMENT_GRACE));
        assertEquals(List.of(keyB), kids(jwks()));
        assertNull(jwks().getKeyByKeyId(keyA));
        assertEquals(SigningKeyState.Phase.EMPTY, keys.state().orElseThrow().standby().phase());

        // The next round reuses slot A with a new key.
        advanceTo(LIFETIME.plus(LIFETIME.dividedBy(2)));
        List<String> round2 = kids(jwks());
        assertEquals(2, round2.size());
        assertEquals(keyB, round2.get(0));
        assertNotEquals(keyA, round2.get(1), "slot A holds a new key, not the retired one");
        assertEquals(KeySlot.A, keys.state().orElseThrow().standbySlot());
    }

    @Test
    void restart_resumesFromJournal_sameKeysSameSchedule() throws Exception {
        start();
        String keyA = issue().getHeader().getKeyID();
        advanceTo(LIFETIME.dividedBy(2).plusMinutes(1));
        List<String> beforeRestart = kids(jwks());
        SigningKeyState stateBefore = keys.state().orElseThrow();

        start();

        assertEquals(beforeRestart, kids(jwks()), "the same keys, from the HSM, by the journal");
        assertEquals(stateBefore, keys.state().orElseThrow());
        assertEquals(keyA, issue().getHeader().getKeyID(), "the same key signs");

        // The schedule carries on from the journal's times, not from the restart.
        advanceTo(LIFETIME);
        assertEquals(beforeRestart.get(1), issue().getHeader().getKeyID());

        advanceTo(LIFETIME.plusMinutes(2));
        start();
        assertEquals(List.of(beforeRestart.get(1), keyA), kids(jwks()), "the retired key stays published");
        advanceTo(LIFETIME.plus(TTL).plus(IidSigningKeys.RETIREMENT_GRACE));
        assertEquals(List.of(beforeRestart.get(1)), kids(jwks()));
    }
}
