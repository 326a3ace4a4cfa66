package dev.bourne.bench.tpm;

import dev.bourne.api.tpm.v1.TpmAttestationPayload;
import dev.bourne.api.tpm.v1.TpmQuote;
import dev.bourne.api.tpm.v1.TpmRenewalChallenge;
import dev.bourne.api.tpm.v1.TpmRenewalEvidence;
import dev.bourne.appliance.datastore.SqlDataStore;
import dev.bourne.appliance.server.DataStoreTpmEnrollments;
import dev.bourne.core.config.PluginConfig;
import dev.bourne.tpm.agent.AkType;
import dev.bourne.tpm.common.PcrSelection;
import dev.bourne.tpm.common.QuoteVerifier;
import dev.bourne.tpm.common.TpmHashAlg;
import dev.bourne.tpm.common.TpmPublic;
import dev.bourne.tpm.server.EkCaStore;
import dev.bourne.tpm.server.TpmEnrollment;
import dev.bourne.tpm.server.TpmEnrollments;
import dev.bourne.tpm.server.TpmServerAttestor;
import dev.bourne.tpm.server.TpmServerAttestor.Attested;
import dev.bourne.tpm.server.TpmServerAttestor.Pending;
import dev.bourne.tpm.server.TpmServerSettings;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Provider;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECParameterSpec;
import java.security.spec.ECPoint;
import java.security.spec.ECPublicKeySpec;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.MGF1ParameterSpec;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Stream;
import javax.crypto.Cipher;
import javax.crypto.spec.OAEPParameterSpec;
import javax.crypto.spec.PSource;
import org.bouncycastle.jce.provider.BouncyCastleProvider;

/**
 * The server's side of TPM attestation with the TPM out of the loop: the real {@link TpmServerAttestor} and
 * {@link QuoteVerifier} over evidence recorded from swtpm ({@link SwtpmPhase}), beside the raw cryptographic
 * operations they cannot avoid, measured in the same rounds ({@link Throughput}).
 *
 * <p>Configuration measured: the server's defaults (sha256 bank, PCRs 0-7, 30 s challenges) plus four named PCR
 * policies of PCRs 0-7, one matching swtpm's values (so every attestation evaluates all four and matches one, as a
 * fleet with a few approved boot states would); the enrolment (labels {@code rack}, {@code role}) comes from an
 * in-memory map, and for one measurement from the server's real SQLite datastore ({@link DataStoreTpmEnrollments}).
 */
final class ServerPhase implements AutoCloseable {
    static final String RAW_RSA_VERIFY = "raw RSA-2048 verify (JDK SHA256withRSA)";
    static final String RAW_ECDSA_VERIFY = "raw ECDSA P-256 verify (BouncyCastle SHA256withECDSA)";
    static final String RAW_ECDSA_VERIFY_NEW_KEY = "raw ECDSA P-256 verify, key made per call (BouncyCastle)";
    static final String RAW_OAEP = "raw RSA-2048 OAEP encrypt (JDK, SHA-256, label IDENTITY)";
    static final String QUOTE_ECC = "quote verification (QuoteVerifier), ECC P-256 AK";
    static final String QUOTE_RSA = "quote verification (QuoteVerifier), RSA-2048 AK";
    static final String QUOTE_ECC_PARSED = "quote verification with the AK parsed per call (TpmPublic.parse, "
            + "BouncyCastle key made), ECC P-256 AK";
    static final String BEGIN_ECC = "begin (payload, EK trust enrolled, AK check, MakeCredential), ECC P-256 AK";
    static final String FINISH_ECC = "finish (secret, quote, 4 PCR policies), ECC P-256 AK";
    static final String FULL_ENROLLED_ECC = "full attestation (begin + finish), ek_trust enrolled, ECC P-256 AK";
    static final String FULL_CA_ECC = "full attestation, ek_trust ca (vendor CAs + swtpm CA), ECC P-256 AK";
    static final String FULL_SQLITE_ECC = "full attestation, ek_trust enrolled, enrolment read from SQLite "
            + "(DataStoreTpmEnrollments), ECC P-256 AK";
    static final String FULL_ENROLLED_RSA = "full attestation, ek_trust enrolled, RSA-2048 AK";
    static final String RENEWAL_ECC = "renewal verification (continuous attestation), ECC P-256 AK";
    static final String RENEWAL_RSA = "renewal verification (continuous attestation), RSA-2048 AK";

