package dev.bourne.bench.iid;

import dev.bourne.appliance.datastore.SqlDataStore;
import dev.bourne.appliance.server.DataStoreJtiLedger;
import dev.bourne.bench.tpm.Throughput;
import dev.bourne.core.config.ConfigResult;
import dev.bourne.core.config.PluginConfig;
import dev.bourne.core.keymanager.KeyManager;
import dev.bourne.core.keymanager.KeyType;
import dev.bourne.core.spiffeid.TrustDomain;
import dev.bourne.keymanager.KeyManagers;
import dev.bourne.openstack.common.OpenStackIid;
import dev.bourne.openstack.server.IidVerifier;
import dev.bourne.openstack.server.JtiLedger;
import dev.bourne.openstack.server.JwksSource;
import dev.bourne.openstack.server.OpenStackServerAttestor;
import dev.bourne.openstack.server.OpenStackServerAttestor.Attested;
import dev.bourne.openstack.server.OpenStackServerSettings;
import dev.bourne.openstack.vendordata.IidSigner;
import dev.bourne.openstack.vendordata.IidSigningKeys;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.Provider;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.bouncycastle.jce.provider.BouncyCastleProvider;

/**
 * The server's side of OpenStack IID attestation, one thread: the real {@link OpenStackServerAttestor} (built by
 * {@link OpenStackServerAttestor#configure} from a {@code plugin_data} block naming a JWK set file) over documents
 * pre-signed with a P-256 key ({@link Documents}), with its jti ledger the server's SQLite datastore
 * ({@link SqlDataStore#openSqlite}, WAL, synchronous FULL, through {@link DataStoreJtiLedger}) and, to show the
 * datastore's share, an in-memory ledger; beside the limit, a bare BouncyCastle ES256 verification of the same
 * signatures (the provider IidVerifier uses for ECDSA), and for comparison the JDK's SunEC.
 *
 * <p>The documents are signed by {@link IidSigner} with the {@code memory} KeyManager (a JCA key): the server never
 * sees the signing service's key store, only its JWK set, written to a file as the service publishes it.
 */
final class ServerPhase implements AutoCloseable {
    static final String RAW_VERIFY_SUNEC = "for comparison: raw ES256 verify, JDK SunEC";
    static final String RAW_VERIFY = "raw ES256 verify (BouncyCastle SHA256withECDSA, key reused)";
    static final String RAW_VERIFY_BC_NEW_KEY = "for comparison: raw ES256 verify, BouncyCastle, key made per call";
    static final String VERIFY = "IidVerifier.verify (JWS parse, header checks, kid lookup, ES256, claims)";
    static final String ATTEST_MEMORY = "attest, jti ledger in memory";
    static final String ATTEST_SQLITE = "attest, jti ledger in SQLite (DataStoreJtiLedger)";
    static final String LEDGER_SQLITE = "jti ledger alone: DataStoreJtiLedger.consume (SQLite)";

    static final String TRUST_DOMAIN = "bench.example.org";
    static final String ISSUER = "https://vendordata.bench.example.org";
    static final String AUDIENCE = "spiffe://" + TRUST_DOMAIN + "/spire/server";
    static final Duration DOCUMENT_TTL = Duration.ofMinutes(5);
    /** Documents signed at once (about 0.1-0.3 s of signing, outside every timed part). */
    static final int BATCH = 2048;

    /** A measurement's limit: the operations whose times, summed, are the least it could cost. */
    record Limit(String measurement, List<String> limitOperations) {
    }

    static final List<Limit> LIMITS = List.of(
            new Limit(VERIFY, List.of(RAW_VERIFY)),
            new Limit(ATTEST_MEMORY, List.of(RAW_VERIFY)),
            new Limit(ATTEST_SQLITE, List.of(RAW_VERIFY)),
            new Limit(ATTEST_SQLITE, List.of(RAW_VERIFY, LEDGER_SQLITE)),
            // The datastore's share: 1 - this ratio is the fraction of an attestation spent in the SQLite ledger.
            new Limit(ATTEST_SQLITE, List.of(ATTEST_MEMORY)),
            // Not limits of Bourne's code: what the key object reuse and the provider choice are worth.
            new Limit(RAW_VERIFY_BC_NEW_KEY, List.of(RAW_VERIFY)),
            new Limit(RAW_VERIFY_SUNEC, List.of(RAW_VERIFY)));

