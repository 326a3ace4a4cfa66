package dev.bourne.tpm.server;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.cert.CertPathBuilder;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.CollectionCertStoreParameters;
import java.security.cert.PKIXBuilderParameters;
import java.security.cert.PKIXCertPathBuilderResult;
import java.security.cert.PKIXCertPathChecker;
import java.security.cert.TrustAnchor;
import java.security.cert.X509CertSelector;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.Collections;
import java.util.Date;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.security.auth.x500.X500Principal;
import org.bouncycastle.jce.provider.BouncyCastleProvider;

/**
 * The TPM manufacturers' EK certificate authorities an operator trusts ({@code ek_ca_paths}), and the check that an EK
 * certificate chains to one of them and carries the EK the agent presented (ARCHITECTURE.md section 3 step 2,
 * {@code ek_trust = "ca" | "either" | "both"}).
 *
 * <p><b>Trust anchors.</b> Every self-signed certificate is an anchor, and so is every certificate whose issuer is not
 * in the store: an operator who configures Infineon's "IFX TPM EK Root CA" (itself issued by a VeriSign root that
 * vendors no longer publish) trusts it, and without it no Infineon RSA EK would ever chain. Every other certificate
 * is offered to the path builder as an intermediate. A configured intermediate therefore widens trust only to what
 * its configured issuer already covers.
 *
 * <p><b>Revocation is off.</b> TPM vendors publish CRLs irregularly or not at all, and an attestation server must not
 * reach out to the network to decide; a compromised TPM is handled by revoking its enrolment instead.
 *
 * <p><b>TCG extensions.</b> EK certificates (TCG EK Credential Profile) have an empty subject and a critical subject
 * alternative name holding the TPM manufacturer, model and version as a directory name, which the JDK's validator
 * handles; some vendors also mark the subject directory attributes (TPM specification, security assertions) critical,
 * which the JDK does not know: {@link TcgExtensionsChecker} accepts those it knows by OID and nothing else, so any
 * other unknown critical extension still fails the chain.
 *
 * <p><b>Parsing.</b> Vendor certificates have ASN.1 quirks that the JDK's {@link CertificateFactory} may reject: such
 * files are read with BouncyCastle (its provider held here as an object, never installed globally). A file neither can
 * read is reported in {@link #problems()}, never thrown.
 *
 * <p>Immutable and thread-safe.
 */
public final class EkCaStore {

    /** The agent's EK certificate does not chain to any configured manufacturer CA (or the chain is invalid). */
    public static final String EK_CERTIFICATE_UNTRUSTED = "EK certificate does not chain to a configured TPM "
            + "manufacturer CA";
    /** The EK certificate is valid but certifies another key than the EK the agent presented. */
    public static final String EK_CERTIFICATE_KEY_MISMATCH = "EK certificate's key is not the EK presented";
    /** No manufacturer CA is configured, so no certificate can be trusted. */
    public static final String NO_CA_CONFIGURED = "no TPM manufacturer CA is configured (ek_ca_paths)";
    /** The DER bytes sent as the EK certificate are not an X.509 certificate. */
    public static final String EK_CERTIFICATE_MALFORMED = "EK certificate is not a DER X.509 certificate";
    /** The EK certificate is larger than any TPM's NV index holds. */
    public static final String EK_CERTIFICATE_TOO_LARGE = "EK certificate is larger than " + 16 * 1024 + " bytes";

    /** Largest EK certificate accepted from an agent (real ones are 1-2 KiB; NV indices hold a few KiB). */
    public static final int MAX_EK_CERTIFICATE_BYTES = 16 * 1024;
    /** Largest CA file read (a bundle of a few hundred PEM certificates). */
    public static final long MAX_CA_FILE_BYTES = 4L * 1024 * 1024;
    /** Most certificates one store holds, so a misconfigured directory cannot exhaust memory. */
    public static final int MAX_CERTIFICATES = 10_000;

    /** subjectDirectoryAttributes: TCG's TPM specification and TPM security assertions live there. */
    static final String SUBJECT_DIRECTORY_ATTRIBUTES = "2.5.29.9";
    /** The TCG critical extensions the validator accepts beyond those the JDK processes itself. */
    public static final Set<String> TCG_CRITICAL_EXTENSIONS = Set.of(SUBJECT_DIRECTORY_ATTRIBUTES);

