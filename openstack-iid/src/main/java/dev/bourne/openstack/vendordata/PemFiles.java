package dev.bourne.openstack.vendordata;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;

/**
 * Reads the PEM files of the signing service's configuration (TLS certificate chain and key, client CA, auth token)
 * with a size bound and, for files holding secrets, a permission check. Each failure is an {@link Unusable} whose
 * message says what is wrong with the file, never what is in it.
 */
final class PemFiles {
    /** Largest file read: a certificate bundle of a few dozen CAs; anything larger is not one of ours. */
    static final int MAX_BYTES = 256 * 1024;

    static final String NO_SUCH_FILE = "no such file";
    static final String PERMISSION_DENIED = "permission denied";
    static final String NOT_REGULAR = "not a regular file";
    static final String TOO_LARGE = "larger than " + MAX_BYTES + " bytes";
    static final String TOO_OPEN = "readable by others or writable by its group; a secret file must have mode 0600 or 0640 (chmod 600 it)";
    static final String NO_CERTIFICATES = "no PEM certificate (-----BEGIN CERTIFICATE-----) in it";
    static final String BAD_CERTIFICATE = "a certificate in it cannot be parsed";
    static final String NO_KEY = "no PEM private key (PRIVATE KEY, EC PRIVATE KEY or RSA PRIVATE KEY) in it";
    static final String ENCRYPTED_KEY = "the private key is encrypted and the service cannot ask for a passphrase; "
            + "decrypt it into a file readable only by the service";
    static final String BAD_KEY = "the private key in it cannot be parsed";
    static final String MORE_THAN_ONE_KEY = "more than one private key in it";

    /** Mode bits that make a secret file readable or writable beyond its owner and group's read. */
    private static final Set<PosixFilePermission> TOO_OPEN_BITS = EnumSet.of(PosixFilePermission.GROUP_WRITE,
            PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_EXECUTE);

    private PemFiles() {
    }

    /** A file that cannot be used, and why. */
    static final class Unusable extends Exception {
        private static final long serialVersionUID = 1L;

        Unusable(String reason) {
            super(reason);
        }
    }

    /**
     * The bytes of {@code file}, at most {@link #MAX_BYTES}. With {@code secret}, the file (the link's target: secret
     * mounts and systemd credentials are links) must not be readable by others nor writable by its group.
     */
    static byte[] read(Path file, boolean secret) throws Unusable {
        try {
            if (!Files.exists(file)) {
                throw new Unusable(NO_SUCH_FILE);
            }
            if (!Files.isRegularFile(file)) {
                throw new Unusable(NOT_REGULAR);
            }
            if (secret) {
                Set<PosixFilePermission> mode = Files.getPosixFilePermissions(file);
                if (mode.stream().anyMatch(TOO_OPEN_BITS::contains)) {
                    throw new Unusable(TOO_OPEN);
                }
            }
            byte[] bytes;
            try (InputStream in = Files.newInputStream(file)) {
                bytes = in.readNBytes(MAX_BYTES + 1);
            }
            if (bytes.length > MAX_BYTES) {
                Arrays.fill(bytes, (byte) 0);
                throw new Unusable(TOO_LARGE);
            }
            return bytes;
        } catch (NoSuchFileException e) {
            throw new Unusable(NO_SUCH_FILE);
        } catch (AccessDeniedException e) {
            throw new Unusable(PERMISSION_DENIED);
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            throw new Unusable("cannot be read: " + e.getClass().getSimpleName());
        }
    }

    /** Every certificate in a PEM file, in file order; at least one. */
    static List<X509Certificate> certificates(Path file) throws Unusable {
        byte[] bytes = read(file, false);
        List<X509Certificate> certificates = new ArrayList<>();
        try (PEMParser parser = new PEMParser(new StringReader(new String(bytes, StandardCharsets.US_ASCII)))) {
            CertificateFactory factory = CertificateFactory.getInstance("X.509");
            Object object;
            while ((object = parser.readObject()) != null) {
                if (object instanceof X509CertificateHolder holder) {
                    certificates.add((X509Certificate) factory.generateCertificate(
                            new ByteArrayInputStream(holder.getEncoded())));
                }
            }
        } catch (IOException | CertificateException | RuntimeException e) {
            // PEMParser reports broken base64 or DER as IOException or as a runtime exception from the ASN.1 layer.
            throw new Unusable(BAD_CERTIFICATE);
        }
        if (certificates.isEmpty()) {
            throw new Unusable(NO_CERTIFICATES);
        }
        return List.copyOf(certificates);
    }

    /** The one private key of a PEM file (PKCS#8, SEC 1 or PKCS#1), which must be a secret file. */
    static PrivateKey privateKey(Path file) throws Unusable {
        byte[] bytes = read(file, true);
        PrivateKey key = null;
        try (PEMParser parser = new PEMParser(new StringReader(new String(bytes, StandardCharsets.US_ASCII)))) {
            JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
            Object object;
            while ((object = parser.readObject()) != null) {
                PrivateKey found;
                if (object instanceof PEMEncryptedKeyPair || object instanceof PKCS8EncryptedPrivateKeyInfo) {
                    throw new Unusable(ENCRYPTED_KEY);
                } else if (object instanceof PEMKeyPair pair) {
                    found = converter.getPrivateKey(pair.getPrivateKeyInfo());
                } else if (object instanceof PrivateKeyInfo info) {
                    found = converter.getPrivateKey(info);
                } else {
                    continue;
                }
                if (key != null) {
                    throw new Unusable(MORE_THAN_ONE_KEY);
                }
                key = found;
            }
        } catch (IOException | RuntimeException e) {
            throw new Unusable(BAD_KEY);
        } finally {
            Arrays.fill(bytes, (byte) 0);
        }
        if (key == null) {
            throw new Unusable(NO_KEY);
        }
        return key;
    }
}