    /** The policy that matches swtpm's PCRs; three others do not. */
    static final String GOLDEN = "bench-golden";
    private static final byte[] IDENTITY = "IDENTITY\0".getBytes(StandardCharsets.US_ASCII);
    /** A BouncyCastle provider as QuoteVerifier uses one: an object, never installed. */
    private final Provider bouncyCastle = new BouncyCastleProvider();
    private final SecureRandom random = new SecureRandom();

    /** A measurement's limit: the raw operations whose times, summed, are the least it could cost. */
    record Limit(String measurement, List<String> rawOperations) {
    }

    /** Every ratio reported: the measurement's rate over the rate of its limit. */
    static final List<Limit> LIMITS = List.of(
            new Limit(QUOTE_ECC, List.of(RAW_ECDSA_VERIFY)),
            new Limit(QUOTE_RSA, List.of(RAW_RSA_VERIFY)),
            new Limit(QUOTE_ECC_PARSED, List.of(RAW_ECDSA_VERIFY_NEW_KEY)),
            // Renewals keep the bound AK parsed (TpmServerAttestor.PARSED_AK_CACHE): the key is reused, as in RAW_ECDSA_VERIFY.
            new Limit(RENEWAL_ECC, List.of(RAW_ECDSA_VERIFY)),
            new Limit(RENEWAL_RSA, List.of(RAW_RSA_VERIFY)),
            new Limit(BEGIN_ECC, List.of(RAW_OAEP)),
            new Limit(FINISH_ECC, List.of(RAW_ECDSA_VERIFY_NEW_KEY)),
            new Limit(FULL_ENROLLED_ECC, List.of(RAW_OAEP, RAW_ECDSA_VERIFY_NEW_KEY)),
            new Limit(FULL_CA_ECC, List.of(RAW_OAEP, RAW_ECDSA_VERIFY_NEW_KEY)),
            new Limit(FULL_SQLITE_ECC, List.of(RAW_OAEP, RAW_ECDSA_VERIFY_NEW_KEY)),
            new Limit(FULL_ENROLLED_RSA, List.of(RAW_OAEP, RAW_RSA_VERIFY)));

    private final Map<AkType, Recording> recordings;
    private final List<X509Certificate> ekCas;
    private final String ekCaPath;
    private final Path datastoreDir;
    private SqlDataStore datastore;

    /**
     * @param recordings what {@link SwtpmPhase} recorded, for both AK types
     * @param ekCas the manufacturer CA certificates for {@code ek_trust = "ca"}: the vendor store plus swtpm's CA
     * @param ekCaPath the vendor store's path, for the configuration (the certificates are passed already read)
     * @param scratch a directory for the SQLite datastore, removed by {@link #close()}
     */
    ServerPhase(Map<AkType, Recording> recordings, List<X509Certificate> ekCas, String ekCaPath, Path scratch) {
        this.recordings = recordings;
        this.ekCas = List.copyOf(ekCas);
        this.ekCaPath = ekCaPath;
        this.datastoreDir = scratch.resolve("datastore");
    }

    /** Closes the SQLite datastore and deletes its files. */
    @Override
    public void close() throws IOException {
        if (datastore != null) {
            datastore.close();
            datastore = null;
        }
        if (Files.isDirectory(datastoreDir)) {
            try (Stream<Path> files = Files.list(datastoreDir)) {
                for (Path file : files.toList()) {
                    Files.delete(file);
                }
            }
            Files.delete(datastoreDir);
        }
    }