    private static final Pattern PEM_CERTIFICATE = Pattern.compile(
            "-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\\s]+?)-----END CERTIFICATE-----");
    private static final BouncyCastleProvider BOUNCY_CASTLE = new BouncyCastleProvider();

    private final List<X509Certificate> certificates;
    private final Set<TrustAnchor> anchors;
    private final List<X509Certificate> intermediates;
    private final CertStore intermediateStore;
    private final List<String> problems;
    private final Clock clock;

    private EkCaStore(List<X509Certificate> certificates, List<String> problems, Clock clock) {
        this.certificates = List.copyOf(certificates);
        this.problems = List.copyOf(problems);
        this.clock = Objects.requireNonNull(clock, "clock");
        Set<X500Principal> subjects = new HashSet<>();
        for (X509Certificate c : this.certificates) {
            subjects.add(c.getSubjectX500Principal());
        }
        Set<TrustAnchor> trustAnchors = new java.util.LinkedHashSet<>();
        List<X509Certificate> others = new ArrayList<>();
        for (X509Certificate c : this.certificates) {
            boolean selfIssued = c.getSubjectX500Principal().equals(c.getIssuerX500Principal());
            if (selfIssued || !subjects.contains(c.getIssuerX500Principal())) {
                trustAnchors.add(new TrustAnchor(c, null));
            } else {
                others.add(c);
            }
        }
        this.anchors = Collections.unmodifiableSet(trustAnchors);
        this.intermediates = List.copyOf(others);
        try {
            this.intermediateStore = CertStore.getInstance("Collection",
                    new CollectionCertStoreParameters(this.intermediates));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK's Collection CertStore is mandatory", e);
        }
    }

    /** A store of these certificates (tests, or certificates read elsewhere). */
    public static EkCaStore of(Collection<X509Certificate> certificates, Clock clock) {
        return new EkCaStore(dedupe(certificates), List.of(), clock);
    }

    /**
     * Reads every certificate in the given files and directories (PEM, several per file, or DER; a directory's regular
     * files, not recursively, in name order). Unreadable files, files without certificates and certificates neither
     * the JDK nor BouncyCastle can parse are listed in {@link #problems()} as {@code <path>: <reason>}.
     */
    public static EkCaStore load(List<Path> paths, Clock clock) {
        List<X509Certificate> found = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        for (Path path : paths) {
            if (Files.isDirectory(path)) {
                List<Path> files;
                try (Stream<Path> listing = Files.list(path)) {
                    files = listing.filter(Files::isRegularFile).sorted().toList();
                } catch (IOException e) {
                    problems.add(path + ": cannot list the directory: " + e.getMessage());
                    continue;
                }
                if (files.isEmpty()) {
                    problems.add(path + ": the directory holds no files");
                }
                for (Path file : files) {
                    readFile(file, found, problems);
                }
            } else {
                readFile(path, found, problems);
            }
            if (found.size() > MAX_CERTIFICATES) {
                problems.add(path + ": more than " + MAX_CERTIFICATES + " certificates configured");
                break;
            }
        }
        return new EkCaStore(dedupe(found), problems, clock);
    }

    private static void readFile(Path file, List<X509Certificate> out, List<String> problems) {
        byte[] bytes;
        try {
            if (!Files.isRegularFile(file)) {
                problems.add(file + ": no such file");
                return;
            }
            if (Files.size(file) > MAX_CA_FILE_BYTES) {
                problems.add(file + ": larger than " + MAX_CA_FILE_BYTES + " bytes");
                return;
            }
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            problems.add(file + ": cannot read: " + e.getMessage());
            return;
        }
        String text = new String(bytes, StandardCharsets.ISO_8859_1);
        Matcher pem = PEM_CERTIFICATE.matcher(text);
        List<byte[]> ders = new ArrayList<>();
        while (pem.find()) {
            try {
                ders.add(Base64.getMimeDecoder().decode(pem.group(1)));
            } catch (IllegalArgumentException e) {
                problems.add(file + ": certificate " + (ders.size() + 1) + " is not valid base64");
            }
        }
        if (ders.isEmpty()) {
            if (text.contains("-----BEGIN")) {
                if (problems.stream().noneMatch(p -> p.startsWith(file + ":"))) {
                    problems.add(file + ": holds no PEM CERTIFICATE block");
                }
                return;
            }
            ders.add(bytes); // DER
        }
        for (int i = 0; i < ders.size(); i++) {
            try {
                out.add(parseCertificate(ders.get(i)));
            } catch (CertificateException e) {
                problems.add(file + (ders.size() > 1 ? " (certificate " + (i + 1) + ")" : "")
                        + ": neither the JDK nor BouncyCastle can parse the certificate: " + e.getMessage());
            }
        }
    }

