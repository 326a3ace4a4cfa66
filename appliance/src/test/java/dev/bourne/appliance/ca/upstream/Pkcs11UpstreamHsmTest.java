package dev.bourne.appliance.ca.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bourne.appliance.ca.CaManager;
import dev.bourne.appliance.ca.CaManagers;
import dev.bourne.appliance.ca.IssuedX509Svid;
import dev.bourne.appliance.ca.JwtSvidIssuer;
import dev.bourne.appliance.ca.X509SvidIssuer;
import dev.bourne.core.bundle.BundleSource;
import dev.bourne.core.config.ServerSettings;
import dev.bourne.core.svid.jwt.JwtSvidValidator;
import dev.bourne.core.svid.x509.X509SvidVerifier;
import dev.bourne.keymanager.pkcs11.Pkcs11KeyManager;
import dev.bourne.keymanager.pkcs11.Pkcs11Settings;
import dev.bourne.testing.hsm.Pkcs11Object;
import dev.bourne.testing.hsm.Pkcs11Tool;
import dev.bourne.testing.hsm.SoftHsmToken;
import dev.bourne.testing.hsm.WithSoftHsm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole CA on a SoftHSM2 token through the composition root's factory: the upstream root key and the CA and JWT
 * slot keys generated on the token (sensitive, never extractable), SVIDs that verify, and a restart with a new key
 * manager instance on the same token that keeps root and authorities.
 */
@WithSoftHsm
class Pkcs11UpstreamHsmTest {
    private static final SecureRandom RANDOM = new SecureRandom();

    private final SoftHsmToken token;

    @TempDir
    Path dir;

    Pkcs11UpstreamHsmTest(SoftHsmToken token) {
        this.token = token;
    }

    private Pkcs11KeyManager keyManager() {
        return new Pkcs11KeyManager(new Pkcs11Settings(token.library(), token.label(),
                new Pkcs11Settings.PinFile(token.pinFile()), new Pkcs11Settings.KeyIdentifierValue("upstream-test"),
                4), "upstream-test", Clock.systemUTC(), RANDOM);
    }

    private ServerSettings settings() throws Exception {
        Path data = dir.resolve("data");
        String text = "server {\n  trust_domain = \"example.org\"\n  data_dir = \"" + data + "\"\n}\n"
                + "plugins {\n"
                + "  DataStore \"sql\" {\n    plugin_data {\n      database_type = \"sqlite3\"\n"
                + "      connection_string = \"" + data.resolve("ds.sqlite3") + "\"\n    }\n  }\n"
                + "  KeyManager \"pkcs11\" {\n    plugin_data {}\n  }\n"
                + "  NodeAttestor \"join_token\" {\n    plugin_data {}\n  }\n"
                + "  UpstreamAuthority \"pkcs11\" {\n    plugin_data {\n      root_common_name = \"HSM Root\"\n"
                + "    }\n  }\n"
                + "}\n";
        return ServerSettings.load(Files.writeString(dir.resolve("server.conf"), text)).orElseThrow();
    }

    @Test
    void caUnderHsmRoot_issues_andSurvivesRestart() throws Exception {
        Clock clock = Clock.fixed(Instant.now(), ZoneOffset.UTC);
        ServerSettings settings = settings();
        String authorityId;
        String kid;
        List<java.security.cert.X509Certificate> roots;
        try (Pkcs11KeyManager keyManager = keyManager(); CaManager manager = CaManagers.start(settings, keyManager,
                clock, RANDOM)) {
            roots = manager.bundle().x509Authorities();
            assertEquals(1, roots.size());
            assertEquals("CN=HSM Root,O=SPIFFE", roots.get(0).getSubjectX500Principal().getName());
            authorityId = manager.activeX509Authority().authorityId();
            kid = manager.activeJwtAuthority().keyId();

            IssuedX509Svid svid = new X509SvidIssuer(settings.trustDomain(), clock, RANDOM).issue(
                    manager.activeX509Authority(), DiskUpstreamAuthorityTest.freshKey(),
                    DiskUpstreamAuthorityTest.WORKLOAD, List.of(), Duration.ofHours(1));
            new X509SvidVerifier(BundleSource.of(manager.bundle()), clock).verify(svid.chain());
            String token = new JwtSvidIssuer(settings.trustDomain(), clock).issue(manager.activeJwtAuthority(),
                    DiskUpstreamAuthorityTest.WORKLOAD, List.of("db"), Duration.ofMinutes(5), Optional.empty())
                    .token();
            new JwtSvidValidator(BundleSource.of(manager.bundle()), clock, Duration.ZERO, null).validate(token, "db");
        }

        List<Pkcs11Object> privateKeys = Pkcs11Tool.listObjects(this.token).stream()
                .filter(Pkcs11Object::isPrivateKey).toList();
        for (String id : List.of("upstream-root", CaManager.X509_SLOT_A, CaManager.JWT_SLOT_A)) {
            Pkcs11Object key = privateKeys.stream().filter(o -> o.label().equals("bourne:upstream-test:" + id))
                    .findFirst().orElseThrow(() -> new AssertionError("no private key for " + id + ": "
                            + privateKeys));
            assertTrue(key.sensitive() && key.neverExtractable() && key.local(), id + ": " + key.access());
        }

        try (Pkcs11KeyManager keyManager = keyManager(); CaManager manager = CaManagers.start(settings, keyManager,
                Clock.offset(clock, Duration.ofMinutes(10)), RANDOM)) {
            assertEquals(roots, manager.bundle().x509Authorities(), "same root after restart");
            assertEquals(authorityId, manager.activeX509Authority().authorityId());
            assertEquals(kid, manager.activeJwtAuthority().keyId());
        }
    }
}