    private final Path dir;
    private final SecureRandom random = new SecureRandom();
    private final Clock clock = Clock.systemUTC();
    private KeyManager keyManager;
    private SqlDataStore datastore;
    private Documents documents;

    /** @param scratch a directory for the JWK set file, the signer's journal and the datastore; emptied by close */
    ServerPhase(Path scratch) {
        this.dir = scratch.resolve("server");
    }

    /** Every measurement, each checked once (a document must attest, a replay must not), ready to run. */
    void addTo(Throughput throughput) throws Exception {
        Files.createDirectories(dir);
        Path signerDir = Files.createDirectories(dir.resolve("signer"));
        keyManager = KeyManagers.open(new PluginConfig("bench", KeyManagers.PLUGIN_TYPE, "memory", true, Map.of()),
                signerDir, random, clock);
        IidSigningKeys keys = IidSigningKeys.open(keyManager, signerDir, KeyType.EC_P256, Duration.ofHours(24),
                DOCUMENT_TTL, clock);
        Path jwksFile = dir.resolve("jwks.json");
        Files.writeString(jwksFile, keys.publicKeys().toString(true));
        IidSigner signer = new IidSigner(keys, ISSUER, List.of(AUDIENCE), DOCUMENT_TTL, clock, random);
        documents = new Documents(signer, DOCUMENT_TTL, clock, BATCH);

        Files.createDirectories(dir.resolve("datastore"));
        datastore = SqlDataStore.openSqlite(dir.resolve("datastore").resolve(SqlDataStore.SQLITE_FILE_NAME), clock,
                random);
        JtiLedger sqliteLedger = new DataStoreJtiLedger(datastore);
        OpenStackServerAttestor sqlite = configure(jwksFile, sqliteLedger);
        OpenStackServerAttestor memory = configure(jwksFile, new MemoryJtiLedger());
        OpenStackServerSettings settings = sqlite.settings();
        IidVerifier verifier = IidVerifier.of(settings, JwksSource.file(jwksFile, settings.algorithms(),
                settings.jwksRefresh(), settings.jwksMinRefresh(), clock), clock);

        // The limit: the same signatures over the same bytes on BouncyCastle (a provider object, never installed, as
        // IidVerifier uses it), one initialised Signature, the key made once: BouncyCastle precomputes tables for a
        // public point on its first verification and keeps them with the key object.
        PublicKey publicKey = KeyFactory.getInstance("EC").generatePublic(new X509EncodedKeySpec(
                keys.activeKey().publicJwk().toECKey().toECPublicKey().getEncoded()));
        Provider bouncyCastle = new BouncyCastleProvider();
        KeyFactory bcKeys = KeyFactory.getInstance("EC", bouncyCastle);
        byte[] encodedKey = publicKey.getEncoded();
        Signature bc = Signature.getInstance("SHA256withECDSA", bouncyCastle);
        bc.initVerify(bcKeys.generatePublic(new X509EncodedKeySpec(encodedKey)));
        throughput.add(RAW_VERIFY, Throughput.timed(i -> {
            bc.update(documents.signingInput(i));
            require(bc.verify(documents.derSignature(i)), RAW_VERIFY);
        }));
        // For comparison, the JDK's own provider (what nimbus uses unless told otherwise).
        Signature sunEc = Signature.getInstance("SHA256withECDSA");
        sunEc.initVerify(publicKey);
        throughput.add(RAW_VERIFY_SUNEC, Throughput.timed(i -> {
            sunEc.update(documents.signingInput(i));
            require(sunEc.verify(documents.derSignature(i)), RAW_VERIFY_SUNEC);
        }));
        throughput.add(RAW_VERIFY_BC_NEW_KEY, Throughput.timed(i -> {
            Signature fresh = Signature.getInstance("SHA256withECDSA", bouncyCastle);
            fresh.initVerify(bcKeys.generatePublic(new X509EncodedKeySpec(encodedKey)));
            fresh.update(documents.signingInput(i));
            require(fresh.verify(documents.derSignature(i)), RAW_VERIFY_BC_NEW_KEY);
        }));
        // Verification alone does not consume the jti: the first batch is reused.
        byte[][] firstBatch = new byte[BATCH][];
        for (int i = 0; i < BATCH; i++) {
            firstBatch[i] = documents.next();
        }
        throughput.add(VERIFY, Throughput.timed(i -> require(
                verifier.verify(firstBatch[i % BATCH]).claims().instanceId().equals(Documents.INSTANCE), VERIFY)));
        throughput.add(ATTEST_MEMORY, attest(memory));
        throughput.add(ATTEST_SQLITE, attest(sqlite));
        Base64.Encoder jtis = Base64.getUrlEncoder().withoutPadding();
        throughput.add(LEDGER_SQLITE, i -> {
            byte[] bytes = new byte[16];
            random.nextBytes(bytes);
            String jti = jtis.encodeToString(bytes);
            Instant expires = clock.instant().plus(DOCUMENT_TTL);
            long t0 = System.nanoTime();
            boolean first = sqliteLedger.consume(ISSUER, jti, expires);
            long elapsed = System.nanoTime() - t0;
            require(first, LEDGER_SQLITE);
            return elapsed;
        });

        // Checked once before measuring: a document attests through both ledgers, its replay is refused.
        byte[] document = documents.next();
        sqlite.attest(document);
        try {
            sqlite.attest(document);
            throw new IllegalStateException("a replayed document was accepted");
        } catch (dev.bourne.openstack.server.IidAttestationException e) {
            require(e.getMessage().equals(OpenStackServerAttestor.JTI_REUSED), "the replay check");
        }
    }

