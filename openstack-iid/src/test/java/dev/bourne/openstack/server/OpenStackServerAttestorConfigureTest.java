package dev.bourne.openstack.server;

import static dev.bourne.openstack.server.OpenStackServerSettingsTest.DATA;
import static dev.bourne.openstack.server.OpenStackServerSettingsTest.credentialNova;
import static dev.bourne.openstack.server.OpenStackServerSettingsTest.data;
import static dev.bourne.openstack.server.OpenStackServerSettingsTest.error;
import static dev.bourne.openstack.server.OpenStackServerSettingsTest.passwordNova;
import static dev.bourne.openstack.server.OpenStackServerSettingsTest.plugin;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import dev.bourne.core.config.ConfigError;
import dev.bourne.core.config.ConfigResult;
import dev.bourne.openstack.server.IidTestSupport.FakeNova;
import dev.bourne.openstack.server.IidTestSupport.MemoryJtiLedger;
import dev.bourne.openstack.server.NovaServers.NovaServer;
import dev.bourne.testing.time.MutableClock;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link OpenStackServerAttestor#configure}: the composition root's path from plugin data to a working attestor, with
 * the JWK set file and the Nova secret file read, and every problem found reported at once with its key.
 */
class OpenStackServerAttestorConfigureTest {

    private final MutableClock clock = new MutableClock();
    private final MemoryJtiLedger ledger = new MemoryJtiLedger();
    private final FakeNova nova = new FakeNova();
    private final List<NovaSettings> novaSettings = new ArrayList<>();
    @TempDir
    Path dir;
    private Path jwks;

    @BeforeEach
    void writeJwks() throws Exception {
        jwks = IidTestSupport.writeJwks(dir, IidTestSupport.standardJwks());
    }

