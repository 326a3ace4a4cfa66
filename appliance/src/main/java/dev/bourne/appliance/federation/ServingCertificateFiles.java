package dev.bourne.appliance.federation;

import dev.bourne.appliance.agentapi.TlsCredential;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A TLS credential read from an operator's PEM files (a certificate chain, leaf first, and its private key), reloaded
 * when either file changes, so a renewed Web PKI certificate is served without a restart.
 *
 * <p>The key file must not be writable by the group nor accessible by others (0600, 0640 or stricter): a key others
 * can read is a key others may have copied. The pair is proven by a signature, not by comparing encodings. A reload
 * that fails keeps the credential that works and logs why (never the files' contents).
 */
public final class ServingCertificateFiles implements Supplier<TlsCredential> {
    /** Largest file read: a long chain is a few tens of kilobytes. */
    public static final int MAX_BYTES = 256 * 1024;

    public static final String NO_SUCH_FILE = "does not exist";
    public static final String NOT_REGULAR = "is not a regular file";
    public static final String TOO_LARGE = "is larger than " + MAX_BYTES + " bytes";
    public static final String NOT_PEM = "is not valid PEM";
    public static final String NO_CERTIFICATE = "holds no PEM certificate";
    public static final String NOT_CERTIFICATE = "holds a PEM object that is not a certificate";
    public static final String BAD_CERTIFICATE = "holds a certificate that cannot be parsed";
    public static final String NOT_ONE_KEY = "must hold exactly one PEM private key";
    public static final String ENCRYPTED_KEY = "holds an encrypted private key; give an unencrypted PKCS#8 or"
            + " traditional key in a 0600 file";
    public static final String UNDECODABLE_KEY = "holds a private key that cannot be decoded";
    public static final String KEY_UNSUPPORTED = "holds a key TLS cannot use here (EC or RSA only)";
    /** Format argument: the file's mode. */
    public static final String KEY_FILE_TOO_OPEN = "is writable by its group or accessible by others (mode %s); make"
            + " it 0600 or 0640";
    public static final String CHAIN_MISMATCH = "its first certificate is not the one of the key in key_file (the"
            + " listener's own certificate comes first, then its CAs)";

    private static final Logger LOG = LoggerFactory.getLogger(ServingCertificateFiles.class);
    private static final Set<PosixFilePermission> FORBIDDEN = EnumSet.of(PosixFilePermission.GROUP_WRITE,
            PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE,
            PosixFilePermission.OTHERS_EXECUTE);

    /** An unusable file: which one ({@code keyFile} or not) and why, in words that never quote its content. */
    public static final class Unusable extends Exception {
        private static final long serialVersionUID = 1L;
        private final transient Path file;
        private final boolean keyFile;

        Unusable(Path file, boolean keyFile, String reason) {
            super(file + ": " + reason);
            this.file = file;
            this.keyFile = keyFile;
        }

        /** The file that is wrong. */
        public Path file() {
            return file;
        }

        /** Whether it is the key file (else the certificate file). */
        public boolean isKeyFile() {
            return keyFile;
        }
    }

    /** What the files looked like when last read, to notice a change with two stat calls. */
    private record Stamp(Object certKey, long certModified, long certSize, Object keyKey, long keyModified,
            long keySize) {
    }

    private record Loaded(Stamp stamp, TlsCredential credential) {
    }

    private final Path certFile;
    private final Path keyFile;
    private final AtomicReference<Loaded> loaded = new AtomicReference<>();

    private ServingCertificateFiles(Path certFile, Path keyFile) {
        this.certFile = certFile;
        this.keyFile = keyFile;
    }

    /**
     * Reads both files now.
     *
     * @throws Unusable naming the first file that cannot be used and why
     */
    public static ServingCertificateFiles load(Path certFile, Path keyFile) throws Unusable {
        ServingCertificateFiles files = new ServingCertificateFiles(Objects.requireNonNull(certFile, "certFile"),
                Objects.requireNonNull(keyFile, "keyFile"));
        Stamp stamp = files.stamp();
        files.loaded.set(new Loaded(stamp, read(certFile, keyFile)));
        return files;
    }

    /** Reads and checks the pair once, for configuration validation. */
    public static TlsCredential read(Path certFile, Path keyFile) throws Unusable {
        List<X509Certificate> chain = certificates(certFile);
        PrivateKey key = privateKey(keyFile);
        if (!key.getAlgorithm().equals("EC") && !key.getAlgorithm().equals("RSA")) {
            throw new Unusable(keyFile, true, KEY_UNSUPPORTED);
        }
        if (!matches(chain.get(0).getPublicKey(), key)) {
            throw new Unusable(certFile, false, CHAIN_MISMATCH);
        }
        return new TlsCredential(key, chain);
    }

    /** The current credential, re-read first when a file changed since the last read. */
    @Override
    public TlsCredential get() {
        Loaded current = loaded.get();
        Stamp now;
        try {
            now = stamp();
        } catch (Unusable e) {
            return current.credential(); // a file being replaced: keep serving the one that works
        }
        if (now.equals(current.stamp())) {
            return current.credential();
        }
        synchronized (this) {
            current = loaded.get();
            if (now.equals(current.stamp())) {
                return current.credential();
            }
            try {
                TlsCredential fresh = read(certFile, keyFile);
                loaded.set(new Loaded(now, fresh));
                LOG.info("reloaded the serving certificate from {}: {}", certFile, fresh);
                return fresh;
            } catch (Unusable e) {
                // Remember the stamp so a bad pair is reported once, not at every handshake.
                loaded.set(new Loaded(now, current.credential()));
                LOG.warn("the changed serving certificate is not used, the previous one stays: {}", e.getMessage());
                return current.credential();
            }
        }
    }

    private Stamp stamp() throws Unusable {
        BasicFileAttributes cert = attributes(certFile, false);
        BasicFileAttributes key = attributes(keyFile, true);
        return new Stamp(cert.fileKey(), cert.lastModifiedTime().toMillis(), cert.size(), key.fileKey(),
                key.lastModifiedTime().toMillis(), key.size());
    }

    private static BasicFileAttributes attributes(Path file, boolean isKey) throws Unusable {
        try {
            return Files.readAttributes(file, BasicFileAttributes.class);
        } catch (NoSuchFileException e) {
            throw new Unusable(file, isKey, NO_SUCH_FILE);
        } catch (IOException e) {
            throw new Unusable(file, isKey, "cannot be read: " + e.getClass().getSimpleName());
        }
    }

    private static String readText(Path file, boolean isKey) throws Unusable {
        if (!Files.exists(file)) {
            throw new Unusable(file, isKey, NO_SUCH_FILE);
        }
        if (!Files.isRegularFile(file)) {
            throw new Unusable(file, isKey, NOT_REGULAR);
        }
        byte[] bytes;
        try (InputStream in = Files.newInputStream(file)) {
            bytes = in.readNBytes(MAX_BYTES + 1);
        } catch (IOException e) {
            throw new Unusable(file, isKey, "cannot be read: " + e.getClass().getSimpleName());
        }
        if (bytes.length > MAX_BYTES) {
            throw new Unusable(file, isKey, TOO_LARGE);
        }
        return new String(bytes, StandardCharsets.US_ASCII);
    }

    private static List<X509Certificate> certificates(Path file) throws Unusable {
        List<X509Certificate> certificates = new ArrayList<>();
        try (PEMParser parser = new PEMParser(new StringReader(readText(file, false)))) {
            Object object;
            while ((object = next(parser, file, false)) != null) {
                if (!(object instanceof X509CertificateHolder holder)) {
                    throw new Unusable(file, false, NOT_CERTIFICATE);
                }
                try {
                    certificates.add((X509Certificate) CertificateFactory.getInstance("X.509")
                            .generateCertificate(new ByteArrayInputStream(holder.getEncoded())));
                } catch (CertificateException | IOException e) {
                    throw new Unusable(file, false, BAD_CERTIFICATE);
                }
            }
        } catch (IOException e) {
            throw new Unusable(file, false, NOT_PEM);
        }
        if (certificates.isEmpty()) {
            throw new Unusable(file, false, NO_CERTIFICATE);
        }
        return certificates;
    }

    private static PrivateKey privateKey(Path file) throws Unusable {
        if (Files.isRegularFile(file)) {
            try {
                Set<PosixFilePermission> mode = Files.getPosixFilePermissions(file);
                if (mode.stream().anyMatch(FORBIDDEN::contains)) {
                    throw new Unusable(file, true, String.format(KEY_FILE_TOO_OPEN,
                            PosixFilePermissions.toString(mode)));
                }
            } catch (UnsupportedOperationException | IOException e) {
                // Not a POSIX file system: nothing to check.
            }
        }
        List<Object> objects = new ArrayList<>();
        try (PEMParser parser = new PEMParser(new StringReader(readText(file, true)))) {
            Object object;
            while ((object = next(parser, file, true)) != null) {
                objects.add(object);
            }
        } catch (IOException e) {
            throw new Unusable(file, true, NOT_PEM);
        }
        if (objects.size() != 1) {
            throw new Unusable(file, true, NOT_ONE_KEY);
        }
        Object object = objects.get(0);
        if (object instanceof PEMEncryptedKeyPair || object instanceof PKCS8EncryptedPrivateKeyInfo) {
            throw new Unusable(file, true, ENCRYPTED_KEY);
        }
        // The JDK providers, not BouncyCastle: JSSE signs with the key, and names it "EC" rather than "ECDSA".
        JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
        try {
            if (object instanceof PrivateKeyInfo info) {
                return converter.getPrivateKey(info);
            }
            if (object instanceof PEMKeyPair pair) {
                return converter.getKeyPair(pair).getPrivate();
            }
        } catch (org.bouncycastle.openssl.PEMException | RuntimeException e) {
            throw new Unusable(file, true, UNDECODABLE_KEY);
        }
        throw new Unusable(file, true, NOT_ONE_KEY);
    }

    private static Object next(PEMParser parser, Path file, boolean isKey) throws Unusable {
        try {
            return parser.readObject();
        } catch (IOException | RuntimeException e) {
            // Never echo the parser's message: for a key file it may quote the content.
            throw new Unusable(file, isKey, NOT_PEM);
        }
    }

    private static boolean matches(PublicKey certificateKey, PrivateKey key) {
        String algorithm = key.getAlgorithm().equals("EC") ? "SHA256withECDSA" : "SHA256withRSA";
        try {
            byte[] probe = "bourne serving certificate key check".getBytes(StandardCharsets.US_ASCII);
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(probe);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(certificateKey);
            verifier.update(probe);
            return verifier.verify(signature);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    @Override
    public String toString() {
        return "ServingCertificateFiles[" + certFile + ", " + keyFile + "]";
    }
}
