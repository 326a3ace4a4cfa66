package dev.bourne.appliance.federation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.bourne.appliance.agentapi.TlsCredential;
import dev.bourne.testing.pki.TestCa;
import dev.bourne.testing.pki.TestKeys;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ServingCertificateFilesTest {
    static final TestCa CA = TestCa.root("web.test");

    @TempDir
    Path dir;
    Path cert;
    Path key;
    KeyPair keys;
    X509Certificate leaf;

    @BeforeEach
    void files() throws Exception {
        cert = dir.resolve("cert.pem");
        key = dir.resolve("key.pem");
        keys = TestKeys.freshEcP256();
        leaf = CA.leafSpec("spiffe://web.test/x", keys.getPublic()).uris().dnsNames("localhost").issue();
        HttpsClients.writeChain(cert, List.of(leaf, CA.certificate()));
        HttpsClients.writeKey(key, keys.getPrivate(), "rw-------");
    }

    @Test
    void read_chainAndKey_credentialLeafFirst() throws Exception {
        TlsCredential credential = ServingCertificateFiles.read(cert, key);

        assertEquals(List.of(leaf, CA.certificate()), credential.chain());
    }

    @Test
    void read_groupReadableKey_accepted() throws Exception {
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-r-----"));

        assertEquals(leaf, ServingCertificateFiles.read(cert, key).chain().get(0));
    }

    @Test
    void read_rsaKey_accepted() throws Exception {
        KeyPair rsa = TestKeys.rsa2048(0);
        HttpsClients.writeChain(cert, List.of(CA.leafSpec("spiffe://web.test/x", rsa.getPublic()).uris()
                .dnsNames("localhost").keyUsage(org.bouncycastle.asn1.x509.KeyUsage.digitalSignature, true).issue()));
        HttpsClients.writeKey(key, rsa.getPrivate(), "rw-------");

        assertEquals("RSA", ServingCertificateFiles.read(cert, key).privateKey().getAlgorithm());
    }

    interface Setup {
        void apply(ServingCertificateFilesTest t) throws Exception;
    }

    static Stream<Arguments> unusable() {
        return Stream.of(
                Arguments.of("certMissing", (Setup) t -> Files.delete(t.cert), false,
                        ServingCertificateFiles.NO_SUCH_FILE),
                Arguments.of("keyMissing", (Setup) t -> Files.delete(t.key), true,
                        ServingCertificateFiles.NO_SUCH_FILE),
                Arguments.of("certDirectory", (Setup) t -> {
                    Files.delete(t.cert);
                    Files.createDirectory(t.cert);
                }, false, ServingCertificateFiles.NOT_REGULAR),
                Arguments.of("certTooLarge", (Setup) t -> Files.write(t.cert,
                        new byte[ServingCertificateFiles.MAX_BYTES + 1]), false, ServingCertificateFiles.TOO_LARGE),
                Arguments.of("certEmpty", (Setup) t -> Files.writeString(t.cert, ""), false,
                        ServingCertificateFiles.NO_CERTIFICATE),
                Arguments.of("certGarbage", (Setup) t -> Files.writeString(t.cert,
                        "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n"), false,
                        ServingCertificateFiles.NOT_PEM),
                Arguments.of("certFileHoldsKey", (Setup) t -> Files.copy(t.key, t.cert,
                        java.nio.file.StandardCopyOption.REPLACE_EXISTING), false,
                        ServingCertificateFiles.NOT_CERTIFICATE),
                Arguments.of("keyWorldReadable", (Setup) t -> Files.setPosixFilePermissions(t.key,
                        PosixFilePermissions.fromString("rw-r--r--")), true,
                        String.format(ServingCertificateFiles.KEY_FILE_TOO_OPEN, "rw-r--r--")),
                Arguments.of("keyGroupWritable", (Setup) t -> Files.setPosixFilePermissions(t.key,
                        PosixFilePermissions.fromString("rw-rw----")), true,
                        String.format(ServingCertificateFiles.KEY_FILE_TOO_OPEN, "rw-rw----")),
                Arguments.of("keyFileHoldsCertificate", (Setup) t -> {
                    HttpsClients.writeChain(t.key, List.of(t.leaf));
                }, true, ServingCertificateFiles.NOT_ONE_KEY),
                Arguments.of("twoKeys", (Setup) t -> Files.writeString(t.key, Files.readString(t.key)
                        + Files.readString(t.key)), true, ServingCertificateFiles.NOT_ONE_KEY),
                Arguments.of("encryptedKey", (Setup) t -> encrypted(t.key, t.keys), true,
                        ServingCertificateFiles.ENCRYPTED_KEY),
                Arguments.of("keyOfAnotherCertificate", (Setup) t -> HttpsClients.writeKey(t.key,
                        TestKeys.freshEcP256().getPrivate(), "rw-------"), false,
                        ServingCertificateFiles.CHAIN_MISMATCH));
    }

    /** The key as encrypted PKCS#8, as {@code openssl pkcs8 -topk8} writes it with a pass phrase. */
    static void encrypted(Path file, KeyPair keys) throws Exception {
        java.io.StringWriter text = new java.io.StringWriter();
        try (org.bouncycastle.openssl.jcajce.JcaPEMWriter writer = new org.bouncycastle.openssl.jcajce.JcaPEMWriter(
                text)) {
            writer.writeObject(new org.bouncycastle.openssl.jcajce.JcaPKCS8Generator(keys.getPrivate(),
                    new org.bouncycastle.openssl.jcajce.JceOpenSSLPKCS8EncryptorBuilder(
                            org.bouncycastle.openssl.PKCS8Generator.AES_256_CBC).setProvider(new org.bouncycastle.jce.provider.BouncyCastleProvider())
                            .setPassword("pw".toCharArray()).build()));
        }
        Files.writeString(file, text.toString(), StandardCharsets.US_ASCII);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("unusable")
    void read_unusableFile_namesTheFileAndWhy(String name, Setup setup, boolean keyFile, String reason)
            throws Exception {
        setup.apply(this);

        ServingCertificateFiles.Unusable e = assertThrows(ServingCertificateFiles.Unusable.class,
                () -> ServingCertificateFiles.read(cert, key));

        assertEquals(keyFile, e.isKeyFile());
        assertEquals((keyFile ? key : cert) + ": " + reason, e.getMessage());
    }

    @Test
    void get_filesReplaced_newCredential() throws Exception {
        ServingCertificateFiles files = ServingCertificateFiles.load(cert, key);
        TlsCredential first = files.get();
        assertSame(first, files.get(), "unchanged files are not re-read");

        KeyPair next = TestKeys.freshEcP256();
        X509Certificate renewed = CA.leafSpec("spiffe://web.test/x", next.getPublic()).uris().dnsNames("localhost")
                .issue();
        HttpsClients.writeChain(cert, List.of(renewed));
        HttpsClients.writeKey(key, next.getPrivate(), "rw-------");
        Files.setLastModifiedTime(cert, FileTime.from(Instant.now().plusSeconds(10)));

        assertEquals(renewed, files.get().chain().get(0));
    }

    @Test
    void get_filesReplacedByABadPair_keepsTheWorkingCredential() throws Exception {
        ServingCertificateFiles files = ServingCertificateFiles.load(cert, key);
        TlsCredential first = files.get();

        // A new certificate without its key yet (the operator copies the files one at a time).
        X509Certificate other = CA.leafSpec("spiffe://web.test/x", TestKeys.freshEcP256().getPublic()).uris()
                .dnsNames("localhost").issue();
        HttpsClients.writeChain(cert, List.of(other));
        Files.setLastModifiedTime(cert, FileTime.from(Instant.now().plusSeconds(10)));

        assertSame(first, files.get());
        Files.delete(cert);
        assertSame(first, files.get());
    }

    @Test
    void unusable_neverQuotesTheKeyFile() throws Exception {
        Files.writeString(key, "-----BEGIN PRIVATE KEY-----\nsecretsecretsecret\n-----END PRIVATE KEY-----\n",
                StandardCharsets.US_ASCII);

        ServingCertificateFiles.Unusable e = assertThrows(ServingCertificateFiles.Unusable.class,
                () -> ServingCertificateFiles.read(cert, key));

        assertEquals(key + ": " + ServingCertificateFiles.NOT_PEM, e.getMessage());
    }
}
