package dev.bourne.appliance.ca;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bourne.appliance.ca.journal.AuthorityState;
import dev.bourne.appliance.ca.journal.FileCaJournal;
import dev.bourne.core.bundle.BundleSource;
import dev.bourne.core.bundle.SpiffeBundle;
import dev.bourne.core.keymanager.KeyType;
import dev.bourne.core.spiffeid.SpiffeId;
import dev.bourne.core.svid.jwt.JwtSvidException;
import dev.bourne.core.svid.jwt.JwtSvidValidator;
import dev.bourne.core.svid.x509.X509SvidException;
import dev.bourne.core.svid.x509.X509SvidVerifier;
import dev.bourne.keymanager.memory.MemoryKeyManager;
import dev.bourne.testing.time.MutableClock;
import java.nio.file.Path;
import java.security.PublicKey;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Drives the CA through four lifetimes on a fake clock, issuing X.509- and JWT-SVIDs all along with the real issuers,
 * and checks the property rotation exists for: every SVID validates against the bundle published when it was
 * issued, and keeps validating against every later bundle until it expires. Then taints and revokes an authority
 * and checks that exactly its SVIDs stop validating.
 */
class CaRotationTest {
    private static final Instant T0 = Instant.parse("2026-03-01T00:00:00Z");
    private static final Duration CA_TTL = Duration.ofHours(6);
    private static final Duration X509_SVID_TTL = Duration.ofHours(1);
    private static final Duration JWT_SVID_TTL = Duration.ofMinutes(30);
    private static final Duration STEP = Duration.ofMinutes(10);
    private static final SpiffeId WORKLOAD = SpiffeId.parse("spiffe://example.org/workload");
    private static final String AUDIENCE = "spiffe://example.org/db";

    @TempDir
    Path dataDir;

    private final MutableClock clock = new MutableClock(T0);

    private record X509Issued(String authorityId, IssuedX509Svid svid) {
    }

    private record JwtIssued(String keyId, IssuedJwtSvid svid) {
    }

    private final List<X509Issued> x509Outstanding = new ArrayList<>();
    private final List<JwtIssued> jwtOutstanding = new ArrayList<>();

