package dev.bourne.appliance.federation;

import dev.bourne.core.bundle.SpiffeBundle;
import dev.bourne.core.spiffeid.SpiffeId;
import dev.bourne.core.spiffeid.TrustDomain;
import dev.bourne.testing.pki.TestCa;
import dev.bourne.testing.pki.TestKeys;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/** The certificates of federation tests: a peer trust domain's CA, its endpoint SVID, a Web PKI CA. */
public final class FederationTestPki {
    public static final TrustDomain PEER = new TrustDomain("peer.org");
    public static final SpiffeId ENDPOINT_ID = SpiffeId.parse("spiffe://peer.org/spire/server");
    public static final KeyPair ENDPOINT_KEY = TestKeys.ecP256(12);
    public static final KeyPair JWT_KEY = TestKeys.ecP256(13);

    private FederationTestPki() {
    }

    /** A root CA of {@code domain} with its own key ({@code keyIndex}), valid from an hour ago for a year. */
    public static TestCa ca(String domain, int keyIndex) {
        return TestCa.root(domain, TestKeys.ecP256(keyIndex), Instant.now().minus(Duration.ofHours(1)),
                Instant.now().plus(Duration.ofDays(365)));
    }

    /** The endpoint's certificate chain: an X.509-SVID for {@code id} issued by {@code ca}. */
    public static List<X509Certificate> svid(TestCa ca, String id) {
        return List.of(ca.leaf(id, ENDPOINT_KEY.getPublic()));
    }

    /** A Web PKI server certificate for {@code dnsName} issued by {@code ca}. */
    public static List<X509Certificate> webCertificate(TestCa ca, String dnsName) {
        return List.of(ca.leafSpec("spiffe://web.example/unused", ENDPOINT_KEY.getPublic()).dnsNames(dnsName)
                .issue());
    }

    /** The peer's bundle: its CA and a JWT key, with a sequence number and a refresh hint. */
    public static SpiffeBundle bundle(TestCa ca, long sequence, Duration hint) {
        return SpiffeBundle.of(PEER, List.of(ca.certificate()), Map.of("jwt-1", JWT_KEY.getPublic()))
                .withSequence(sequence).withRefreshHint(hint);
    }
}
