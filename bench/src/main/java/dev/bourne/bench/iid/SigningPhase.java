package dev.bourne.bench.iid;

import dev.bourne.bench.tpm.Throughput;
import dev.bourne.core.config.PluginConfig;
import dev.bourne.core.keymanager.KeyManager;
import dev.bourne.core.keymanager.KeyType;
import dev.bourne.keymanager.KeyManagers;
import dev.bourne.openstack.vendordata.IidSigner;
import dev.bourne.openstack.vendordata.IidSigningKeys;
import dev.bourne.openstack.vendordata.SignedIid;
import dev.bourne.openstack.vendordata.VendordataRequest;
import dev.bourne.testing.hsm.SoftHsmPool;
import dev.bourne.testing.hsm.SoftHsmToken;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The signing service's side, one thread: {@link IidSigner#sign} with its ES256 key on a SoftHSM2 token through the
 * {@code pkcs11} KeyManager (configured like the service's {@code KeyManager "pkcs11"} block, the key made by
 * {@link IidSigningKeys} as the service makes it), against the limit: bare SunPKCS11 {@code SHA256withECDSA} signatures
 * with a P-256 key of the same token (one reused, initialised {@link Signature}) over as many bytes as an IID's JWS
 * signing input. The token is leased from the test fixtures' pool as the CA benchmarks lease theirs.
 *
 * <p>The same signer serves the HTTPS measurements ({@link HttpsPhase}).
 */
final class SigningPhase implements AutoCloseable {
    static final String RAW_SIGN = "raw PKCS#11 ECDSA P-256 sign (SunPKCS11 SHA256withECDSA, SoftHSM2)";
    static final String SIGN = "IidSigner.sign (pkcs11 KeyManager, ES256, SoftHSM2)";

    static final List<ServerPhase.Limit> LIMITS = List.of(new ServerPhase.Limit(SIGN, List.of(RAW_SIGN)));

    private final Path dir;
    private final Clock clock = Clock.systemUTC();
    private final SecureRandom random = new SecureRandom();
    private SoftHsmToken token;
    private KeyManager keyManager;
    private IidSigningKeys keys;
    private IidSigner signer;
    private int signingInputBytes;

    /** @param scratch a directory for the service's data_dir (journal, key identifier); emptied by close */
    SigningPhase(Path scratch) {
        this.dir = scratch.resolve("vendordata");
    }

    /** Leases a token, opens the KeyManager and the signing keys, and signs (and checks) one document. */
    void start() throws Exception {
        Files.createDirectories(dir);
        token = SoftHsmPool.jvmPool().lease();
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("library", token.library().toString());
        data.put("token_label", token.label());
        data.put("pin_file", token.pinFile().toString());
        data.put("key_identifier_value", "bench-iid");
        keyManager = KeyManagers.open(new PluginConfig("bench", KeyManagers.PLUGIN_TYPE, "pkcs11", true, data), dir,
                random, clock);
        keys = IidSigningKeys.open(keyManager, dir, KeyType.EC_P256, Duration.ofHours(24), ServerPhase.DOCUMENT_TTL,
                clock);
        keys.rotateIfDue();
        signer = new IidSigner(keys, ServerPhase.ISSUER, List.of(ServerPhase.AUDIENCE), ServerPhase.DOCUMENT_TTL,
                clock, random);
        SignedIid sample = signer.sign(Documents.request());
        signingInputBytes = sample.jws().lastIndexOf('.');
        if (!sample.jws().startsWith("eyJ") || signingInputBytes < 0) {
            throw new IllegalStateException("the signer wrote no compact JWS");
        }
    }

    IidSigner signer() {
        return signer;
    }

    IidSigningKeys keys() {
        return keys;
    }

    KeyManager keyManager() {
        return keyManager;
    }

    /** Bytes of one document's JWS signing input (header and claims, base64url). */
    int signingInputBytes() {
        return signingInputBytes;
    }

    void addTo(Throughput throughput) throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC", token.provider());
        generator.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair raw = generator.generateKeyPair();
        Signature rawSigner = Signature.getInstance("SHA256withECDSA", token.provider());
        rawSigner.initSign(raw.getPrivate());
        byte[] message = new byte[signingInputBytes];
        random.nextBytes(message);
        throughput.add(RAW_SIGN, Throughput.timed(i -> {
            rawSigner.update(message);
            require(rawSigner.sign().length > 64, RAW_SIGN);
        }));
        VendordataRequest request = Documents.request();
        throughput.add(SIGN, Throughput.timed(i -> require(signer.sign(request).jws().length() > signingInputBytes,
                SIGN)));
    }

    private static void require(boolean ok, String what) {
        if (!ok) {
            throw new IllegalStateException(what + " failed during the benchmark");
        }
    }

    /** Closes the KeyManager, returns the token and deletes the data directory. */
    @Override
    public void close() throws IOException {
        if (keyManager != null) {
            keyManager.close();
            keyManager = null;
        }
        if (token != null) {
            SoftHsmPool.jvmPool().release(token);
            token = null;
        }
        if (Files.exists(dir)) {
            try (Stream<Path> files = Files.walk(dir)) {
                for (Path path : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(path);
                }
            }
        }
    }
}
