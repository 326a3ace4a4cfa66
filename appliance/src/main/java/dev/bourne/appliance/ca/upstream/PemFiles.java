package dev.bourne.appliance.ca.upstream;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;

/**
 * Reading the PEM files an operator gives an upstream authority: bounded in size, certificates in order, one
 * unencrypted private key, and the key file's permissions checked first. Errors are {@link IOException}s whose
 * message is the reason alone (the caller names the key and file); they never contain key material.
 */
final class PemFiles {
    /** Largest PEM file read: a long chain is a few tens of kilobytes. */
    static final int MAX_BYTES = 256 * 1024;

    static final String KEY_FILE_TOO_OPEN = "is accessible by group or others (mode %s); make it 0600 or 0400";
    static final String NO_CERTIFICATE = "holds no PEM certificate";
    static final String NOT_ONE_KEY = "must hold exactly one PEM private key";
    static final String ENCRYPTED_KEY = "holds an encrypted private key; give an unencrypted PKCS#8 or"
            + " traditional key in a 0600 file";

    private static final BouncyCastleProvider BC = new BouncyCastleProvider();
    private static final Set<PosixFilePermission> GROUP_OR_OTHERS = EnumSet.of(PosixFilePermission.GROUP_READ,
            PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.OTHERS_READ,
            PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_EXECUTE);

    private PemFiles() {
    }

    static String read(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IOException(Files.exists(file) ? "is not a regular file" : "does not exist");
        }
        if (Files.size(file) > MAX_BYTES) {
            throw new IOException("is larger than " + MAX_BYTES + " bytes");
        }
        byte[] bytes;
        try (InputStream in = Files.newInputStream(file)) {
            bytes = in.readNBytes(MAX_BYTES + 1);
        }
        if (bytes.length > MAX_BYTES) {
            throw new IOException("is larger than " + MAX_BYTES + " bytes");
        }
        return new String(bytes, StandardCharsets.US_ASCII);
    }

    /** Every certificate in the file, in file order; other PEM objects are refused. */
    static List<X509Certificate> certificates(Path file) throws IOException {
        List<X509Certificate> certificates = new ArrayList<>();
        try (PEMParser parser = new PEMParser(new StringReader(read(file)))) {
            Object object;
            while ((object = next(parser)) != null) {
                if (!(object instanceof X509CertificateHolder holder)) {
                    throw new IOException("holds a PEM object that is not a certificate");
                }
                try {
                    certificates.add((X509Certificate) CertificateFactory.getInstance("X.509")
                            .generateCertificate(new ByteArrayInputStream(holder.getEncoded())));
                } catch (CertificateException e) {
                    throw new IOException("holds a certificate that cannot be parsed");
                }
            }
        }
        if (certificates.isEmpty()) {
            throw new IOException(NO_CERTIFICATE);
        }
        return certificates;
    }

    /** The private key in a file that only its owner can access. */
    static PrivateKey privateKey(Path file) throws IOException {
        if (Files.isRegularFile(file)) {
            Set<PosixFilePermission> mode = Files.getPosixFilePermissions(file);
            // A CA key readable by others is a CA key others may have copied: refuse it rather than use it.
            if (mode.stream().anyMatch(GROUP_OR_OTHERS::contains)) {
                throw new IOException(String.format(KEY_FILE_TOO_OPEN, PosixFilePermissions.toString(mode)));
            }
        }
        List<Object> objects = new ArrayList<>();
        try (PEMParser parser = new PEMParser(new StringReader(read(file)))) {
            Object object;
            while ((object = next(parser)) != null) {
                objects.add(object);
            }
        }
        if (objects.size() != 1) {
            throw new IOException(NOT_ONE_KEY);
        }
        Object object = objects.get(0);
        JcaPEMKeyConverter converter = new JcaPEMKeyConverter().setProvider(BC);
        try {
            if (object instanceof PEMEncryptedKeyPair || object instanceof PKCS8EncryptedPrivateKeyInfo) {
                throw new IOException(ENCRYPTED_KEY);
            }
            if (object instanceof PrivateKeyInfo info) {
                return converter.getPrivateKey(info);
            }
            if (object instanceof PEMKeyPair pair) {
                return converter.getKeyPair(pair).getPrivate();
            }
        } catch (org.bouncycastle.openssl.PEMException e) {
            throw new IOException("holds a private key that cannot be decoded");
        }
        throw new IOException(NOT_ONE_KEY);
    }

    private static Object next(PEMParser parser) throws IOException {
        try {
            return parser.readObject();
        } catch (IOException | RuntimeException e) {
            // Never echo the parser's message: for a key file it may quote the content.
            throw new IOException("is not valid PEM");
        }
    }
}
