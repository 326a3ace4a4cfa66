package dev.bourne.agent.workloadapi;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bourne.agent.cache.WorkloadEntry;
import dev.bourne.core.selector.Selector;
import dev.bourne.core.spiffeid.SpiffeId;
import io.spiffe.bundle.jwtbundle.JwtBundleSet;
import io.spiffe.bundle.x509bundle.X509BundleSet;
import io.spiffe.exception.JwtSvidException;
import io.spiffe.provider.SpiffeSslContextFactory;
import io.spiffe.svid.jwtsvid.JwtSvid;
import io.spiffe.svid.x509svid.X509Svid;
import io.spiffe.svid.x509svid.X509SvidValidator;
import io.spiffe.workloadapi.DefaultWorkloadApiClient;
import io.spiffe.workloadapi.DefaultX509Source;
import io.spiffe.workloadapi.WorkloadApiClient;
import io.spiffe.workloadapi.X509Context;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** java-spiffe 0.8.13, a real SPIFFE workload library, against the agent's Workload API on a Unix socket. */
class WorkloadApiJavaSpiffeTest {
    private static final SpiffeId SERVER_ID = SpiffeId.parse("spiffe://example.org/workload/server");
    private static final SpiffeId CLIENT_ID = SpiffeId.parse("spiffe://example.org/workload/client");
    private static final Selector ROOT = new Selector("unix", "uid:0");

    @TempDir
    Path dir;

    private WorkloadApiHarness agent;
    private WorkloadApiClient client;

    @BeforeEach
    void start() throws Exception {
        agent = new WorkloadApiHarness(dir.resolve("api.sock"));
        // Two entries this (root) test process matches: the server's and the client's, told apart by hint.
        agent.cache.update(agent.pki.contents(
                new WorkloadEntry("e-server", SERVER_ID, Set.of(ROOT), Set.of(TestWorkloads.PARTNER), "server"),
                new WorkloadEntry("e-client", CLIENT_ID, Set.of(ROOT, new Selector("unix", "gid:0")), Set.of(),
                        "client")));
        client = DefaultWorkloadApiClient.newClient(DefaultWorkloadApiClient.ClientOptions.builder()
                .spiffeSocketPath(agent.address()).build());
    }

    @AfterEach
    void stop() throws Exception {
        client.close();
        agent.close();
    }

    @Test
    void fetchX509Context_svidsChainToTheBundleAndKeysMatch() throws Exception {
        X509Context context = client.fetchX509Context();
        List<X509Svid> svids = context.getX509Svids();
        assertEquals(List.of(SERVER_ID.toString(), CLIENT_ID.toString()),
                svids.stream().map(s -> s.getSpiffeId().toString()).toList());
        assertEquals(List.of("server", "client"), svids.stream().map(X509Svid::getHint).toList());
        X509BundleSet bundles = context.getX509BundleSet();
        assertEquals(Set.of("example.org", "partner.org"), bundles.getBundles().keySet().stream()
                .map(io.spiffe.spiffeid.TrustDomain::getName).collect(java.util.stream.Collectors.toSet()));
        for (X509Svid svid : svids) {
            X509SvidValidator.verifyChain(svid.getChain(), bundles);
            // The key the agent generated is the leaf's: sign with it, verify with the certificate.
            Signature signer = Signature.getInstance("SHA256withECDSA");
            signer.initSign(svid.getPrivateKey());
            byte[] data = "proof of possession".getBytes(StandardCharsets.UTF_8);
            signer.update(data);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance("SHA256withECDSA");
            verifier.initVerify(svid.getLeaf());
            verifier.update(data);
            assertTrue(verifier.verify(signature));
        }
        assertArrayEquals(agent.pki.ca.certificate().getEncoded(),
                bundles.getBundleForTrustDomain(io.spiffe.spiffeid.TrustDomain.parse("example.org"))
                        .getX509Authorities().iterator().next().getEncoded());
    }

    @Test
    void fetchJwtSvid_validatesLocallyAgainstFetchedBundlesAndThroughTheAgent() throws Exception {
        JwtSvid svid = client.fetchJwtSvid(io.spiffe.spiffeid.SpiffeId.parse(SERVER_ID.toString()), "payments");
        assertEquals(SERVER_ID.toString(), svid.getSpiffeId().toString());
        assertEquals(Set.of("payments"), svid.getAudience());

        JwtBundleSet bundles = client.fetchJwtBundles();
        JwtSvid local = JwtSvid.parseAndValidate(svid.getToken(), bundles, Set.of("payments"));
        assertEquals(SERVER_ID.toString(), local.getSpiffeId().toString());

        JwtSvid validated = client.validateJwtSvid(svid.getToken(), "payments");
        assertEquals(SERVER_ID.toString(), validated.getSpiffeId().toString());
        assertThrows(JwtSvidException.class, () -> client.validateJwtSvid(svid.getToken(), "someone-else"));
    }

