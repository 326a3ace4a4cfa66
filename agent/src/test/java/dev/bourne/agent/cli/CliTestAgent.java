package dev.bourne.agent.cli;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.bourne.agent.cache.CacheContents;
import dev.bourne.agent.cache.IdentityCache;
import dev.bourne.agent.cache.WorkloadEntry;
import dev.bourne.agent.cache.WorkloadKeyGenerator;
import dev.bourne.agent.workloadapi.WorkloadApiServer;
import dev.bourne.agent.workloadapi.WorkloadApiService;
import dev.bourne.agent.workloadapi.WorkloadX509Svid;
import dev.bourne.agent.workloadattestor.ProcessStartTimes;
import dev.bourne.agent.workloadattestor.UnixAttestorSettings;
import dev.bourne.agent.workloadattestor.UnixWorkloadAttestor;
import dev.bourne.agent.workloadattestor.WorkloadAttestorCatalog;
import dev.bourne.core.bundle.SpiffeBundle;
import dev.bourne.core.selector.Selector;
import dev.bourne.core.spiffeid.SpiffeId;
import dev.bourne.core.spiffeid.TrustDomain;
import dev.bourne.core.svid.x509.X509SvidException;
import dev.bourne.testing.pki.TestCa;
import dev.bourne.testing.pki.TestKeys;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPrivateKey;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.bouncycastle.jce.provider.BouncyCastleProvider;

/**
 * E's real Workload API (identity cache, unix attestor, Unix socket) with SVIDs from a TestCa, for the CLI's client
 * commands; JWT-SVIDs are signed as the server signs them (ES256 with the bundle's JWT authority).
 */
final class CliTestAgent implements AutoCloseable {
    static final TrustDomain TD = TrustDomain.parse("example.org");
    static final TrustDomain PARTNER = TrustDomain.parse("partner.org");
    static final SpiffeId WEB = SpiffeId.parse("spiffe://example.org/web");
    static final String JWT_KID = "jwt-a";

    final TestCa ca = TestCa.root("example.org");
    final TestCa partnerCa = TestCa.root("partner.org", TestKeys.ecP256(7), Instant.now().minus(Duration.ofHours(1)),
            Instant.now().plus(Duration.ofDays(30)));
    final KeyPair jwtKey = TestKeys.ecP256(8);
    final IdentityCache cache = new IdentityCache((id, audience) -> sign(id, audience));
    final WorkloadApiServer server;
    private final WorkloadKeyGenerator keys = new WorkloadKeyGenerator(new SecureRandom());

    CliTestAgent(Path socket) throws IOException {
        ProcessStartTimes startTimes = new ProcessStartTimes(Path.of("/proc"));
        WorkloadAttestorCatalog catalog = new WorkloadAttestorCatalog(
                List.of(UnixWorkloadAttestor.system(UnixAttestorSettings.DEFAULTS)), startTimes);
        server = WorkloadApiServer.start(socket, new WorkloadApiService(cache, catalog, Clock.systemUTC(),
                new BouncyCastleProvider(), false), startTimes);
    }

    /** The uid of this JVM: the selector its entries use. */
    static Selector ownUid() throws IOException {
        return new Selector("unix", "uid:" + Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
    }

    SpiffeBundle bundle() {
        return SpiffeBundle.of(TD, List.of(ca.certificate()), Map.of(JWT_KID, jwtKey.getPublic()));
    }

    /** Fills the cache with {@code id} for this JVM's uid, federating with partner.org. */
    WorkloadX509Svid serve(SpiffeId id) throws IOException, X509SvidException {
        WorkloadEntry entry = new WorkloadEntry("e1", id, java.util.Set.of(ownUid()), java.util.Set.of(PARTNER),
                "");
        WorkloadKeyGenerator.GeneratedKey key = keys.generate();
        X509Certificate leaf = ca.leaf(id.toString(), key.publicKey());
        WorkloadX509Svid svid = new WorkloadX509Svid("e1", TestCa.svidChain(leaf, ca), key.privateKey(), "");
        Map<String, WorkloadX509Svid> svids = new LinkedHashMap<>();
        svids.put("e1", svid);
        cache.update(new CacheContents(bundle(), Map.of(PARTNER, SpiffeBundle.of(PARTNER,
                List.of(partnerCa.certificate()), Map.of())), List.of(entry), svids));
        return svid;
    }

    /** Ready, but with no entry for anyone. */
    void serveNothing() {
        cache.update(CacheContents.ofBundle(bundle()));
    }

    String sign(SpiffeId id, List<String> audience) {
        Instant now = Instant.now();
        JWTClaimsSet claims = new JWTClaimsSet.Builder().subject(id.toString()).audience(audience)
                .issueTime(Date.from(now)).expirationTime(Date.from(now.plus(Duration.ofMinutes(5))))
                .jwtID(UUID.randomUUID().toString()).build();
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID(JWT_KID)
                .type(JOSEObjectType.JWT).build(), claims);
        try {
            jwt.sign(new ECDSASigner((ECPrivateKey) jwtKey.getPrivate(), Curve.P_256));
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
        return jwt.serialize();
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