    /** Every measurement, checked once (each must succeed as measured), ready to run. */
    Throughput measurements() throws Exception {
        Recording ecc = recordings.get(AkType.ECC_P256);
        Recording rsa = recordings.get(AkType.RSA_2048);
        Throughput throughput = new Throughput();

        // The limits.
        Quotes eccQuotes = new Quotes(ecc);
        Quotes rsaQuotes = new Quotes(rsa);
        KeyPair rsaKey = generate("RSA", null, 2048);
        Signature rsaSigner = Signature.getInstance("SHA256withRSA");
        rsaSigner.initSign(rsaKey.getPrivate());
        byte[] rsaMessage = rsaQuotes.attest.get(0);
        rsaSigner.update(rsaMessage);
        byte[] rsaSignature = rsaSigner.sign();
        Signature rsaVerifier = Signature.getInstance("SHA256withRSA");
        rsaVerifier.initVerify(rsaKey.getPublic());
        throughput.add(RAW_RSA_VERIFY, Throughput.timed(i -> {
            rsaVerifier.update(rsaMessage);
            require(rsaVerifier.verify(rsaSignature), RAW_RSA_VERIFY);
        }));
        KeyPair ecKey = generate("EC", bouncyCastle, 0);
        Signature ecSigner = Signature.getInstance("SHA256withECDSA", bouncyCastle);
        ecSigner.initSign(ecKey.getPrivate());
        byte[] ecMessage = eccQuotes.attest.get(0);
        ecSigner.update(ecMessage);
        byte[] ecSignature = ecSigner.sign();
        Signature ecVerifier = Signature.getInstance("SHA256withECDSA", bouncyCastle);
        ecVerifier.initVerify(ecKey.getPublic());
        throughput.add(RAW_ECDSA_VERIFY, Throughput.timed(i -> {
            ecVerifier.update(ecMessage);
            require(ecVerifier.verify(ecSignature), RAW_ECDSA_VERIFY);
        }));
        // BouncyCastle precomputes tables for a public point on its first verification and keeps them with the key:
        // a server that verifies each AK's quote once (first attestation, or a renewal that parses the stored AK)
        // cannot profit from them. This limit makes the key from its coordinates per call, as TpmPublic does.
        KeyFactory ecKeys = KeyFactory.getInstance("EC", bouncyCastle);
        ECPoint w = ((ECPublicKey) ecKey.getPublic()).getW();
        ECParameterSpec p256 = ((ECPublicKey) ecKey.getPublic()).getParams();
        throughput.add(RAW_ECDSA_VERIFY_NEW_KEY, Throughput.timed(i -> {
            PublicKey key = ecKeys.generatePublic(new ECPublicKeySpec(new ECPoint(w.getAffineX(), w.getAffineY()),
                    p256));
            Signature verifier = Signature.getInstance("SHA256withECDSA", bouncyCastle);
            verifier.initVerify(key);
            verifier.update(ecMessage);
            require(verifier.verify(ecSignature), RAW_ECDSA_VERIFY_NEW_KEY);
        }));
        PublicKey ek = TpmPublic.parse(TpmAttestationPayload.parseFrom(ecc.payload).getEkPublic().toByteArray())
                .publicKey();
        Cipher oaep = Cipher.getInstance("RSA/ECB/OAEPPadding");
        oaep.init(Cipher.ENCRYPT_MODE, ek, new OAEPParameterSpec("SHA-256", "MGF1", MGF1ParameterSpec.SHA256,
                new PSource.PSpecified(IDENTITY)), random);
        byte[] seed = new byte[32];
        random.nextBytes(seed);
        throughput.add(RAW_OAEP, Throughput.timed(i -> require(oaep.doFinal(seed).length == 256, RAW_OAEP)));

        // Bourne's server.
        throughput.add(QUOTE_ECC, quoteVerification(eccQuotes));
        throughput.add(QUOTE_RSA, quoteVerification(rsaQuotes));
        // What begin/finish and each renewal do: the AK comes as bytes and is parsed, so its verification key is made
        // per attestation.
        throughput.add(QUOTE_ECC_PARSED, Throughput.timed(i -> {
            int k = i % eccQuotes.attest.size();
            QuoteVerifier.verify(TpmPublic.parse(ecc.akPublic), eccQuotes.attest.get(k), eccQuotes.signature.get(k),
                    eccQuotes.nonce.get(k), eccQuotes.selection, eccQuotes.pcrValues.get(k));
        }));
        Map<String, TpmEnrollment> inMemory = new TreeMap<>();
        Files.createDirectories(datastoreDir);
        datastore = SqlDataStore.openSqlite(datastoreDir.resolve(SqlDataStore.SQLITE_FILE_NAME), Clock.systemUTC(),
                random);
        for (Recording recording : recordings.values()) {
            if (!inMemory.containsKey(recording.ekHash)) {
                TpmEnrollment enrollment = new TpmEnrollment(recording.ekHash,
                        new TreeMap<>(Map.of("rack", "r1", "role", "bench")), Optional.empty(), Optional.empty(),
                        Clock.systemUTC().instant(), Optional.empty());
                inMemory.put(recording.ekHash, enrollment);
                datastore.createTpmEnrollment(enrollment);
            }
        }
        TpmEnrollments memory = hash -> Optional.ofNullable(inMemory.get(hash));
        Server enrolled = new Server(false, memory);
        Server ca = new Server(true, memory);
        Server sqlite = new Server(false, new DataStoreTpmEnrollments(datastore));
        throughput.add(BEGIN_ECC, Throughput.timed(i -> {
            enrolled.random.script(new byte[0]);
            require(enrolled.attestor.begin(ecc.payload).challenge().length > 0, BEGIN_ECC);
        }));
        throughput.add(FINISH_ECC, i -> {
            Pending pending = enrolled.pending(ecc, i);
            long t0 = System.nanoTime();
            Attested attested = enrolled.attestor.finish(pending, session(ecc, i).response);
            long elapsed = System.nanoTime() - t0;
            check(attested, ecc);
            return elapsed;
        });
        throughput.add(FULL_ENROLLED_ECC, Throughput.timed(i -> check(enrolled.attest(ecc, i), ecc)));
        throughput.add(FULL_CA_ECC, Throughput.timed(i -> check(ca.attest(ecc, i), ecc)));
        throughput.add(FULL_SQLITE_ECC, Throughput.timed(i -> check(sqlite.attest(ecc, i), ecc)));
        throughput.add(FULL_ENROLLED_RSA, Throughput.timed(i -> check(enrolled.attest(rsa, i), rsa)));
        throughput.add(RENEWAL_ECC, renewal(enrolled, ecc));
        throughput.add(RENEWAL_RSA, renewal(enrolled, rsa));
        return throughput;
    }

