package dev.bourne.appliance.ca.upstream;

import dev.bourne.appliance.ca.UpstreamAuthority;
import dev.bourne.appliance.ca.UpstreamAuthorityException;
import dev.bourne.appliance.ca.internal.CaCertificates;
import dev.bourne.core.config.ConfigError;
import dev.bourne.core.config.ConfigException;
import dev.bourne.core.config.ConfigReader;
import dev.bourne.core.config.ConfigResult;
import dev.bourne.core.config.PluginConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * The {@code disk} upstream authority: an operator's CA certificate and private key in PEM files, as SPIRE's
 * plugin of that name. It signs Bourne's intermediate CAs; the bundle holds the roots above it.
 *
 * <pre>
 * UpstreamAuthority "disk" {
 *     plugin_data {
 *         cert_file_path   = "/etc/bourne/upstream/ca.pem"     # the CA certificate, then its intermediates
 *         key_file_path    = "/etc/bourne/upstream/ca.key"     # unencrypted PEM key, mode 0600 or 0400
 *         bundle_file_path = "/etc/bourne/upstream/roots.pem"  # required when the CA is not self-signed
 *     }
 * }
 * </pre>
 *
 * <p>Checks at load, each reported at its key: the key file is accessible by its owner only, the key matches the
 * certificate, the certificate is a CA with keyCertSign and not expired, and (when it is not self-signed) it chains
 * through the given intermediates to a root in {@code bundle_file_path}. Intermediates it mints end no later than the
 * upstream certificate or any certificate above it.
 *
 * <p>The private key is a JCA object in this process (the operator chose files); it is used only to sign and is
 * never encoded or logged.
 */
public final class DiskUpstreamAuthority implements UpstreamAuthority {
    public static final String NAME = "disk";

    public static final String KEY_MISMATCH = "the private key does not match the certificate in cert_file_path";
    public static final String NOT_A_CA = "the certificate is not a CA certificate with keyCertSign";
    public static final String BUNDLE_REQUIRED = "is required when the certificate in cert_file_path is not"
            + " self-signed: it holds the roots relying parties trust";
    public static final String NO_CHAIN = "the certificate in cert_file_path does not chain to a root in"
            + " bundle_file_path: ";

    private static final BouncyCastleProvider BC = new BouncyCastleProvider();

    /**
     * The disk upstream's plugin data.
     *
     * @param certFile the upstream CA certificate, optionally followed by its intermediates
     * @param keyFile its private key
     * @param bundleFile the upstream roots, when the certificate is not itself a root
     */
    public record Settings(Path certFile, Path keyFile, Optional<Path> bundleFile) {
        public Settings {
            Objects.requireNonNull(certFile, "certFile");
            Objects.requireNonNull(keyFile, "keyFile");
            Objects.requireNonNull(bundleFile, "bundleFile");
        }

        /** Reads {@code plugin_data}, collecting every error with its key. */
        public static ConfigResult<Settings> read(PluginConfig plugin) {
            ConfigReader data = plugin.pluginDataReader();
            Optional<Path> cert = data.requirePath("cert_file_path");
            Optional<Path> key = data.requirePath("key_file_path");
            Optional<Path> bundle = data.optionalPath("bundle_file_path");
            data.rejectUnknownKeys();
            if (!data.errors().isEmpty()) {
                return new ConfigResult.Invalid<>(data.errors());
            }
            return new ConfigResult.Valid<>(new Settings(cert.orElseThrow(), key.orElseThrow(), bundle),
                    data.warnings());
        }
    }

    private final X509Certificate certificate;
    private final List<X509Certificate> chainAbove;
    private final List<X509Certificate> roots;
    private final PrivateKey privateKey;
    private final Instant notAfterLimit;
    private final SecureRandom random;

    private DiskUpstreamAuthority(X509Certificate certificate, List<X509Certificate> chainAbove,
            List<X509Certificate> roots, PrivateKey privateKey, SecureRandom random) {
        this.certificate = certificate;
        this.chainAbove = List.copyOf(chainAbove);
        this.roots = List.copyOf(roots);
        this.privateKey = privateKey;
        this.random = random;
        Instant limit = certificate.getNotAfter().toInstant();
        for (X509Certificate above : chainAbove) {
            Instant end = above.getNotAfter().toInstant();
            limit = end.isBefore(limit) ? end : limit;
        }
        this.notAfterLimit = limit;
    }

