package dev.bourne.appliance.ca.upstream;

import dev.bourne.appliance.ca.CaManager;
import dev.bourne.appliance.ca.UpstreamAuthority;
import dev.bourne.appliance.ca.UpstreamAuthorityException;
import dev.bourne.appliance.ca.internal.CaCertificates;
import dev.bourne.appliance.ca.internal.ManagedKeyContentSigner;
import dev.bourne.core.config.ConfigException;
import dev.bourne.core.config.ConfigReader;
import dev.bourne.core.config.ConfigResult;
import dev.bourne.core.config.PluginConfig;
import dev.bourne.core.config.internal.GoDuration;
import dev.bourne.core.keymanager.KeyManager;
import dev.bourne.core.keymanager.KeyManagerException;
import dev.bourne.core.keymanager.KeyType;
import dev.bourne.core.keymanager.ManagedKey;
import dev.bourne.core.spiffeid.TrustDomain;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code pkcs11} upstream authority: a root key held by a {@link KeyManager} (the HSM in production) signs
 * Bourne's intermediate CAs. Its self-signed root certificate is created once, the first time, and written to a
 * file, so restarts (and other servers given the same file and token) keep the same root; relying parties trust that
 * root, which outlives many CA rotations.
 *
 * <pre>
 * UpstreamAuthority "pkcs11" {
 *     plugin_data {
 *         key_id           = "upstream-root"                        # default
 *         key_type         = "ec-p384"                              # default; used when the key is generated
 *         root_cert_path   = "/var/lib/bourne/server/upstream-root.pem"   # default: data_dir/upstream-root.pem
 *         root_ttl         = "43800h"                               # default, 5 years; when the root is created
 *         root_common_name = "Bourne upstream root"                 # default
 *     }
 * }
 * </pre>
 *
 * <p>On open: with a root certificate file, the key manager must hold {@code key_id} with the certificate's public
 * key (else the root was lost or replaced: refused, never silently regenerated, since relying parties trust the old
 * one); without it, the key is generated if absent and a root is signed and written.
 */
public final class Pkcs11UpstreamAuthority implements UpstreamAuthority {
    public static final String NAME = "pkcs11";
    public static final String DEFAULT_KEY_ID = "upstream-root";
    public static final KeyType DEFAULT_KEY_TYPE = KeyType.EC_P384;
    public static final String DEFAULT_ROOT_FILE = "upstream-root.pem";
    public static final Duration DEFAULT_ROOT_TTL = Duration.ofHours(43800);
    public static final String DEFAULT_COMMON_NAME = "Bourne upstream root";

    /** Format argument: the key ID. */
    public static final String KEY_ID_IS_SLOT = "must not be one of the CA's rotation slots (%s): rotation would"
            + " overwrite the root key";
    /** Format arguments: file, key ID. */
    public static final String ROOT_KEY_MISSING = "root certificate %s exists but the key manager holds no key %s:"
            + " restore the key, or move the certificate away to create a new root (relying parties must then trust"
            + " it)";
    /** Format arguments: file, key ID. */
    public static final String ROOT_KEY_MISMATCH = "root certificate %s does not certify the key %s in the key"
            + " manager";
    /** Format arguments: file, instant. */
    public static final String ROOT_EXPIRED = "root certificate %s expired at %s: move it away to create a new"
            + " root (relying parties must then trust it)";

    private static final Logger LOG = LoggerFactory.getLogger(Pkcs11UpstreamAuthority.class);

    /**
     * The pkcs11 upstream's plugin data.
     *
     * @param keyId the root key's ID in the key manager
     * @param keyType the type of key to generate when there is none
     * @param rootCertFile where the root certificate is kept
     * @param rootTtl the root's lifetime when it is created
     * @param commonName the root's common name
     */
    public record Settings(String keyId, KeyType keyType, Path rootCertFile, Duration rootTtl, String commonName) {
        public Settings {
            Objects.requireNonNull(keyId, "keyId");
            Objects.requireNonNull(keyType, "keyType");
            Objects.requireNonNull(rootCertFile, "rootCertFile");
            Objects.requireNonNull(rootTtl, "rootTtl");
            Objects.requireNonNull(commonName, "commonName");
        }

