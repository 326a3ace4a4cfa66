package dev.bourne.agent.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bourne.agent.workloadapi.WorkloadIdentity;
import dev.bourne.appliance.admin.AdminServices;
import dev.bourne.appliance.cli.ServerCli;
import dev.bourne.appliance.datastore.RegistrationEntry;
import dev.bourne.appliance.server.BourneServer;
import dev.bourne.core.bundle.SpiffeBundle;
import dev.bourne.core.selector.Selector;
import dev.bourne.core.spiffeid.SpiffeId;
import dev.bourne.core.spiffeid.TrustDomain;
import io.spiffe.provider.SpiffeSslContextFactory;
import io.spiffe.svid.jwtsvid.JwtSvid;
import io.spiffe.workloadapi.DefaultWorkloadApiClient;
import io.spiffe.workloadapi.DefaultX509Source;
import io.spiffe.workloadapi.WorkloadApiClient;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Federation end to end (issue 7): two Bourne trust domains on loopback, {@code example.org} and {@code partner.org},
 * each a real server (SQLite, its own CA) serving its bundle on an {@code https_spiffe} bundle endpoint, and a real agent
 * with a workload (this JVM's uid). Each server's operator creates the relationship with {@code bourne-server
 * federation create}, bootstrapped with the peer's CA certificates; from then on each server fetches the peer's bundle
 * at the peer's refresh hint, authenticating the peer's endpoint by its SPIFFE ID. Each workload's entry federates with
 * the other domain, so each agent hands its workload the peer's bundle.
 *
 * <p>Then, with java-spiffe on both Workload API sockets: the workload of one domain completes a mutual TLS handshake
 * with the workload of the other (each side accepting only the other's SPIFFE ID), and validates the other's JWT-SVID
 * through its own agent. Last, {@code partner.org} rotates its CA (prepare, then activate) while handshakes run without
 * pause: the new CA reaches {@code example.org}'s workload within the refresh hint, partner's workload moves to an
 * SVID signed by the new CA, and no handshake fails across it.
 */
class FederationEndToEndTest {
    private static final Duration SYNC = Duration.ofMillis(250);
    private static final Duration WAIT = Duration.ofSeconds(60);
    /** The shortest hint allowed: a rotation reaches the peer within it. */
    private static final Duration REFRESH_HINT = Duration.ofSeconds(10);
    private static final TrustDomain EXAMPLE = TrustDomain.parse("example.org");
    private static final TrustDomain PARTNER = TrustDomain.parse("partner.org");
    private static final SpiffeId FRONT = SpiffeId.parse("spiffe://example.org/front");
    private static final SpiffeId BILLING = SpiffeId.parse("spiffe://partner.org/billing");

    @TempDir
    static Path dir;
    private static Domain example;
    private static Domain partner;

    /** One trust domain: its server, its agent, its workload's entry. */
    record Domain(TrustDomain trustDomain, Path home, BourneServer server, int bundleEndpointPort) {
        Path serverDir() {
            return home.resolve("server");
        }
    }

    private static final List<AgentRuntime> agents = new ArrayList<>();
    private static AgentRuntime exampleAgent;
    private static AgentRuntime partnerAgent;

    @BeforeAll
    static void startBothDomains() throws Exception {
        example = startServer(EXAMPLE);
        partner = startServer(PARTNER);

        // Each operator federates with the other, bootstrapped with the peer's CA certificates (exchanged out of band).
        federate(example, partner);
        federate(partner, example);

        Selector uid = new Selector("unix", "uid:" + Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
        exampleAgent = startAgent(example, FRONT, PARTNER, uid);
        partnerAgent = startAgent(partner, BILLING, EXAMPLE, uid);
        // The PEM bootstrap carries X.509 authorities only: the JWT authorities arrive with the first fetch from the
        // peer's bundle endpoint, so wait for those.
        awaitIdentity(exampleAgent, uid, i -> hasJwtAuthorities(i, PARTNER));
        awaitIdentity(partnerAgent, uid, i -> hasJwtAuthorities(i, EXAMPLE));
    }

    private static boolean hasJwtAuthorities(WorkloadIdentity identity, TrustDomain peer) {
        SpiffeBundle bundle = identity.federatedBundles().get(peer);
        return bundle != null && !bundle.jwtAuthorities().isEmpty();
    }

    @AfterAll
    static void stopBothDomains() {
        for (AgentRuntime agent : agents) {
            agent.close();
        }
        for (Domain domain : new Domain[] {example, partner}) {
            if (domain != null) {
                domain.server().close();
            }
        }
    }

    private static int freePort() throws Exception {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    private static Domain startServer(TrustDomain td) throws Exception {
        Path home = Files.createDirectories(dir.resolve(td.name()));
        int bundlePort = freePort();
        BourneServer server = BourneServer.start(RuntimeTestSupport.serverSettings(home.resolve("server"), td.name(), """
                    default_x509_svid_ttl = "20s"
                    federation {
                        bundle_endpoint {
                            address = "127.0.0.1"
                            port = %d
                            refresh_hint = "%ds"
                            profile "https_spiffe" {}
                        }
                        min_refresh_interval = "1s"
                        max_refresh_interval = "1m"
                    }
                """.formatted(bundlePort, REFRESH_HINT.toSeconds()), Duration.ofMinutes(10), true,
                "NodeAttestor \"join_token\" { plugin_data {} }", 0), Clock.systemUTC(), new SecureRandom(),
                AdminServices::create);
        return new Domain(td, home, server, server.bundleEndpointPort().orElseThrow());
    }

    /** {@code local}'s operator runs {@code bourne-server federation create} for {@code peer}. */
    private static void federate(Domain local, Domain peer) throws Exception {
        Path bootstrap = RuntimeTestSupport.bootstrapBundle(peer.server(),
                local.home().resolve(peer.trustDomain().name() + "-bootstrap.pem"));
        assertEquals(ServerCli.OK, RuntimeTestSupport.serverCli(local.serverDir(), "federation", "create",
                "-trustDomain", peer.trustDomain().name(),
                "-bundleEndpointURL", "https://127.0.0.1:" + peer.bundleEndpointPort(),
                "-bundleEndpointProfile", "https_spiffe",
                "-endpointSpiffeID", "spiffe://" + peer.trustDomain().name() + "/spire/server",
                "-trustDomainBundlePath", bootstrap.toString(),
                "-trustDomainBundleFormat", "pem"));
    }

    private static AgentRuntime startAgent(Domain domain, SpiffeId workload, TrustDomain federatesWith,
            Selector uid) throws Exception {
        String token = "token-" + System.nanoTime();
        domain.server().dataStore().createJoinToken(token, Instant.now().plus(Duration.ofMinutes(10)));
        domain.server().dataStore().createEntry(RegistrationEntry.builder().spiffeId(workload)
                .parentId(SpiffeId.of(domain.trustDomain(), "spire", "agent", "join_token", token))
                .selectors(List.of(uid)).federatesWith(List.of(federatesWith)).build());
        Path agentDir = Files.createDirectories(domain.home().resolve("agent"));
        AgentRuntime agent = AgentRuntime.start(RuntimeTestSupport.agentSettings(domain.server(),
                domain.trustDomain().name(), domain.server().agentApiPort().orElseThrow(), agentDir,
                agentDir.resolve("data"), """
                        NodeAttestor "join_token" { plugin_data {} }
                        KeyManager "memory" { plugin_data {} }
                        WorkloadAttestor "unix" { plugin_data {} }
                        """), Optional.of(token), Clock.systemUTC(), new SecureRandom(), SYNC);
        agents.add(agent);
        return agent;
    }

    private static WorkloadIdentity awaitIdentity(AgentRuntime agent, Selector uid,
            Predicate<WorkloadIdentity> condition) throws Exception {
        CompletableFuture<WorkloadIdentity> reached = new CompletableFuture<>();
        try (var watch = agent.cache().watch(List.of(uid), identity -> identity.filter(condition)
                .ifPresent(reached::complete))) {
            return reached.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        }
    }

    private static DefaultX509Source source(AgentRuntime agent) throws Exception {
        return DefaultX509Source.newSource(DefaultX509Source.X509SourceOptions.builder()
                .spiffeSocketPath("unix:" + agent.socketPath()).build());
    }

    private static SSLContext tls(DefaultX509Source source, SpiffeId peer) throws Exception {
        io.spiffe.spiffeid.SpiffeId accepted = io.spiffe.spiffeid.SpiffeId.parse(peer.toString());
        return SpiffeSslContextFactory.getSslContext(SpiffeSslContextFactory.SslContextOptions.builder()
                .x509Source(source).acceptedSpiffeIdsSupplier(() -> Set.of(accepted)).build());
    }

    /** partner.org's billing service: a TLS server that requires example.org's front as its client. */
    static final class BillingServer implements AutoCloseable {
        private final SSLServerSocket socket;
        private final ExecutorService executor = Executors.newSingleThreadExecutor();
        private final AtomicBoolean open = new AtomicBoolean(true);

        BillingServer(SSLContext context) throws Exception {
            socket = (SSLServerSocket) context.getServerSocketFactory().createServerSocket(0, 50,
                    InetAddress.getLoopbackAddress());
            socket.setNeedClientAuth(true);
            executor.execute(this::serve);
        }

        int port() {
            return socket.getLocalPort();
        }

        private void serve() {
            while (open.get()) {
                try (SSLSocket connection = (SSLSocket) socket.accept()) {
                    connection.setSoTimeout(10_000);
                    BufferedReader in = new BufferedReader(new InputStreamReader(connection.getInputStream(),
                            StandardCharsets.UTF_8));
                    String line = in.readLine();
                    X509Certificate client = (X509Certificate) connection.getSession().getPeerCertificates()[0];
                    PrintWriter out = new PrintWriter(connection.getOutputStream(), true, StandardCharsets.UTF_8);
                    out.println("billing saw " + client.getSubjectAlternativeNames().iterator().next().get(1)
                            + " say " + line);
                } catch (Exception e) {
                    // A failed handshake shows on the client side, which the test counts.
                }
            }
        }

        @Override
        public void close() throws Exception {
            open.set(false);
            socket.close();
            executor.shutdownNow();
        }
    }

    /** example.org's front calls partner.org's billing over mutual TLS; returns billing's answer. */
    private static String call(SSLContext frontTls, int port, String message) throws Exception {
        try (SSLSocket socket = (SSLSocket) frontTls.getSocketFactory().createSocket(InetAddress.getLoopbackAddress(),
                port)) {
            socket.setSoTimeout(10_000);
            socket.startHandshake();
            PrintWriter out = new PrintWriter(socket.getOutputStream(), true, StandardCharsets.UTF_8);
            out.println(message);
            return new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8))
                    .readLine();
        }
    }

    @Test
    void workloadsOfTwoDomains_mutualTls_jwtValidation_andACaRotationWithoutAFailedHandshake() throws Exception {
        Selector uid = new Selector("unix", "uid:" + Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
        try (DefaultX509Source front = source(exampleAgent); DefaultX509Source billing = source(partnerAgent);
                BillingServer server = new BillingServer(tls(billing, FRONT))) {
            SSLContext frontTls = tls(front, BILLING);

            // 1. Mutual TLS across the domains: each side verifies the other against the federated bundle.
            assertEquals(FRONT.toString(), front.getX509Svid().getSpiffeId().toString());
            assertEquals("billing saw " + FRONT + " say hello", call(frontTls, server.port(), "hello"));

            // 2. front validates billing's JWT-SVID through its own agent (the federated JWT bundle).
            try (WorkloadApiClient billingClient = client(partnerAgent);
                    WorkloadApiClient frontClient = client(exampleAgent)) {
                JwtSvid token = billingClient.fetchJwtSvid("front");
                JwtSvid validated = frontClient.validateJwtSvid(token.getToken(), "front");
                assertEquals(BILLING.toString(), validated.getSpiffeId().toString());
            }

            // 3. partner.org rotates its CA while front keeps calling billing.
            AtomicInteger calls = new AtomicInteger();
            List<String> failures = java.util.Collections.synchronizedList(new ArrayList<>());
            AtomicBoolean calling = new AtomicBoolean(true);
            ExecutorService caller = Executors.newSingleThreadExecutor();
            Future<?> loop = caller.submit(() -> {
                while (calling.get()) {
                    try {
                        call(frontTls, server.port(), "call " + calls.incrementAndGet());
                    } catch (Exception e) {
                        failures.add(e.toString());
                    }
                    try {
                        Thread.sleep(100);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
            try {
                var prepared = partner.server().ca().orElseThrow().prepareX509();
                X509Certificate newCa = prepared.certificate();
                Instant preparedAt = Instant.now();
                // The new CA reaches example.org's workload through the federation client and the agent.
                awaitIdentity(exampleAgent, uid, i -> i.federatedBundles().containsKey(PARTNER)
                        && i.federatedBundles().get(PARTNER).x509Authorities().contains(newCa));
                Duration propagation = Duration.between(preparedAt, Instant.now());
                assertTrue(propagation.compareTo(REFRESH_HINT.plus(Duration.ofSeconds(5))) <= 0,
                        "the new CA reached the peer's workload in " + propagation + ", beyond the refresh hint "
                                + REFRESH_HINT);

                // Activation: billing's next SVID (default_x509_svid_ttl 20s: renewed within ~10s) is signed by the
                // new CA, and front still accepts it.
                partner.server().ca().orElseThrow().activateX509(prepared.authorityId());
                awaitIdentity(partnerAgent, uid, i -> i.svids().stream().anyMatch(svid -> svid.spiffeId()
                        .equals(BILLING) && issuedBy(svid.chain(), newCa)));
                await("billing's source holds the new SVID", () -> issuedBy(billing.getX509Svid().getChain(),
                        newCa));
                int before = calls.get();
                await("calls after the rotation", () -> calls.get() > before + 5);
            } finally {
                calling.set(false);
                loop.get(30, TimeUnit.SECONDS);
                caller.shutdownNow();
            }
            assertEquals(List.of(), failures, "no handshake failed across the rotation (" + calls.get() + " calls)");
            assertTrue(calls.get() > 20, "calls made: " + calls.get());
        }
    }

    private static boolean issuedBy(List<X509Certificate> chain, X509Certificate ca) {
        return chain.get(chain.size() - 1).getIssuerX500Principal().equals(ca.getSubjectX500Principal())
                && java.util.Arrays.equals(authorityKeyId(chain.get(chain.size() - 1)), subjectKeyId(ca));
    }

    private static byte[] authorityKeyId(X509Certificate certificate) {
        byte[] ext = certificate.getExtensionValue("2.5.29.35");
        return ext == null ? new byte[0] : org.bouncycastle.asn1.x509.AuthorityKeyIdentifier.getInstance(
                org.bouncycastle.asn1.ASN1OctetString.getInstance(ext).getOctets()).getKeyIdentifier();
    }

    private static byte[] subjectKeyId(X509Certificate certificate) {
        byte[] ext = certificate.getExtensionValue("2.5.29.14");
        return ext == null ? new byte[0] : org.bouncycastle.asn1.x509.SubjectKeyIdentifier.getInstance(
                org.bouncycastle.asn1.ASN1OctetString.getInstance(ext).getOctets()).getKeyIdentifier();
    }

    private static WorkloadApiClient client(AgentRuntime agent) throws Exception {
        return DefaultWorkloadApiClient.newClient(DefaultWorkloadApiClient.ClientOptions.builder()
                .spiffeSocketPath("unix:" + agent.socketPath()).build());
    }

    private static void await(String what, java.util.concurrent.Callable<Boolean> condition) throws Exception {
        RuntimeTestSupport.await(what, WAIT, condition);
    }
}