    /**
     * Parses one DER certificate with the JDK, or with BouncyCastle when the JDK refuses it (vendor ASN.1 quirks).
     *
     * @throws CertificateException when neither can, or there are trailing bytes
     */
    static X509Certificate parseCertificate(byte[] der) throws CertificateException {
        CertificateException jdkFailure;
        try {
            return single(CertificateFactory.getInstance("X.509"), der);
        } catch (CertificateException e) {
            jdkFailure = e;
        }
        try {
            return single(CertificateFactory.getInstance("X.509", BOUNCY_CASTLE), der);
        } catch (CertificateException | RuntimeException e) {
            // BouncyCastle's parser throws unchecked exceptions on some garbage: any failure means "not a certificate".
            CertificateException both = new CertificateException(jdkFailure.getMessage(), jdkFailure);
            both.addSuppressed(e);
            throw both;
        }
    }

    private static X509Certificate single(CertificateFactory factory, byte[] der) throws CertificateException {
        ByteArrayInputStream in = new ByteArrayInputStream(der);
        Certificate certificate = factory.generateCertificate(in);
        if (in.available() != 0) {
            throw new CertificateException("trailing bytes after the certificate");
        }
        if (!(certificate instanceof X509Certificate x509)) {
            throw new CertificateException("not an X.509 certificate");
        }
        return x509;
    }

    /**
     * Parses an EK certificate an agent sent (DER), bounded in size.
     *
     * @throws TpmAttestationException INVALID_REQUEST with {@link #EK_CERTIFICATE_TOO_LARGE} or
     *     {@link #EK_CERTIFICATE_MALFORMED}
     */
    public static X509Certificate parseEkCertificate(byte[] der) throws TpmAttestationException {
        if (der.length > MAX_EK_CERTIFICATE_BYTES) {
            throw new TpmAttestationException(TpmAttestationException.Kind.INVALID_REQUEST, EK_CERTIFICATE_TOO_LARGE);
        }
        try {
            return parseCertificate(der);
        } catch (CertificateException e) {
            throw new TpmAttestationException(TpmAttestationException.Kind.INVALID_REQUEST, EK_CERTIFICATE_MALFORMED,
                    e);
        }
    }

    private static List<X509Certificate> dedupe(Collection<X509Certificate> certificates) {
        Map<String, X509Certificate> unique = new LinkedHashMap<>();
        for (X509Certificate c : certificates) {
            try {
                unique.putIfAbsent(Base64.getEncoder().encodeToString(c.getEncoded()), c);
            } catch (CertificateException e) {
                throw new IllegalStateException("a parsed certificate cannot be re-encoded", e);
            }
        }
        return new ArrayList<>(unique.values());
    }

    /** Every distinct certificate loaded, in file order. */
    public List<X509Certificate> certificates() {
        return certificates;
    }

    /** The certificates used as trust anchors (self-signed, or whose issuer is not configured). */
    public List<X509Certificate> anchors() {
        return anchors.stream().map(TrustAnchor::getTrustedCert).toList();
    }

    /** The certificates offered as intermediates. */
    public List<X509Certificate> intermediates() {
        return intermediates;
    }

    /** Files or certificates that could not be read, as {@code <path>: <reason>}; empty when all loaded. */
    public List<String> problems() {
        return problems;
    }

    public boolean isEmpty() {
        return certificates.isEmpty();
    }