    private Path secret(String name, String text, String mode) throws Exception {
        Path file = dir.resolve(name);
        Files.write(file, text.getBytes(StandardCharsets.UTF_8));
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(mode));
        return file;
    }

    private ConfigResult<OpenStackServerAttestor> configure(Map<String, Object> data) {
        return OpenStackServerAttestor.configure(plugin(data), IidTestSupport.TD, ledger, settings -> {
            novaSettings.add(settings);
            return nova;
        }, clock);
    }

    @Test
    void configure_passwordNova_secretReadTrimmedAndTheAttestorChecksNova() throws Exception {
        Path password = secret("nova-password", "s3cret pass\n", "rw-------");

        OpenStackServerAttestor attestor = configure(data("jwks_file", jwks.toString(), "nova_check", true,
                "nova", passwordNova("password_file", password.toString(), "region", "RegionOne"))).orElseThrow();

        NovaSettings settings = novaSettings.get(0);
        NovaSettings.PasswordAuth auth = assertInstanceOf(NovaSettings.PasswordAuth.class, settings.auth());
        assertEquals("s3cret pass", auth.password().reveal());
        assertEquals("bourne", auth.username());
        assertEquals("Default", auth.userDomain());
        assertEquals("admin", auth.project());
        assertEquals(URI.create("https://keystone.example.org:5000/v3"), settings.identityUrl());
        assertEquals(Optional.of("RegionOne"), settings.region());
        assertFalse(settings.toString().contains("s3cret"), settings.toString());

        nova.servers.put(IidTestSupport.INSTANCE, new NovaServer(IidTestSupport.INSTANCE, "ACTIVE",
                IidTestSupport.PROJECT));
        String document = IidTestSupport.sign(IidTestSupport.EC256, "ES256", IidTestSupport.KID_EC256,
                IidTestSupport.claims(clock.instant()));
        assertEquals(IidTestSupport.INSTANCE, attestor.attest(IidTestSupport.bytes(document)).instanceId());
        assertEquals(1, nova.calls.get());
    }

    @Test
    void configure_applicationCredentialIn0640File_accepted() throws Exception {
        Path credential = secret("nova-credential", "credential-secret", "rw-r-----");

        configure(data("jwks_file", jwks.toString(), "nova_check", true, "nova",
                credentialNova("application_credential_secret_file", credential.toString()))).orElseThrow();

        NovaSettings.ApplicationCredentialAuth auth = assertInstanceOf(NovaSettings.ApplicationCredentialAuth.class,
                novaSettings.get(0).auth());
        assertEquals("21dced0fd20347869b93710d2b98aae0", auth.id());
        assertEquals("credential-secret", auth.secret().reveal());
    }

    @Test
    void configure_secretThroughASymlink_accepted() throws Exception {
        Path target = secret("real-password", "pw", "rw-------");
        Path link = Files.createSymbolicLink(dir.resolve("linked-password"), target);

        configure(data("jwks_file", jwks.toString(), "nova_check", true, "nova",
                passwordNova("password_file", link.toString()))).orElseThrow();

        assertEquals("pw", ((NovaSettings.PasswordAuth) novaSettings.get(0).auth()).password().reveal());
    }

    static Stream<Arguments> badSecretFiles() {
        return Stream.of(
                Arguments.of("pw", "rw-r--r--", String.format(SecretFiles.TOO_OPEN, "rw-r--r--")),
                Arguments.of("pw", "rw-rw----", String.format(SecretFiles.TOO_OPEN, "rw-rw----")),
                Arguments.of("pw", "rw-----w-", String.format(SecretFiles.TOO_OPEN, "rw-----w-")),
                Arguments.of("pw", "rw------x", String.format(SecretFiles.TOO_OPEN, "rw------x")),
                Arguments.of("", "rw-------", SecretFiles.EMPTY),
                Arguments.of("\n\r\n", "rw-------", SecretFiles.EMPTY),
                Arguments.of("x".repeat(SecretFiles.MAX_BYTES + 1), "rw-------", SecretFiles.TOO_LARGE),
                Arguments.of(null, null, SecretFiles.NO_SUCH_FILE));
    }

    @ParameterizedTest
    @MethodSource("badSecretFiles")
    void configure_badSecretFile_errorAtItsKey(String content, String mode, String reason) throws Exception {
        Path file = content == null ? dir.resolve("missing") : secret("password", content, mode);

        ConfigResult<OpenStackServerAttestor> result = configure(data("jwks_file", jwks.toString(), "nova_check",
                true, "nova", passwordNova("password_file", file.toString())));

        assertEquals(List.of(error("nova.password_file", reason)), result.errors());
        assertTrue(novaSettings.isEmpty(), "no Nova client for a configuration with errors");
    }

    @Test
    void configure_secretNotUtf8_error() throws Exception {
        Path file = dir.resolve("password");
        Files.write(file, new byte[] {(byte) 0xc3, (byte) 0x28});
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));

        ConfigResult<OpenStackServerAttestor> result = configure(data("jwks_file", jwks.toString(), "nova_check",
                true, "nova", credentialNova("application_credential_secret_file", file.toString())));

        assertEquals(List.of(error("nova.application_credential_secret_file", SecretFiles.NOT_UTF8)),
                result.errors());
    }

    @Test
    void configure_secretPathIsADirectory_error() throws Exception {
        Path directory = Files.createDirectory(dir.resolve("secrets"),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));

        ConfigResult<OpenStackServerAttestor> result = configure(data("jwks_file", jwks.toString(), "nova_check",
                true, "nova", passwordNova("password_file", directory.toString())));

        assertEquals(List.of(error("nova.password_file", SecretFiles.NOT_REGULAR)), result.errors());
    }

    @Test
    void configure_missingJwksFileAndOpenSecret_bothReported() throws Exception {
        Path password = secret("password", "pw", "rw-rw-rw-");

        ConfigResult<OpenStackServerAttestor> result = configure(data("jwks_file", dir.resolve("nope.json")
                .toString(), "nova_check", true, "nova", passwordNova("password_file", password.toString())));

        assertEquals(List.of(error("nova.password_file", String.format(SecretFiles.TOO_OPEN, "rw-rw-rw-")),
                error("jwks_file", "cannot be read: no such file")), result.errors());
    }

    @Test
    void configure_jwksFileHoldingAPrivateKey_error() throws Exception {
        ECKey leaked = new ECKey.Builder(Curve.P_256, (ECPublicKey) IidTestSupport.EC256.getPublic())
                .privateKey((ECPrivateKey) IidTestSupport.EC256.getPrivate()).keyID("leaked").build();
        Files.writeString(jwks, IidTestSupport.jwks(leaked));

        ConfigResult<OpenStackServerAttestor> result = configure(data("jwks_file", jwks.toString()));

        assertEquals(List.of(error("jwks_file", String.format(JwksSource.KEY_PRIVATE, 0))), result.errors());
    }

    @Test
    void configure_invalidSettings_noFileRead() {
        ConfigResult<OpenStackServerAttestor> result = configure(data("jwks_file", dir.resolve("nope.json")
                .toString(), "algorithms", List.of("HS256")));

        assertEquals(List.of(error("algorithms[0]", OpenStackServerSettings.ALGORITHM_FORBIDDEN)), result.errors());
    }

    @Test
    void configure_novaClientCannotBeBuilt_errorAtNova() throws Exception {
        Path password = secret("password", "pw", "rw-------");
        AtomicReference<NovaSettings> seen = new AtomicReference<>();

        ConfigResult<OpenStackServerAttestor> result = OpenStackServerAttestor.configure(plugin(data("jwks_file",
                jwks.toString(), "nova_check", true, "nova", passwordNova("password_file", password.toString()))),
                IidTestSupport.TD, ledger, settings -> {
                    seen.set(settings);
                    throw new IllegalArgumentException("ca_file holds no certificate");
                }, clock);

        assertEquals(List.of(new ConfigError("server.conf", DATA + ".nova",
                String.format(OpenStackServerAttestor.NOVA_CLIENT_FAILED, "ca_file holds no certificate"))),
                result.errors());
        assertTrue(seen.get() != null);
    }

    @Test
    void configure_withoutNovaCheck_factoryNeverCalled() throws Exception {
        OpenStackServerAttestor attestor = configure(data("jwks_file", jwks.toString(), "metadata_keys",
                List.of("role"))).orElseThrow();

        assertTrue(novaSettings.isEmpty());
        assertEquals(List.of("role"), attestor.settings().metadataKeys());
    }
}