    private static Throughput.Op quoteVerification(Quotes quotes) {
        return Throughput.timed(i -> {
            int k = i % quotes.attest.size();
            QuoteVerifier.verify(quotes.ak, quotes.attest.get(k), quotes.signature.get(k), quotes.nonce.get(k),
                    quotes.selection, quotes.pcrValues.get(k));
        });
    }

    private static Throughput.Op renewal(Server server, Recording recording) {
        return Throughput.timed(i -> {
            Recording.Renewal renewal = recording.renewals.get(i % recording.renewals.size());
            check(server.attestor.verifyRenewal(recording.ekHash, recording.akPublic, renewal.challenge,
                    renewal.evidence), recording);
        });
    }

    private static Recording.Session session(Recording recording, int i) {
        return recording.sessions.get(i % recording.sessions.size());
    }

    private static void check(Attested attested, Recording recording) {
        require(attested.ekHash().equals(recording.ekHash) && attested.pcrPolicies().contains(GOLDEN),
                "attestation of " + recording.akType);
    }

    private static void require(boolean ok, String what) {
        if (!ok) {
            throw new IllegalStateException(what + " failed during the benchmark");
        }
    }

    private KeyPair generate(String algorithm, Provider provider, int bits) throws Exception {
        KeyPairGenerator generator = provider == null ? KeyPairGenerator.getInstance(algorithm)
                : KeyPairGenerator.getInstance(algorithm, provider);
        if (bits > 0) {
            generator.initialize(bits, random);
        } else {
            generator.initialize(new ECGenParameterSpec("secp256r1"), random);
        }
        return generator.generateKeyPair();
    }