        /** Reads {@code plugin_data}, collecting every error with its key; paths default under {@code dataDir}. */
        public static ConfigResult<Settings> read(PluginConfig plugin, Path dataDir) {
            ConfigReader data = plugin.pluginDataReader();
            String keyId = data.optionalString("key_id", DEFAULT_KEY_ID);
            List<String> slots = List.of(CaManager.X509_SLOT_A, CaManager.X509_SLOT_B, CaManager.JWT_SLOT_A,
                    CaManager.JWT_SLOT_B);
            if (slots.contains(keyId)) {
                data.error("key_id", String.format(KEY_ID_IS_SLOT, String.join(", ", slots)));
            } else if (!keyId.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,63}")) {
                data.error("key_id", "must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or"
                        + " digit");
            }
            KeyType keyType = data.optionalChoice("key_type", List.of(KeyType.values()), KeyType::configName,
                    DEFAULT_KEY_TYPE, false);
            Path rootCert = data.optionalPath("root_cert_path").orElse(dataDir.resolve(DEFAULT_ROOT_FILE));
            Duration rootTtl = data.optionalDuration("root_ttl", DEFAULT_ROOT_TTL);
            String commonName = data.optionalString("root_common_name", DEFAULT_COMMON_NAME);
            data.rejectUnknownKeys();
            if (!data.errors().isEmpty()) {
                return new ConfigResult.Invalid<>(data.errors());
            }
            return new ConfigResult.Valid<>(new Settings(keyId, keyType, rootCert, rootTtl, commonName),
                    data.warnings());
        }
    }

    private final ManagedKey rootKey;
    private final X509Certificate root;
    private final SecureRandom random;

    private Pkcs11UpstreamAuthority(ManagedKey rootKey, X509Certificate root, SecureRandom random) {
        this.rootKey = rootKey;
        this.root = root;
        this.random = random;
    }

    /**
     * Opens the root in {@code keyManager}, creating key and certificate the first time.
     *
     * @param trustDomain the domain the root is name-constrained to
     * @throws UpstreamAuthorityException when the key manager fails, or the root file and key do not belong
     *     together, or the root expired
     */
    public static Pkcs11UpstreamAuthority open(Settings settings, TrustDomain trustDomain, KeyManager keyManager,
            Clock clock, SecureRandom random) throws UpstreamAuthorityException {
        Instant now = clock.instant();
        Path file = settings.rootCertFile();
        try {
            Optional<ManagedKey> existing = keyManager.getKey(settings.keyId());
            if (Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
                X509Certificate root = loadRoot(file);
                ManagedKey key = existing.orElseThrow(() -> new UpstreamAuthorityException(String.format(
                        ROOT_KEY_MISSING, file, settings.keyId())));
                if (!Arrays.equals(key.publicKey().getEncoded(), root.getPublicKey().getEncoded())) {
                    throw new UpstreamAuthorityException(String.format(ROOT_KEY_MISMATCH, file, settings.keyId()));
                }
                if (!root.getNotAfter().toInstant().isAfter(now)) {
                    throw new UpstreamAuthorityException(String.format(ROOT_EXPIRED, file,
                            root.getNotAfter().toInstant()));
                }
                return new Pkcs11UpstreamAuthority(key, root, random);
            }
            ManagedKey key = existing.isPresent() ? existing.get()
                    : keyManager.generateKey(settings.keyId(), settings.keyType());
            X509Certificate root = createRoot(settings, trustDomain, key, now, random);
            writeRoot(file, root);
            LOG.info("created upstream root {} (key {}) valid until {}, written to {}",
                    root.getSubjectX500Principal(), settings.keyId(), root.getNotAfter().toInstant(), file);
            return new Pkcs11UpstreamAuthority(key, root, random);
        } catch (KeyManagerException e) {
            throw new UpstreamAuthorityException("key manager " + keyManager.name() + " cannot provide the upstream"
                    + " root key " + settings.keyId() + ": " + e.getMessage(), e);
        }
    }

    /** Reads the plugin data and opens the root; configuration errors first, all at once. */
    public static Pkcs11UpstreamAuthority open(PluginConfig plugin, Path dataDir, TrustDomain trustDomain,
            KeyManager keyManager, Clock clock, SecureRandom random) throws ConfigException,
            UpstreamAuthorityException {
        return open(Settings.read(plugin, dataDir).orElseThrow(), trustDomain, keyManager, clock, random);
    }

    private static X509Certificate loadRoot(Path file) throws UpstreamAuthorityException {
        List<X509Certificate> certificates;
        try {
            certificates = PemFiles.certificates(file);
        } catch (IOException e) {
            throw new UpstreamAuthorityException("root certificate " + file + " " + e.getMessage(), e);
        }
        if (certificates.size() != 1 || !CaCertificates.isSelfSigned(certificates.get(0))
                || !CaCertificates.isSigningCa(certificates.get(0))) {
            throw new UpstreamAuthorityException("root certificate " + file + " must hold exactly one self-signed"
                    + " CA certificate");
        }
        return certificates.get(0);
    }

    private static X509Certificate createRoot(Settings settings, TrustDomain trustDomain, ManagedKey key,
            Instant now, SecureRandom random) throws UpstreamAuthorityException {
        X500Name name = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.O, "SPIFFE")
                .addRDN(BCStyle.CN, settings.commonName()).build();
        try {
            return CaCertificates.sign(new CaCertificates.Request(name, key.publicKey(), Optional.of(trustDomain), now,
                    now.plus(settings.rootTtl())), name, key.publicKey(),
                    new ManagedKeyContentSigner(key, key.type().defaultSignatureAlgorithm()), random);
        } catch (GeneralSecurityException e) {
            throw new UpstreamAuthorityException("cannot sign the upstream root certificate (root_ttl "
                    + GoDuration.format(settings.rootTtl()) + "): " + e.getMessage(), e);
        }
    }

    /** Writes the root atomically (0644: it is public), so a crash never leaves half a root behind. */
    private static void writeRoot(Path file, X509Certificate root) throws UpstreamAuthorityException {
        Path absolute = file.toAbsolutePath();
        Path temporary = null;
        try {
            Files.createDirectories(absolute.getParent());
            String pem = "-----BEGIN CERTIFICATE-----\n"
                    + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(root.getEncoded())
                    + "\n-----END CERTIFICATE-----\n";
            temporary = Files.createTempFile(absolute.getParent(), ".upstream-root-", ".tmp",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-r--r--")));
            Files.writeString(temporary, pem, StandardCharsets.US_ASCII);
            try (FileChannel channel = FileChannel.open(temporary, StandardOpenOption.WRITE)) {
                channel.force(true);
            }
            Files.move(temporary, absolute, StandardCopyOption.ATOMIC_MOVE);
            temporary = null;
        } catch (IOException | CertificateEncodingException e) {
            throw new UpstreamAuthorityException("cannot write the upstream root certificate to " + file + ": "
                    + e.getMessage(), e);
        } finally {
            if (temporary != null) {
                try {
                    Files.deleteIfExists(temporary);
                } catch (IOException ignored) {
                    // the failure above is what matters
                }
            }
        }
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public MintedCa mintX509Ca(CaRequest request) throws UpstreamAuthorityException {
        X509Certificate minted = UpstreamCertificates.mint(request, root, notAfterLimit(),
                new ManagedKeyContentSigner(rootKey, rootKey.type().defaultSignatureAlgorithm()), random);
        return new MintedCa(minted, List.of());
    }

    @Override
    public List<X509Certificate> upstreamRoots() {
        return List.of(root);
    }

    @Override
    public Instant notAfterLimit() {
        return root.getNotAfter().toInstant();
    }

    /** The self-signed root certificate. */
    public X509Certificate root() {
        return root;
    }

    @Override
    public void close() {
        // The key manager belongs to the caller.
    }

    @Override
    public String toString() {
        return "Pkcs11UpstreamAuthority{" + root.getSubjectX500Principal() + ", key " + rootKey.id() + ", until "
                + notAfterLimit() + "}";
    }
}