    /**
     * Verifies that {@code ekCertificate} chains (PKIX, revocation off) to a configured manufacturer CA at the clock's
     * current time and certifies {@code presentedEk} (equal SubjectPublicKeyInfo encodings). Fails closed: any error
     * of the validator refuses.
     *
     * @return the validated path, anchor included in its result
     * @throws TpmAttestationException REJECTED with {@link #EK_CERTIFICATE_KEY_MISMATCH}, {@link #NO_CA_CONFIGURED} or
     *     {@link #EK_CERTIFICATE_UNTRUSTED} (the validator's reason in the cause)
     */
    public PKIXCertPathBuilderResult verify(X509Certificate ekCertificate, PublicKey presentedEk)
            throws TpmAttestationException {
        Objects.requireNonNull(ekCertificate, "ekCertificate");
        Objects.requireNonNull(presentedEk, "presentedEk");
        // Key first: a valid certificate for another TPM's EK proves nothing about this one.
        byte[] certified = ekCertificate.getPublicKey().getEncoded();
        byte[] presented = presentedEk.getEncoded();
        if (certified == null || presented == null || !MessageDigest.isEqual(certified, presented)) {
            throw new TpmAttestationException(TpmAttestationException.Kind.REJECTED, EK_CERTIFICATE_KEY_MISMATCH);
        }
        if (anchors.isEmpty()) {
            throw new TpmAttestationException(TpmAttestationException.Kind.REJECTED, NO_CA_CONFIGURED);
        }
        return validate(ekCertificate, Date.from(clock.instant()));
    }

    /**
     * Builds and validates a path from {@code certificate} to an anchor at {@code date} (revocation off, TCG critical
     * extensions accepted). Used by {@link #verify} and by tests that check vendor chains at a date inside their
     * validity.
     */
    PKIXCertPathBuilderResult validate(X509Certificate certificate, Date date) throws TpmAttestationException {
        try {
            X509CertSelector target = new X509CertSelector();
            target.setCertificate(certificate);
            PKIXBuilderParameters parameters = new PKIXBuilderParameters(anchors, target);
            parameters.setRevocationEnabled(false);
            // Infineon's and Intel's EK CAs mark certificatePolicies critical and carry CPS qualifiers; RFC 5280
            // 4.2.1.4 lets a validator ignore qualifiers, and the JDK's default rejects such paths outright.
            parameters.setPolicyQualifiersRejected(false);
            parameters.setDate(date);
            parameters.addCertStore(intermediateStore);
            parameters.addCertStore(CertStore.getInstance("Collection",
                    new CollectionCertStoreParameters(List.of(certificate))));
            parameters.addCertPathChecker(new TcgExtensionsChecker());
            // The JDK's builder runs the full PKIX validation (signatures, validity, basic constraints, key usage,
            // policies, the checker above) on every candidate path before returning it. CertPathValidator is not run
            // again: it additionally insists that the anchor's subject key identifier equal the top certificate's
            // authority key identifier, which Infineon's RSA EK intermediates do not satisfy.
            return (PKIXCertPathBuilderResult) CertPathBuilder.getInstance("PKIX").build(parameters);
        } catch (GeneralSecurityException e) {
            throw new TpmAttestationException(TpmAttestationException.Kind.REJECTED, EK_CERTIFICATE_UNTRUSTED, e);
        } catch (RuntimeException e) {
            // The JDK's path builder can throw unchecked exceptions on odd certificates; refuse rather than crash.
            throw new TpmAttestationException(TpmAttestationException.Kind.REJECTED, EK_CERTIFICATE_UNTRUSTED, e);
        }
    }

    /**
     * Accepts the TCG critical extensions the JDK's validator does not process ({@link #TCG_CRITICAL_EXTENSIONS}), so
     * that an EK certificate marking them critical still validates; any other unknown critical extension is left
     * unresolved and fails the path.
     */
    static final class TcgExtensionsChecker extends PKIXCertPathChecker {
        @Override
        public void init(boolean forward) throws CertPathValidatorException {
            // Stateless: supports either direction.
        }

        @Override
        public boolean isForwardCheckingSupported() {
            return true;
        }

        @Override
        public Set<String> getSupportedExtensions() {
            return TCG_CRITICAL_EXTENSIONS;
        }

        @Override
        public void check(Certificate cert, Collection<String> unresolvedCritExts) {
            unresolvedCritExts.removeAll(TCG_CRITICAL_EXTENSIONS);
        }
    }

    @Override
    public String toString() {
        return "EkCaStore[" + certificates.size() + " certificates, " + anchors.size() + " anchors, "
                + problems.size() + " problems]";
    }
}