    /** A server attestor configured as measured, with a scripted random source to replay recorded sessions. */
    private final class Server {
        final ScriptedRandom random = new ScriptedRandom(new SecureRandom());
        final TpmServerAttestor attestor;

        Server(boolean caTrust, TpmEnrollments enrollments) throws Exception {
            Map<String, Object> data = new LinkedHashMap<>();
            data.put(TpmServerSettings.PCR_POLICIES, policies(recordings.get(AkType.ECC_P256).pcrValues));
            if (caTrust) {
                data.put(TpmServerSettings.EK_TRUST, "ca");
                data.put(TpmServerSettings.EK_CA_PATHS, List.of(ekCaPath));
            }
            TpmServerSettings settings = TpmServerSettings.validate(new PluginConfig("bench", "NodeAttestor", "tpm",
                    true, data)).orElseThrow();
            attestor = new TpmServerAttestor(settings, EkCaStore.of(caTrust ? ekCas : List.of(), Clock.systemUTC()),
                    enrollments, Clock.systemUTC(), random);
        }

        /** A pending challenge with session {@code i}'s secret and nonce: a real begin, replayed randomness. */
        Pending pending(Recording recording, int i) throws Exception {
            random.script(session(recording, i).script);
            return attestor.begin(recording.payload);
        }

        Attested attest(Recording recording, int i) throws Exception {
            return attestor.finish(pending(recording, i), session(recording, i).response);
        }
    }

    /** Four policies over PCRs 0-7: {@link #GOLDEN} with swtpm's values, three with values no TPM showed. */
    private Map<String, Object> policies(Map<Integer, byte[]> golden) {
        HexFormat hex = HexFormat.of();
        Map<String, Object> policies = new LinkedHashMap<>();
        for (String name : List.of("fleet-a", "fleet-b", "fleet-c", GOLDEN)) {
            Map<String, Object> pcrs = new LinkedHashMap<>();
            for (Map.Entry<Integer, byte[]> pcr : new TreeMap<>(golden).entrySet()) {
                byte[] value = pcr.getValue().clone();
                if (!name.equals(GOLDEN)) {
                    random.nextBytes(value);
                }
                pcrs.put(Integer.toString(pcr.getKey()), List.of(hex.formatHex(value)));
            }
            policies.put(name, pcrs);
        }
        return policies;
    }

    /** Recorded quotes (from the renewals), parsed once, and the AK parsed once (its verification key made once). */
    private static final class Quotes {
        final TpmPublic ak;
        final PcrSelection selection = PcrSelection.of(TpmHashAlg.SHA256, SwtpmPhase.QUOTE_PCRS);
        final List<byte[]> attest = new ArrayList<>();
        final List<byte[]> signature = new ArrayList<>();
        final List<byte[]> nonce = new ArrayList<>();
        final List<Map<Integer, byte[]>> pcrValues = new ArrayList<>();

        Quotes(Recording recording) throws Exception {
            ak = TpmPublic.parse(recording.akPublic);
            for (Recording.Renewal renewal : recording.renewals) {
                TpmQuote quote = TpmRenewalEvidence.parseFrom(renewal.evidence).getQuote();
                attest.add(quote.getAttest().toByteArray());
                signature.add(quote.getSignature().toByteArray());
                nonce.add(TpmRenewalChallenge.parseFrom(renewal.challenge).getNonce().toByteArray());
                Map<Integer, byte[]> values = new TreeMap<>();
                quote.getPcrValuesMap().forEach((index, value) -> values.put(index, value.toByteArray()));
                pcrValues.add(values);
            }
        }
    }
}
