package dev.bourne.appliance.cli;

import dev.bourne.appliance.admin.EkEncodings;
import dev.bourne.tpm.common.EkHash;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Base64;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;

/**
 * Reads the EK certificate or public key files a security team enrols from: PEM (one {@code CERTIFICATE} or
 * {@code PUBLIC KEY} block, as {@code tpm2_createek -f pem}, {@code tpm2_readpublic -f pem} and {@code openssl} write
 * them) or DER, checked locally with the server's own parser before anything is sent. Every failure is one constant
 * reason: file contents are never quoted, so a private key given by mistake appears in no output.
 */
final class EkFiles {
    /** A PEM EK certificate of the largest size the server accepts is about 22 KiB. */
    static final int MAX_FILE_BYTES = 64 * 1024;

    static final String TOO_LARGE = "is larger than " + MAX_FILE_BYTES + " bytes";
    static final String UNREADABLE = "cannot be read";
    static final String NO_SUCH_FILE = "does not exist";
    static final String PRIVATE_KEY = "holds a private key, which is never enrolled and must not leave the TPM:"
            + " give the EK's public key or certificate";
    static final String NOT_PEM_CERTIFICATE = "is not one PEM CERTIFICATE block";
    static final String NOT_PEM_PUBLIC_KEY = "is not one PEM PUBLIC KEY block (SubjectPublicKeyInfo)";
    static final String PEM_BASE64_INVALID = "holds a PEM block that is not valid base64";

    /** What a file holds. */
    enum Kind {
        CERTIFICATE("CERTIFICATE"), PUBLIC_KEY("PUBLIC KEY");

        final String pemLabel;

        Kind(String pemLabel) {
            this.pemLabel = pemLabel;
        }
    }

    /** An EK file read and checked: the DER to send and the EK hash the server will compute. */
    record Ek(Kind kind, byte[] der, String ekHash) {
    }

    private EkFiles() {
    }

    /**
     * Reads and checks one EK file.
     *
     * @throws IllegalArgumentException with one of this class's or {@link EkEncodings}'s reasons
     */
    static Ek read(Path file, Kind kind) {
        byte[] bytes;
        try {
            if (Files.size(file) > MAX_FILE_BYTES) {
                throw new IllegalArgumentException(TOO_LARGE);
            }
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException(NO_SUCH_FILE);
        } catch (IOException e) {
            throw new IllegalArgumentException(UNREADABLE);
        }
        if (bytes.length > MAX_FILE_BYTES) {
            throw new IllegalArgumentException(TOO_LARGE);
        }
        byte[] der = isPem(bytes) ? pem(bytes, kind) : bytes;
        if (isPrivateKey(der)) {
            throw new IllegalArgumentException(PRIVATE_KEY);
        }
        if (kind == Kind.CERTIFICATE) {
            return new Ek(kind, der, EkHash.of(EkEncodings.certificate(der).getPublicKey()));
        }
        return new Ek(kind, der, EkHash.of(EkEncodings.publicKey(der)));
    }

    private static boolean isPem(byte[] bytes) {
        String start = new String(bytes, 0, Math.min(bytes.length, 64), StandardCharsets.ISO_8859_1).stripLeading();
        return start.startsWith("-----BEGIN ");
    }

    private static byte[] pem(byte[] bytes, Kind kind) {
        String text = new String(bytes, StandardCharsets.ISO_8859_1);
        if (text.contains("PRIVATE KEY-----")) {
            throw new IllegalArgumentException(PRIVATE_KEY);
        }
        String reason = kind == Kind.CERTIFICATE ? NOT_PEM_CERTIFICATE : NOT_PEM_PUBLIC_KEY;
        String begin = "-----BEGIN " + kind.pemLabel + "-----";
        String end = "-----END " + kind.pemLabel + "-----";
        String trimmed = text.strip();
        if (!trimmed.startsWith(begin) || !trimmed.endsWith(end) || trimmed.indexOf("-----BEGIN ", 1) >= 0) {
            throw new IllegalArgumentException(reason);
        }
        String body = trimmed.substring(begin.length(), trimmed.length() - end.length());
        try {
            byte[] der = Base64.getDecoder().decode(body.replaceAll("\\s", ""));
            if (der.length == 0) {
                throw new IllegalArgumentException(PEM_BASE64_INVALID);
            }
            return der;
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(PEM_BASE64_INVALID);
        }
    }

    /** Whether DER bytes have the shape of a PKCS#8 PrivateKeyInfo; then they are refused as such, unquoted. */
    private static boolean isPrivateKey(byte[] der) {
        try {
            return der.length > 0 && PrivateKeyInfo.getInstance(ASN1Primitive.fromByteArray(der)) != null;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }
}