    /**
     * Reads the plugin data and the files it names, checking them all.
     *
     * @throws ConfigException listing every problem, each at its {@code plugin_data} key
     */
    public static DiskUpstreamAuthority open(PluginConfig plugin, Clock clock, SecureRandom random)
            throws ConfigException {
        Settings settings = Settings.read(plugin).orElseThrow();
        ConfigReader data = plugin.pluginDataReader();
        Instant now = clock.instant();

        List<X509Certificate> certificates = null;
        try {
            certificates = PemFiles.certificates(settings.certFile());
        } catch (IOException e) {
            data.error("cert_file_path", settings.certFile() + " " + e.getMessage());
        }
        PrivateKey key = null;
        try {
            key = PemFiles.privateKey(settings.keyFile());
        } catch (IOException e) {
            data.error("key_file_path", settings.keyFile() + " " + e.getMessage());
        }
        List<X509Certificate> bundle = List.of();
        if (settings.bundleFile().isPresent()) {
            try {
                bundle = PemFiles.certificates(settings.bundleFile().get());
            } catch (IOException e) {
                data.error("bundle_file_path", settings.bundleFile().get() + " " + e.getMessage());
            }
        }
        List<X509Certificate> roots = new ArrayList<>();
        List<X509Certificate> chainAbove = List.of();
        if (certificates != null) {
            X509Certificate ca = certificates.get(0);
            chainAbove = certificates.subList(1, certificates.size());
            if (!CaCertificates.isSigningCa(ca)) {
                data.error("cert_file_path", NOT_A_CA);
            }
            if (!ca.getNotAfter().toInstant().isAfter(now)) {
                data.error("cert_file_path", String.format(UpstreamCertificates.EXPIRED, ca.getNotAfter()
                        .toInstant()));
            }
            if (key != null && !matches(key, ca)) {
                data.error("key_file_path", KEY_MISMATCH);
            }
            if (CaCertificates.isSelfSigned(ca)) {
                roots.add(ca);
                roots.addAll(bundle);
            } else if (settings.bundleFile().isEmpty()) {
                data.error("bundle_file_path", BUNDLE_REQUIRED);
            } else if (!bundle.isEmpty()) {
                roots.addAll(bundle);
                Optional<String> problem = chainProblem(certificates, bundle, now);
                problem.ifPresent(p -> data.error("bundle_file_path", NO_CHAIN + p));
            }
        }
        List<ConfigError> errors = data.errors();
        if (!errors.isEmpty()) {
            throw new ConfigException(errors);
        }
        return new DiskUpstreamAuthority(certificates.get(0), chainAbove, List.copyOf(new LinkedHashSet<>(roots)),
                key, random);
    }

    /** Proves the key and certificate belong together by signing and verifying a fixed message. */
    private static boolean matches(PrivateKey key, X509Certificate certificate) {
        byte[] message = "bourne upstream key check".getBytes(StandardCharsets.US_ASCII);
        try {
            String algorithm = UpstreamCertificates.signatureName(certificate.getPublicKey());
            Signature signer = Signature.getInstance(algorithm, BC);
            signer.initSign(key);
            signer.update(message);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(certificate.getPublicKey());
            verifier.update(message);
            return verifier.verify(signature);
        } catch (GeneralSecurityException | RuntimeException e) {
            return false;
        }
    }

    private static Optional<String> chainProblem(List<X509Certificate> chain, List<X509Certificate> roots,
            Instant now) {
        try {
            Set<TrustAnchor> anchors = new LinkedHashSet<>();
            roots.forEach(root -> anchors.add(new TrustAnchor(root, null)));
            PKIXParameters params = new PKIXParameters(anchors);
            params.setRevocationEnabled(false);
            params.setDate(Date.from(now));
            CertPathValidator.getInstance("PKIX").validate(CertificateFactory.getInstance("X.509")
                    .generateCertPath(chain), params);
            return Optional.empty();
        } catch (GeneralSecurityException e) {
            return Optional.of(String.valueOf(e.getMessage()));
        }
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public MintedCa mintX509Ca(CaRequest request) throws UpstreamAuthorityException {
        ContentSigner signer;
        try {
            signer = new JcaContentSignerBuilder(UpstreamCertificates.signatureName(certificate.getPublicKey()))
                    .setProvider(BC).setSecureRandom(random).build(privateKey);
        } catch (OperatorCreationException e) {
            throw new UpstreamAuthorityException("cannot sign with the upstream key: " + e.getMessage(), e);
        }
        X509Certificate minted = UpstreamCertificates.mint(request, certificate, notAfterLimit, signer, random);
        // The SVID chain carries the upstream certificate and its intermediates, unless the upstream is the root.
        List<X509Certificate> upstreamChain = new ArrayList<>();
        if (!roots.contains(certificate)) {
            upstreamChain.add(certificate);
            chainAbove.stream().filter(c -> !roots.contains(c)).forEach(upstreamChain::add);
        }
        return new MintedCa(minted, upstreamChain);
    }

    @Override
    public List<X509Certificate> upstreamRoots() {
        return roots;
    }

    @Override
    public Instant notAfterLimit() {
        return notAfterLimit;
    }

    /** The upstream CA certificate (the first in {@code cert_file_path}). */
    public X509Certificate certificate() {
        return certificate;
    }

    @Override
    public void close() {
        // Nothing to release: the key object is dropped with this instance.
    }

    @Override
    public String toString() {
        return "DiskUpstreamAuthority{" + certificate.getSubjectX500Principal() + ", until " + notAfterLimit + "}";
    }
}
