package dev.bourne.bench;

import dev.bourne.appliance.ca.CaManager;
import dev.bourne.appliance.ca.CaOptions;
import dev.bourne.appliance.ca.journal.FileCaJournal;
import dev.bourne.core.config.PluginConfig;
import dev.bourne.core.keymanager.KeyManager;
import dev.bourne.core.keymanager.KeyType;
import dev.bourne.core.spiffeid.TrustDomain;
import dev.bourne.keymanager.KeyManagers;
import dev.bourne.testing.hsm.SoftHsmToken;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.Comparator;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Bourne's CA as the server runs it, on a SoftHSM2 token: the {@code pkcs11} key manager (configured like a server's
 * plugin block) and a started {@link CaManager} with self-signed X.509 and JWT authorities of one key type.
 */
final class HsmCa implements AutoCloseable {
    static final TrustDomain TRUST_DOMAIN = TrustDomain.parse("bench.example.org");

    final SoftHsmToken token;
    final KeyManager keyManager;
    final CaManager ca;
    private final Path dataDir;

    private HsmCa(SoftHsmToken token, KeyManager keyManager, CaManager ca, Path dataDir) {
        this.token = token;
        this.keyManager = keyManager;
        this.ca = ca;
        this.dataDir = dataDir;
    }

    static HsmCa start(KeyType keyType) throws Exception {
        SoftHsmToken token = HsmToken.lease();
        Path dataDir = Files.createTempDirectory("bourne-bench-ca");
        PluginConfig plugin = new PluginConfig("bench", KeyManagers.PLUGIN_TYPE, "pkcs11", true, Map.of(
                "library", token.library().toString(),
                "token_label", token.label(),
                "pin_file", token.pinFile().toString(),
                "key_identifier_value", "bench"));
        SecureRandom random = new SecureRandom();
        KeyManager keyManager = KeyManagers.open(plugin, dataDir, random, Clock.systemUTC());
        CaOptions options = new CaOptions(TRUST_DOMAIN, Duration.ofHours(24), keyType, keyType, Optional.empty(),
                CaOptions.DEFAULT_REFRESH_HINT, Duration.ofHours(1), Duration.ofMinutes(5));
        CaManager ca = CaManager.start(options, keyManager, Optional.empty(), FileCaJournal.inDataDir(dataDir),
                Clock.systemUTC(), random);
        return new HsmCa(token, keyManager, ca, dataDir);
    }

    @Override
    public void close() throws IOException {
        ca.close();
        keyManager.close();
        HsmToken.release(token);
        try (Stream<Path> files = Files.walk(dataDir)) {
            for (Path path : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        }
    }
}
