package dev.bourne.agent.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.nimbusds.jose.util.JSONObjectUtils;
import dev.bourne.appliance.admin.AdminServices;
import dev.bourne.appliance.agentapi.AgentAttestation;
import dev.bourne.appliance.cli.ServerCli;
import dev.bourne.appliance.datastore.AttestedNode;
import dev.bourne.appliance.datastore.RegistrationEntry;
import dev.bourne.appliance.health.ServerMetrics;
import dev.bourne.appliance.server.BourneServer;
import dev.bourne.core.config.AgentSettings;
import dev.bourne.core.selector.Selector;
import dev.bourne.core.spiffeid.SpiffeId;
import dev.bourne.openstack.server.OpenStackServerAttestor;
import dev.bourne.openstack.vendordata.VendordataServer;
import dev.bourne.openstack.vendordata.VendordataService;
import dev.bourne.openstack.vendordata.VendordataSettings;
import dev.bourne.testing.hsm.SoftHsmToken;
import dev.bourne.testing.hsm.WithSoftHsm;
import dev.bourne.testing.openstack.FakeNova;
import dev.bourne.testing.openstack.FakeOpenStackMetadata;
import dev.bourne.testing.pki.TestCa;
import dev.bourne.testing.pki.TestKeys;
import io.spiffe.svid.x509svid.X509Svid;
import io.spiffe.svid.x509svid.X509SvidValidator;
import io.spiffe.workloadapi.DefaultWorkloadApiClient;
import io.spiffe.workloadapi.WorkloadApiClient;
import io.spiffe.workloadapi.X509Context;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * OpenStack IID node attestation end to end (issue 6), every part real but Nova's metadata API: the IID signing service
 * ({@code bourne-vendordata}'s {@link VendordataService}, from its configuration file) signing with a key on a SoftHSM2
 * token through the pkcs11 KeyManager over HTTPS; the fake metadata service answering {@code vendor_data2.json} by
 * calling that service exactly as Nova's DynamicJSON vendordata does (Nova's request body, {@code X-Auth-Token}, the
 * answer under the target's name); the real Bourne server with {@code NodeAttestor "openstack_iid"} reading the
 * service's JWK set over HTTPS; the real agent runtime with {@code NodeAttestor "openstack_iid"}; java-spiffe over the
 * Workload API socket.
 *
 * <p>One server and one signing service serve the class; each test uses its own instance UUID (an attested instance
 * stays attested: trust on first use).
 */
@WithSoftHsm
class OpenStackEndToEndTest {
    private static final Logger LOG = LoggerFactory.getLogger(OpenStackEndToEndTest.class);
    private static final Duration SYNC = Duration.ofMillis(250);
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final Duration AGENT_TTL = Duration.ofMinutes(10);
    private static final String TOKEN = "9c1e6f0a7b3d4e5f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f";
    private static final String ISSUER = "https://localhost/iid";
    private static final String PROJECT = "039d104b7a5c4631b4ba6524d0b9e981";
    private static final String OTHER_PROJECT = "5e0c2b7f1d8a4c39a6b2e4f7d9c1a3b5";
    private static final String IMAGE = "b5a8c4c2-7e0f-4a0c-9a55-0f2f6c7d8e91";
    private static final SpiffeId SERVER_ID = SpiffeId.parse("spiffe://example.org/spire/server");
    private static final SpiffeId ALIAS = SpiffeId.parse("spiffe://example.org/node/openstack-web");
    private static final SpiffeId WORKLOAD = SpiffeId.parse("spiffe://example.org/workload/openstack");

    /** The signing service's TLS: a private CA, as an operator's would be, and a localhost certificate. */
    private static final TestCa IID_CA = TestCa.root("iid.test");
    private static final KeyPair IID_TLS_KEYS = TestKeys.ecP256(61);
    private static final X509Certificate IID_TLS_CERTIFICATE = IID_CA.leafSpec("spiffe://iid.test/vendordata",
            IID_TLS_KEYS.getPublic()).dnsNames("localhost").issue();

    @TempDir
    static Path dir;
    private static VendordataService vendordata;
    private static FakeOpenStackMetadata metadata;
    private static BourneServer server;
    private static int port;
    private static HttpClient nova;
    private static RuntimeTestSupport.StderrTee stderr;
    /** The instance the metadata service describes to the next caller (Nova's view of "this" instance). */
    private static final AtomicReference<Instance> current = new AtomicReference<>();

    @TempDir
    Path agentDir;
    private final List<AgentRuntime> agents = new ArrayList<>();

    /** What Nova knows about an instance and sends the vendordata service. */
    record Instance(String projectId, String instanceId, String hostname, Map<String, String> metadata) {
    }

    @BeforeAll
    static void start(SoftHsmToken token) throws Exception {
        stderr = RuntimeTestSupport.StderrTee.start();
        Path iid = Files.createDirectories(dir.resolve("vendordata"));
        writePem(iid.resolve("tls.crt"), "rw-r--r--", "CERTIFICATE", IID_TLS_CERTIFICATE.getEncoded(),
                IID_CA.certificate().getEncoded());
        writePem(iid.resolve("tls.key"), "rw-------", "PRIVATE KEY", IID_TLS_KEYS.getPrivate().getEncoded());
        writePem(dir.resolve("iid-ca.pem"), "rw-r--r--", "CERTIFICATE", IID_CA.certificate().getEncoded());
        Files.writeString(iid.resolve("token"), TOKEN + "\n");
        Files.setPosixFilePermissions(iid.resolve("token"), PosixFilePermissions.fromString("rw-------"));

        // The operator's configuration of the signing service, keys on the HSM token.
        Path conf = iid.resolve("vendordata.conf");
        int iidPort;
        try (java.net.ServerSocket free = new java.net.ServerSocket(0)) {
            iidPort = free.getLocalPort();
        }
        Files.writeString(conf, """
                vendordata {
                    bind_address = "127.0.0.1"
                    bind_port = %d
                    data_dir = "%s"
                    issuer = "%s"
                    audience = ["spiffe://example.org/spire/server"]
                    document_ttl = "5m"
                    tls_cert_file = "%s"
                    tls_key_file = "%s"
                    auth_token_file = "%s"
                }
                plugins {
                    KeyManager "pkcs11" {
                        plugin_data {
                            library = "%s"
                            token_label = "%s"
                            pin_file = "%s"
                            key_identifier_value = "vendordata-e2e"
                        }
                    }
                }
                """.formatted(iidPort, iid.resolve("data"), ISSUER, iid.resolve("tls.crt"), iid.resolve("tls.key"),
                iid.resolve("token"), token.library(), token.label(), token.pinFile()));
        vendordata = VendordataService.start(VendordataSettings.load(conf).orElseThrow(), conf, Clock.systemUTC(),
                new SecureRandom());
        nova = HttpClient.newBuilder().sslContext(trusting(IID_CA.certificate()))
                .connectTimeout(Duration.ofSeconds(5)).build();

        metadata = FakeOpenStackMetadata.start();
        metadata.vendorData2(OpenStackEndToEndTest::vendorData2);

        server = BourneServer.start(RuntimeTestSupport.serverSettings(dir.resolve("server"), AGENT_TTL, true, """
                NodeAttestor "openstack_iid" {
                    plugin_data {
                        issuer = "%s"
                        jwks_url = "https://localhost:%d%s"
                        jwks_ca_file = "%s"
                        projects = ["%s", "%s"]
                        metadata_keys = ["role"]
                    }
                }
                """.formatted(ISSUER, vendordata.port(), VendordataServer.JWKS_PATH, dir.resolve("iid-ca.pem"),
                PROJECT, "only-this-one-is-allowed"), 0), Clock.systemUTC(), new SecureRandom(),
                AdminServices::create);
        port = server.agentApiPort().orElseThrow();

        // Every ACTIVE web instance of the project is a node alias; the test's uid under it is the workload.
        server.dataStore().createEntry(RegistrationEntry.builder().spiffeId(ALIAS).parentId(SERVER_ID)
                .selectors(List.of(new Selector("openstack_iid", "project_id:" + PROJECT),
                        new Selector("openstack_iid", "meta:role:web"))).build());
        Selector uid = new Selector("unix", "uid:" + Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
        server.dataStore().createEntry(RegistrationEntry.builder().spiffeId(WORKLOAD).parentId(ALIAS)
                .selectors(List.of(uid)).build());
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
        if (metadata != null) {
            metadata.close();
        }
        if (vendordata != null) {
            vendordata.close();
        }
        stderr.close();
    }

    @AfterEach
    void stopAgents() {
        for (AgentRuntime agent : agents) {
            agent.close();
        }
    }

    private static void writePem(Path file, String mode, String type, byte[]... ders) throws Exception {
        StringBuilder pem = new StringBuilder();
        for (byte[] der : ders) {
            pem.append("-----BEGIN ").append(type).append("-----\n")
                    .append(Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der))
                    .append("\n-----END ").append(type).append("-----\n");
        }
        Files.writeString(file, pem);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(mode));
    }

    private static SSLContext trusting(X509Certificate ca) throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("ca", ca);
        TrustManagerFactory factory = TrustManagerFactory.getInstance("PKIX");
        factory.init(trust);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, factory.getTrustManagers(), new SecureRandom());
        return context;
    }

    /**
     * What Nova's metadata API serves as vendor_data2.json for the current instance: it POSTs the instance's facts to
     * each DynamicJSON target (here {@code bourne}) with its service token, and puts the answer under the target's
     * name, or {@code {}} when the target failed (nova/api/metadata/vendordata_dynamic.py).
     */
    private static String vendorData2() {
        Instance instance = current.get();
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("project-id", instance.projectId());
        body.put("instance-id", instance.instanceId());
        body.put("image-id", IMAGE);
        body.put("user-data", null);
        body.put("hostname", instance.hostname());
        body.put("metadata", new LinkedHashMap<>(instance.metadata()));
        body.put("boot-roles", "member,reader");
        Object answer = Map.of();
        try {
            HttpResponse<String> response = nova.send(HttpRequest.newBuilder(URI.create("https://localhost:"
                    + vendordata.port() + VendordataServer.IID_PATH))
                    .header("Content-Type", "application/json").header("Accept", "application/json")
                    .header("User-Agent", "openstack-nova-vendordata").header("X-Auth-Token", TOKEN)
                    .timeout(Duration.ofSeconds(10))
                    .POST(HttpRequest.BodyPublishers.ofString(JSONObjectUtils.toJSONString(body))).build(),
                    HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() == 200) {
                answer = JSONObjectUtils.parse(response.body());
            } else {
                LOG.warn("vendordata answered {}: {}", response.statusCode(), response.body());
            }
        } catch (Exception e) {
            LOG.warn("vendordata call failed", e);
        }
        Map<String, Object> document = new LinkedHashMap<>();
        document.put("bourne", answer);
        return JSONObjectUtils.toJSONString(document);
    }

    private static Instance instance(String projectId, String hostname) {
        return new Instance(projectId, java.util.UUID.randomUUID().toString(), hostname,
                Map.of("role", "web", "tier", "frontend"));
    }

    private static SpiffeId agentId(Instance instance) {
        return SpiffeId.parse("spiffe://example.org/spire/agent/openstack_iid/" + instance.projectId() + "/"
                + instance.instanceId());
    }

    private AgentRuntime startAgent(String name) throws Exception {
        return startAgent(name, server);
    }

    private AgentRuntime startAgent(String name, BourneServer target) throws Exception {
        Path home = Files.createDirectories(agentDir.resolve(name));
        AgentSettings settings = RuntimeTestSupport.agentSettings(target, target.agentApiPort().orElseThrow(), home,
                home.resolve("data"), """
                NodeAttestor "openstack_iid" {
                    plugin_data {
                        metadata_url = "%s"
                        timeout = "5s"
                    }
                }
                KeyManager "memory" { plugin_data {} }
                WorkloadAttestor "unix" { plugin_data {} }
                """.formatted(metadata.vendorData2Url()));
        AgentRuntime agent = AgentRuntime.start(settings, Optional.empty(), Clock.systemUTC(), new SecureRandom(),
                SYNC);
        agents.add(agent);
        return agent;
    }

    private static void await(String what, java.util.concurrent.Callable<Boolean> condition) throws Exception {
        RuntimeTestSupport.await(what, WAIT, condition);
    }

    private static long attestations(String result) {
        return RuntimeTestSupport.counter(server, ServerMetrics.ATTESTATIONS, "attestor=\"openstack_iid\"",
                "result=\"" + result + "\"");
    }

    private static int cli(String... args) {
        return RuntimeTestSupport.serverCli(dir.resolve("server"), args);
    }

    @Test
    void instance_attestsWithItsSignedDocument_workloadGetsItsSvidOverTheSocket() throws Exception {
        Instance instance = instance(PROJECT, "web-1");
        current.set(instance);
        long attested = attestations("success");
        int fetches = metadata.requestCount();

        AgentRuntime agent = startAgent("web-1");
        await("the agent is attested", () -> agent.status().attested());
        assertEquals(agentId(instance), agent.agentId().orElseThrow());
        assertEquals(attested + 1, attestations("success"));
        assertTrue(metadata.requestCount() > fetches, "the agent read vendor_data2.json");

        // The node's selectors come from the signed document; only the configured metadata key becomes a selector.
        AttestedNode node = server.dataStore().getNode(agentId(instance)).orElseThrow();
        assertEquals("openstack_iid", node.attestationDataType());
        assertEquals(Set.of(new Selector("openstack_iid", "project_id:" + PROJECT),
                new Selector("openstack_iid", "instance_id:" + instance.instanceId()),
                new Selector("openstack_iid", "image_id:" + IMAGE),
                new Selector("openstack_iid", "hostname:web-1"),
                new Selector("openstack_iid", "meta:role:web")), Set.copyOf(node.selectors()));

        // The workload on the node, through the Workload API socket with java-spiffe.
        Selector uid = new Selector("unix", "uid:" + Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
        java.util.concurrent.CompletableFuture<Boolean> svidReady = new java.util.concurrent.CompletableFuture<>();
        try (var watch = agent.cache().watch(List.of(uid), identity -> identity.filter(i -> i.svids().stream()
                .anyMatch(svid -> svid.spiffeId().equals(WORKLOAD))).ifPresent(i -> svidReady.complete(true)))) {
            svidReady.get(WAIT.toSeconds(), java.util.concurrent.TimeUnit.SECONDS);
        }
        try (WorkloadApiClient client = DefaultWorkloadApiClient.newClient(DefaultWorkloadApiClient.ClientOptions
                .builder().spiffeSocketPath("unix:" + agent.socketPath()).build())) {
            X509Context context = client.fetchX509Context();
            X509Svid svid = context.getDefaultSvid();
            assertEquals(WORKLOAD.toString(), svid.getSpiffeId().toString());
            X509SvidValidator.verifyChain(svid.getChain(), context.getX509BundleSet());
        }

        // The audit line records the document's jti and key, never the document.
        String log = stderr.auditLog();
        assertTrue(log.contains("node attestation succeeded: attestor=openstack_iid agent_id=" + agentId(instance)),
                log);
        assertTrue(log.contains("jti="), log);
        assertFalse(stderr.all().contains("eyJ"), "no JWS in any log line");
        assertFalse(stderr.all().contains(TOKEN), "no vendordata token in any log line");
    }

    @Test
    void attestedInstance_cannotAttestAgain_untilEvicted() throws Exception {
        Instance instance = instance(PROJECT, "web-2");
        current.set(instance);
        AgentRuntime first = startAgent("first");
        await("the first agent is attested", () -> first.status().attested());
        first.close();

        // Another agent on the same instance (a reinstalled node, or an attacker who got a fresh document for it):
        // trust on first use refuses it, even with a genuine, unused document.
        long refused = attestations("refused");
        AgentRuntime second = startAgent("second");
        await("the second agent is refused", () -> second.status().reason()
                .contains(AgentAttestation.ALREADY_ATTESTED));
        assertFalse(second.status().attested());
        assertTrue(attestations("refused") > refused);

        // The operator evicts the node: the next document attests it again.
        assertEquals(ServerCli.OK, cli("agent", "evict", "-spiffeID", agentId(instance).toString()));
        await("the second agent attests after the eviction", () -> second.status().attested());
        assertEquals(agentId(instance), second.agentId().orElseThrow());
    }

    @Test
    void replayedDocument_isRefused_evenAfterEviction() throws Exception {
        Instance instance = instance(PROJECT, "web-3");
        current.set(instance);
        String captured = vendorData2();
        metadata.vendorData2(() -> captured);
        try {
            AgentRuntime first = startAgent("replay-first");
            await("the first use attests", () -> first.status().attested());
            first.close();
            assertEquals(ServerCli.OK, cli("agent", "evict", "-spiffeID", agentId(instance).toString()));

            // The same document again (copied off the instance, or served from a cache): its jti is spent.
            AgentRuntime replay = startAgent("replay-second");
            await("the replay is refused", () -> replay.status().reason()
                    .contains(OpenStackServerAttestor.JTI_REUSED));
            assertFalse(replay.status().attested());
            assertTrue(server.dataStore().getNode(agentId(instance)).isEmpty());
        } finally {
            metadata.vendorData2(OpenStackEndToEndTest::vendorData2);
        }
    }

    @Test
    void instanceOfAProjectNotAllowed_isRefused() throws Exception {
        Instance instance = instance(OTHER_PROJECT, "db-1");
        current.set(instance);
        AgentRuntime agent = startAgent("other-project");
        await("the agent is refused", () -> agent.status().reason()
                .contains(OpenStackServerAttestor.PROJECT_NOT_ALLOWED));
        assertFalse(agent.status().attested());
        assertTrue(server.dataStore().getNode(agentId(instance)).isEmpty());
    }

    @Test
    void novaCheck_throughKeystone_attestsOnlyActiveInstancesOfTheirProject_andFailsClosed() throws Exception {
        Path serverDir = dir.resolve("nova-server");
        Files.createDirectories(serverDir);
        Path password = serverDir.resolve("nova-password");
        Files.writeString(password, FakeNova.PASSWORD + "\n");
        Files.setPosixFilePermissions(password, PosixFilePermissions.fromString("rw-------"));
        try (FakeNova nova = FakeNova.start()) {
            BourneServer checked = BourneServer.start(RuntimeTestSupport.serverSettings(serverDir, AGENT_TTL, true, """
                    NodeAttestor "openstack_iid" {
                        plugin_data {
                            issuer = "%s"
                            jwks_url = "https://localhost:%d%s"
                            jwks_ca_file = "%s"
                            projects = ["%s"]
                            nova_check = true
                            nova {
                                identity_url = "%s"
                                auth_method = "password"
                                username = "%s"
                                password_file = "%s"
                                project = "%s"
                                region = "RegionOne"
                            }
                        }
                    }
                    """.formatted(ISSUER, vendordata.port(), VendordataServer.JWKS_PATH, dir.resolve("iid-ca.pem"),
                    PROJECT, nova.identityUrl(), FakeNova.USER_NAME, password, FakeNova.PROJECT_NAME), 0),
                    Clock.systemUTC(), new SecureRandom(), AdminServices::create);
            try {
                // Nova knows the instance, ACTIVE, in its project: it attests.
                Instance active = instance(PROJECT, "nova-1");
                nova.putServer(FakeNova.Server.active(active.instanceId(), PROJECT));
                current.set(active);
                AgentRuntime first = startAgent("nova-active", checked);
                await("the ACTIVE instance attests", () -> first.status().attested());
                assertTrue(nova.serverRequestPaths().stream().anyMatch(path -> path.endsWith(active.instanceId())),
                        nova.serverRequestPaths().toString());
                first.close();

                // Deleted from Nova (its document was signed before): refused.
                Instance deleted = instance(PROJECT, "nova-2");
                current.set(deleted);
                AgentRuntime unknown = startAgent("nova-unknown", checked);
                await("the unknown instance is refused", () -> unknown.status().reason()
                        .contains(OpenStackServerAttestor.NOVA_UNKNOWN_INSTANCE));
                unknown.close();

                // Nova cannot answer: refused, never attested on the document alone.
                Instance outage = instance(PROJECT, "nova-3");
                nova.putServer(FakeNova.Server.active(outage.instanceId(), PROJECT));
                nova.failServersWith(503);
                current.set(outage);
                AgentRuntime failing = startAgent("nova-down", checked);
                // The agent is told to retry (UNAVAILABLE, no internal detail); the audit log says why.
                await("the instance is refused while Nova fails", () -> failing.status().reason()
                        .contains("UNAVAILABLE") && stderr.auditLog().contains("reason="
                        + OpenStackServerAttestor.NOVA_UNAVAILABLE));
                assertTrue(checked.dataStore().getNode(agentId(outage)).isEmpty());

                // Nova is back: the agent's next try attests, with a fresh document.
                nova.healthy();
                await("the instance attests once Nova answers", () -> failing.status().attested());
            } finally {
                checked.close();
            }
        }
        // The Nova password never reaches a log.
        assertFalse(stderr.all().contains(FakeNova.PASSWORD));
    }

    @Test
    void noDocument_whenTheSigningServiceRefusesNova_agentSaysWhy() throws Exception {
        // Nova authenticates with a wrong token: the service answers 401, Nova puts {} under the target's name.
        metadata.vendorData2(() -> "{\"bourne\": {}}");
        try {
            AgentRuntime agent = startAgent("no-document");
            await("the agent reports the missing document", () -> agent.status().reason().contains("bourne"));
            assertFalse(agent.status().attested());
        } finally {
            metadata.vendorData2(OpenStackEndToEndTest::vendorData2);
        }
    }
}
