package dev.bourne.openstack.vendordata;

import static dev.bourne.openstack.vendordata.VendordataTestSupport.AUDIENCE;
import static dev.bourne.openstack.vendordata.VendordataTestSupport.HOSTNAME;
import static dev.bourne.openstack.vendordata.VendordataTestSupport.IMAGE;
import static dev.bourne.openstack.vendordata.VendordataTestSupport.INSTANCE;
import static dev.bourne.openstack.vendordata.VendordataTestSupport.ISSUER;
import static dev.bourne.openstack.vendordata.VendordataTestSupport.PROJECT;
import static dev.bourne.openstack.vendordata.VendordataTestSupport.TOKEN;
import static dev.bourne.openstack.vendordata.VendordataTestSupport.data;
import static dev.bourne.openstack.vendordata.VendordataTestSupport.json;
import static dev.bourne.openstack.vendordata.VendordataTestSupport.novaBody;
import static dev.bourne.openstack.vendordata.VendordataTestSupport.post;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.bourne.core.config.PluginConfig;
import dev.bourne.core.keymanager.KeyManager;
import dev.bourne.core.keymanager.KeyType;
import dev.bourne.core.spiffeid.TrustDomain;
import dev.bourne.keymanager.KeyManagers;
import dev.bourne.openstack.server.IidAttestationException;
import dev.bourne.openstack.server.JtiLedger;
import dev.bourne.openstack.server.OpenStackServerAttestor;
import dev.bourne.testing.hsm.SoftHsmToken;
import dev.bourne.testing.hsm.WithSoftHsm;
import dev.bourne.testing.time.MutableClock;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Both halves together: the signing service signs on SoftHSM2 and publishes its keys over HTTPS; the server's attestor,
 * configured as an operator would ({@code jwks_url} on the service, {@code jwks_ca_file} its CA), fetches the keys
 * and admits the document once.
 */
@WithSoftHsm
class SignedIidVerifiedByServerTest {
    private static final Duration TTL = Duration.ofMinutes(5);

    private final SoftHsmToken token;
    private final MutableClock clock = new MutableClock();
    private final List<AutoCloseable> opened = new ArrayList<>();
    @TempDir
    Path dataDir;

    SignedIidVerifiedByServerTest(SoftHsmToken token) {
        this.token = token;
    }

    @AfterEach
    void close() throws Exception {
        for (int i = opened.size() - 1; i >= 0; i--) {
            opened.get(i).close();
        }
    }

    private VendordataServer start(KeyType keyType) throws Exception {
        KeyManager keyManager = KeyManagers.open(VendordataTestSupport.pkcs11(token, "iid-" + keyType.configName()),
                dataDir, new SecureRandom(), clock);
        opened.add(keyManager);
        IidSigningKeys keys = IidSigningKeys.open(keyManager, dataDir, keyType, Duration.ofHours(24), TTL, clock);
        IidSigner signer = new IidSigner(keys, ISSUER, List.of(AUDIENCE), TTL, clock, new SecureRandom());
        VendordataServer server = VendordataServer.start(new InetSocketAddress(InetAddress.getByName("localhost"), 0),
                VendordataTestSupport.serverTls(false), CallerAuthenticator.of(Optional.of(TOKEN), false), signer,
                keys, keyManager::status, line -> { });
        opened.add(server);
        return server;
    }

    @ParameterizedTest
    @EnumSource(value = KeyType.class, names = {"EC_P256", "EC_P384", "RSA_2048"})
    void signedOnTheHsm_attestedOnceByTheServer(KeyType keyType) throws Exception {
        VendordataServer service = start(keyType);
        String jws = data(post(VendordataTestSupport.client(), service.port(), json(novaBody()), Optional.of(TOKEN)));

        Map<String, Object> pluginData = new LinkedHashMap<>();
        pluginData.put("issuer", ISSUER);
        pluginData.put("jwks_url", "https://localhost:" + service.port() + VendordataServer.JWKS_PATH);
        pluginData.put("jwks_ca_file", VendordataTestSupport.writeCertificates(dataDir.resolve("vendordata-ca.pem"),
                VendordataTestSupport.SERVER_CA.certificate()).toString());
        pluginData.put("projects", List.of(PROJECT));
        pluginData.put("metadata_keys", List.of("tier"));
        Map<String, Boolean> used = new ConcurrentHashMap<>();
        JtiLedger ledger = (issuer, jti, expiresAt) -> used.putIfAbsent(issuer + " " + jti, true) == null;
        OpenStackServerAttestor attestor = OpenStackServerAttestor.configure(
                new PluginConfig("server.conf", "NodeAttestor", "openstack_iid", true, pluginData),
                TrustDomain.parse("example.org"), ledger, settings -> {
                    throw new AssertionError("no Nova check configured");
                }, clock).orElseThrow();

        OpenStackServerAttestor.Attested attested = attestor.attest(jws.getBytes(StandardCharsets.UTF_8));

        assertEquals(PROJECT, attested.projectId());
        assertEquals(INSTANCE, attested.instanceId());
        assertEquals(List.of("project_id:" + PROJECT, "instance_id:" + INSTANCE, "image_id:" + IMAGE,
                "hostname:" + HOSTNAME, "meta:tier:frontend"), attested.selectorValues());
        IidAttestationException replay = assertThrows(IidAttestationException.class,
                () -> attestor.attest(jws.getBytes(StandardCharsets.UTF_8)));
        assertEquals(OpenStackServerAttestor.JTI_REUSED, replay.getMessage());
    }
}