    @Test
    void svidsValidateThroughFourLifetimes_andRevocationRemovesExactlyOneAuthority() throws Exception {
        CaOptions options = new CaOptions(CaFixtures.TRUST_DOMAIN, CA_TTL, KeyType.EC_P256, KeyType.EC_P256,
                Optional.empty(), CaOptions.DEFAULT_REFRESH_HINT, X509_SVID_TTL, JWT_SVID_TTL);
        CaManager manager = CaManager.start(options, new MemoryKeyManager(CaFixtures.RANDOM), Optional.empty(),
                FileCaJournal.inDataDir(dataDir), clock, CaFixtures.RANDOM);
        X509SvidIssuer x509Issuer = new X509SvidIssuer(CaFixtures.TRUST_DOMAIN, clock, CaFixtures.RANDOM);
        JwtSvidIssuer jwtIssuer = new JwtSvidIssuer(CaFixtures.TRUST_DOMAIN, clock);
        PublicKey workloadKey = CaFixtures.freshKey();

        Set<String> x509Authorities = new LinkedHashSet<>();
        Set<String> jwtAuthorities = new LinkedHashSet<>();
        long lastSequence = manager.snapshot().sequence();
        int steps = (int) (CA_TTL.multipliedBy(4).toMinutes() / STEP.toMinutes());
        for (int step = 0; step <= steps; step++) {
            if (step > 0) {
                clock.advance(STEP);
                manager.rotate();
            }
            CaSnapshot now = manager.snapshot();
            assertTrue(now.sequence() >= lastSequence, "spiffe_sequence never goes back");
            lastSequence = now.sequence();
            assertTrue(now.bundle().x509Authorities().size() <= 2,
                    "two slots: at most two roots at " + clock.instant());

            IssuedX509Svid svid = x509Issuer.issue(now.activeX509(), workloadKey, WORKLOAD, List.of(), X509_SVID_TTL);
            IssuedJwtSvid token = jwtIssuer.issue(now.activeJwt(), WORKLOAD, List.of(AUDIENCE), JWT_SVID_TTL,
                    Optional.empty());
            // Against the bundle of the moment it was issued.
            verifyX509(now.bundle(), svid, "issued at " + clock.instant());
            verifyJwt(now.bundle(), token.token(), "issued at " + clock.instant());
            x509Outstanding.add(new X509Issued(now.activeX509().authorityId(), svid));
            jwtOutstanding.add(new JwtIssued(now.activeJwt().keyId(), token));
            x509Authorities.add(now.activeX509().authorityId());
            jwtAuthorities.add(now.activeJwt().keyId());

            // And every SVID still within its lifetime validates against the bundle published now.
            x509Outstanding.removeIf(issued -> !issued.svid().notAfter().isAfter(clock.instant()));
            jwtOutstanding.removeIf(issued -> !issued.svid().expiresAt().isAfter(clock.instant()));
            for (X509Issued issued : x509Outstanding) {
                verifyX509(now.bundle(), issued.svid(), "outstanding from " + issued.authorityId() + " at "
                        + clock.instant());
            }
            for (JwtIssued issued : jwtOutstanding) {
                verifyJwt(now.bundle(), issued.svid().token(), "outstanding from " + issued.keyId() + " at "
                        + clock.instant());
            }
        }
        assertTrue(x509Authorities.size() >= 4, "X.509 authorities used: " + x509Authorities);
        assertTrue(jwtAuthorities.size() >= 4, "JWT keys used: " + jwtAuthorities);
        // Sequence 1 at start, then +1 per preparation (each expiry falls in the tick of a preparation); the last
        // authority prepared is not active yet, so it is not among those used.
        assertEquals(x509Authorities.size() + 1L, lastSequence);

        // Make sure an old authority with outstanding SVIDs exists, then taint and revoke it.
        if (manager.snapshot().x509Authorities().stream().noneMatch(r -> r.state() == AuthorityState.PREPARED)) {
            manager.prepareX509();
        }
        if (manager.snapshot().jwtAuthorities().stream().noneMatch(r -> r.state() == AuthorityState.PREPARED)) {
            manager.prepareJwt();
        }
        String oldX509 = manager.activeX509Authority().authorityId();
        String oldKid = manager.activeJwtAuthority().keyId();
        manager.activateX509(manager.snapshot().x509Authorities().stream()
                .filter(r -> r.state() == AuthorityState.PREPARED).findFirst().orElseThrow().authorityId());
        manager.activateJwt(manager.snapshot().jwtAuthorities().stream()
                .filter(r -> r.state() == AuthorityState.PREPARED).findFirst().orElseThrow().keyId());
        CaSnapshot afterSwitch = manager.snapshot();
        IssuedX509Svid fromNew = x509Issuer.issue(afterSwitch.activeX509(), workloadKey, WORKLOAD, List.of(),
                X509_SVID_TTL);
        IssuedJwtSvid tokenFromNew = jwtIssuer.issue(afterSwitch.activeJwt(), WORKLOAD, List.of(AUDIENCE),
                JWT_SVID_TTL, Optional.empty());
        List<X509Issued> fromOld = x509Outstanding.stream().filter(i -> i.authorityId().equals(oldX509)).toList();
        List<JwtIssued> tokensFromOld = jwtOutstanding.stream().filter(i -> i.keyId().equals(oldKid)).toList();
        assertFalse(fromOld.isEmpty());
        assertFalse(tokensFromOld.isEmpty());
        for (X509Issued issued : fromOld) {
            verifyX509(afterSwitch.bundle(), issued.svid(), "old authority still trusted before revocation");
        }

        manager.taintX509(oldX509);
        manager.taintJwt(oldKid);
        manager.revokeX509(oldX509);
        manager.revokeJwt(oldKid);
        SpiffeBundle revoked = manager.bundle();
        assertTrue(revoked.sequence().getAsLong() > afterSwitch.sequence());
        assertFalse(revoked.jwtAuthorities().containsKey(oldKid));

        for (X509Issued issued : fromOld) {
            X509SvidException error = assertThrows(X509SvidException.class,
                    () -> new X509SvidVerifier(BundleSource.of(revoked), clock).verify(issued.svid().chain()));
            assertTrue(error.getMessage().startsWith("certificate chain does not verify against the bundle of"),
                    error.getMessage());
        }
        for (JwtIssued issued : tokensFromOld) {
            JwtSvidException error = assertThrows(JwtSvidException.class, () -> new JwtSvidValidator(
                    BundleSource.of(revoked), clock, Duration.ZERO, null).validate(issued.svid().token(), AUDIENCE));
            assertTrue(error.getMessage().startsWith("no JWT authority with key ID"), error.getMessage());
        }
        verifyX509(revoked, fromNew, "the other authority is unaffected");
        verifyJwt(revoked, tokenFromNew.token(), "the other JWT key is unaffected");
    }

    private void verifyX509(SpiffeBundle bundle, IssuedX509Svid svid, String what) {
        assertDoesNotThrow(() -> new X509SvidVerifier(BundleSource.of(bundle), clock).verify(svid.chain()), what);
    }

    private void verifyJwt(SpiffeBundle bundle, String token, String what) {
        assertDoesNotThrow(() -> new JwtSvidValidator(BundleSource.of(bundle), clock, Duration.ZERO, null)
                .validate(token, AUDIENCE), what);
    }
}