    /** Documents signed so far (for the report). */
    long documentsSigned() {
        return documents == null ? 0 : documents.signed();
    }

    private Throughput.Op attest(OpenStackServerAttestor attestor) {
        return i -> {
            byte[] document = documents.next();
            long t0 = System.nanoTime();
            Attested attested = attestor.attest(document);
            long elapsed = System.nanoTime() - t0;
            require(attested.instanceId().equals(Documents.INSTANCE) && attested.selectorValues().size() == 5,
                    "attestation");
            return elapsed;
        };
    }

    private OpenStackServerAttestor configure(Path jwksFile, JtiLedger ledger) {
        Map<String, Object> data = new LinkedHashMap<>();
        data.put(OpenStackServerSettings.ISSUER, ISSUER);
        data.put(OpenStackServerSettings.JWKS_FILE, jwksFile.toString());
        data.put(OpenStackServerSettings.PROJECTS, List.of(Documents.PROJECT, "0123456789abcdef0123456789abcdef"));
        data.put(OpenStackServerSettings.METADATA_KEYS, List.of("role"));
        PluginConfig plugin = new PluginConfig("bench", "NodeAttestor", OpenStackIid.PLUGIN_NAME, true, data);
        ConfigResult<OpenStackServerAttestor> result = OpenStackServerAttestor.configure(plugin,
                TrustDomain.parse(TRUST_DOMAIN), ledger, nova -> {
                    throw new IllegalStateException("nova_check is off in the benchmark");
                }, clock);
        if (!(result instanceof ConfigResult.Valid<OpenStackServerAttestor> valid)) {
            throw new IllegalStateException("the benchmark's openstack_iid configuration is refused: "
                    + result.errors());
        }
        return valid.settings();
    }

    private static void require(boolean ok, String what) {
        if (!ok) {
            throw new IllegalStateException(what + " failed during the benchmark");
        }
    }

    /** Closes the datastore and the key manager and deletes every file the phase wrote. */
    @Override
    public void close() throws IOException {
        if (datastore != null) {
            datastore.close();
            datastore = null;
        }
        if (keyManager != null) {
            keyManager.close();
            keyManager = null;
        }
        if (Files.exists(dir)) {
            try (Stream<Path> files = Files.walk(dir)) {
                for (Path path : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(path);
                }
            }
        }
    }

    /** A jti ledger in a map: what the attestation costs without a database. */
    static final class MemoryJtiLedger implements JtiLedger {
        private final Map<String, Instant> used = new ConcurrentHashMap<>();

        @Override
        public boolean consume(String issuer, String jti, Instant expiresAt) {
            return used.putIfAbsent(issuer + "\n" + jti, expiresAt) == null;
        }
    }
}
