package dev.bourne.agent.node;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bourne.core.bundle.SpiffeBundle;
import dev.bourne.core.spiffeid.TrustDomain;
import dev.bourne.testing.pki.TestCa;
import dev.bourne.testing.pki.TestKeys;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ServerTrustTest {
    private static final TrustDomain TD = TrustDomain.parse("example.org");
    private final TestCa ca = TestCa.root("example.org");
    private final TestCa otherCa = TestCa.root("example.org", TestKeys.ecP256(3), Instant.now().minusSeconds(60),
            Instant.now().plus(Duration.ofDays(1)));

    private SpiffeBundle bundle() {
        return SpiffeBundle.of(TD, List.of(ca.certificate()), Map.of());
    }

    private X509Certificate[] chain(TestCa issuer, String id) {
        return TestCa.svidChain(issuer.leaf(id, TestKeys.ecP256(4).getPublic()), issuer)
                .toArray(new X509Certificate[0]);
    }

    @Test
    void serverSvidChainingToTheBundle_accepted() {
        ServerTrust trust = new ServerTrust(TD, Optional.of(bundle()), false, Clock.systemUTC());
        assertDoesNotThrow(() -> trust.checkServerTrusted(chain(ca, "spiffe://example.org/spire/server"), "EC"));
        assertEquals(List.of(ca.certificate()), List.of(trust.getAcceptedIssuers()));
    }

    @Test
    void anotherIdFromTheRightCa_rejected() {
        ServerTrust trust = new ServerTrust(TD, Optional.of(bundle()), false, Clock.systemUTC());
        CertificateException e = assertThrows(CertificateException.class,
                () -> trust.checkServerTrusted(chain(ca, "spiffe://example.org/spire/agent/x"), "EC"));
        assertTrue(e.getMessage().startsWith(ServerTrust.NOT_THE_SERVER), e.getMessage());
    }

    @Test
    void serverIdFromAnotherCa_rejected() {
        ServerTrust trust = new ServerTrust(TD, Optional.of(bundle()), false, Clock.systemUTC());
        CertificateException e = assertThrows(CertificateException.class,
                () -> trust.checkServerTrusted(chain(otherCa, "spiffe://example.org/spire/server"), "EC"));
        assertTrue(e.getMessage().startsWith("server certificate rejected: "), e.getMessage());
    }

    @Test
    void noBundleWithoutInsecureBootstrap_rejected() {
        ServerTrust trust = new ServerTrust(TD, Optional.empty(), false, Clock.systemUTC());
        CertificateException e = assertThrows(CertificateException.class,
                () -> trust.checkServerTrusted(chain(ca, "spiffe://example.org/spire/server"), "EC"));
        assertEquals(ServerTrust.NO_BUNDLE, e.getMessage());
    }

    @Test
    void insecureBootstrap_acceptsAnyCaButStillChecksTheId_untilABundleIsSet() throws Exception {
        ServerTrust trust = new ServerTrust(TD, Optional.empty(), true, Clock.systemUTC());
        trust.checkServerTrusted(chain(otherCa, "spiffe://example.org/spire/server"), "EC");
        assertThrows(CertificateException.class,
                () -> trust.checkServerTrusted(chain(otherCa, "spiffe://example.org/workload"), "EC"));

        trust.setBundle(bundle());
        assertThrows(CertificateException.class,
                () -> trust.checkServerTrusted(chain(otherCa, "spiffe://example.org/spire/server"), "EC"));
    }

    @Test
    void bundleOfAnotherDomain_refused() {
        ServerTrust trust = new ServerTrust(TD, Optional.empty(), false, Clock.systemUTC());
        assertThrows(IllegalArgumentException.class, () -> trust.setBundle(SpiffeBundle.of(
                TrustDomain.parse("other.org"), List.of(), Map.of())));
    }

    @Test
    void clients_neverTrusted() {
        ServerTrust trust = new ServerTrust(TD, Optional.of(bundle()), false, Clock.systemUTC());
        assertThrows(CertificateException.class,
                () -> trust.checkClientTrusted(chain(ca, "spiffe://example.org/spire/server"), "EC"));
    }
}