    @Test
    void fetchJwtSvids_oneTokenPerIdentity() throws Exception {
        List<JwtSvid> svids = client.fetchJwtSvids("audience-a", "audience-b");
        assertEquals(List.of(SERVER_ID.toString(), CLIENT_ID.toString()),
                svids.stream().map(s -> s.getSpiffeId().toString()).toList());
        assertEquals(Set.of("audience-a", "audience-b"), svids.get(0).getAudience());
    }

    @Test
    void validateJwtSvid_federatedDomainToken_validated() throws Exception {
        String partnerToken = TestWorkloads.sign(agent.pki.partnerJwtKey, "partner-a",
                SpiffeId.parse("spiffe://partner.org/billing"), List.of("payments"));
        JwtSvid validated = client.validateJwtSvid(partnerToken, "payments");
        assertEquals("spiffe://partner.org/billing", validated.getSpiffeId().toString());
    }

    @Test
    void validateJwtSvid_federatedBundleTheCallerWasNotGiven_refused() throws Exception {
        // The agent holds partner.org's bundle, but none of this caller's entries federates with it any more.
        agent.cache.update(agent.pki.contents(
                new WorkloadEntry("e-server", SERVER_ID, Set.of(ROOT), Set.of(), "server")));
        assertTrue(agent.cache.contents().orElseThrow().federatedBundles().containsKey(TestWorkloads.PARTNER));
        String partnerToken = TestWorkloads.sign(agent.pki.partnerJwtKey, "partner-a",
                SpiffeId.parse("spiffe://partner.org/billing"), List.of("payments"));
        assertThrows(JwtSvidException.class, () -> client.validateJwtSvid(partnerToken, "payments"));
        assertEquals(Set.of("example.org"), client.fetchJwtBundles().getBundles().keySet().stream()
                .map(io.spiffe.spiffeid.TrustDomain::getName).collect(java.util.stream.Collectors.toSet()));
    }

    @Test
    void mtls_twoWorkloadsWithJavaSpiffeSslContexts_handshakeAndSeeEachOthersIds() throws Exception {
        try (DefaultX509Source serverSource = source("server"); DefaultX509Source clientSource = source("client")) {
            SSLContext serverContext = SpiffeSslContextFactory.getSslContext(
                    SpiffeSslContextFactory.SslContextOptions.builder().sslProtocol("TLSv1.3").x509Source(serverSource)
                            .acceptedSpiffeIdsSupplier(() -> Set.of(spiffe(CLIENT_ID))).build());
            SSLContext clientContext = SpiffeSslContextFactory.getSslContext(
                    SpiffeSslContextFactory.SslContextOptions.builder().sslProtocol("TLSv1.3").x509Source(clientSource)
                            .acceptedSpiffeIdsSupplier(() -> Set.of(spiffe(SERVER_ID))).build());
            try (SSLServerSocket listener = (SSLServerSocket) serverContext.getServerSocketFactory()
                    .createServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                listener.setNeedClientAuth(true);
                CompletableFuture<String> serverSide = CompletableFuture.supplyAsync(() -> {
                    try (SSLSocket socket = (SSLSocket) listener.accept()) {
                        X509Certificate peer = (X509Certificate) socket.getSession().getPeerCertificates()[0];
                        String greeting = new DataInputStream(socket.getInputStream()).readUTF();
                        new DataOutputStream(socket.getOutputStream()).writeUTF("hello " + greeting);
                        return uri(peer);
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });
                try (SSLSocket socket = (SSLSocket) clientContext.getSocketFactory()
                        .createSocket(InetAddress.getLoopbackAddress(), listener.getLocalPort())) {
                    new DataOutputStream(socket.getOutputStream()).writeUTF("client");
                    assertEquals("hello client", new DataInputStream(socket.getInputStream()).readUTF());
                    X509Certificate peer = (X509Certificate) socket.getSession().getPeerCertificates()[0];
                    assertEquals(SERVER_ID.toString(), uri(peer));
                    assertEquals("TLSv1.3", socket.getSession().getProtocol());
                }
                assertEquals(CLIENT_ID.toString(), serverSide.get(30, TimeUnit.SECONDS));
            }
        }
    }

    private DefaultX509Source source(String hint) throws Exception {
        return DefaultX509Source.newSource(DefaultX509Source.X509SourceOptions.builder()
                .spiffeSocketPath(agent.address())
                .svidPicker(svids -> svids.stream().filter(s -> hint.equals(s.getHint())).findFirst().orElseThrow())
                .build());
    }

    private static io.spiffe.spiffeid.SpiffeId spiffe(SpiffeId id) {
        return io.spiffe.spiffeid.SpiffeId.parse(id.toString());
    }

    private static String uri(X509Certificate certificate) throws Exception {
        return certificate.getSubjectAlternativeNames().stream().filter(n -> (Integer) n.get(0) == 6)
                .map(n -> (String) n.get(1)).findFirst().orElseThrow();
    }
}
