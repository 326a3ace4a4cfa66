package dev.bourne.testing.source;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PrivateKeyEncodingCheckTest {

    private static final String SNIPPET = """
            package planted;

            import java.security.Key;
            import java.security.KeyPair;
            import java.security.PrivateKey;
            import java.security.PublicKey;
            import java.security.cert.Certificate;
            import java.security.interfaces.ECPrivateKey;
            import java.util.function.Function;
            import javax.crypto.SecretKey;

            public class Leaks {
                byte[] privateKey(PrivateKey key) {
                    return key.getEncoded();
                }

                byte[] ecKey(ECPrivateKey key) {
                    return key.getEncoded();
                }

                byte[] rawKey(Key key) {
                    return key.getEncoded();
                }

                byte[] fromPair(KeyPair pair) {
                    return pair.getPrivate().getEncoded();
                }

                <T extends PrivateKey> byte[] generic(T key) {
                    return key.getEncoded();
                }

                Function<PrivateKey, byte[]> reference() {
                    return PrivateKey::getEncoded;
                }

                byte[] allowed(PrivateKey key) {
                    return key.getEncoded();
                }

                byte[] publicKey(PublicKey key) {
                    return key.getEncoded();
                }

                byte[] certificate(Certificate certificate) throws Exception {
                    return certificate.getEncoded();
                }

                byte[] secretKey(SecretKey key) {
                    return key.getEncoded();
                }

                static class Nested {
                    byte[] inLambda(PrivateKey key) {
                        Function<PrivateKey, byte[]> f = k -> k.getEncoded();
                        return f.apply(key);
                    }
                }
            }
            """;

    private static Path plant(Path root, String source) throws Exception {
        Path file = root.resolve("planted/Leaks.java");
        Files.createDirectories(file.getParent());
        Files.writeString(file, source);
        return file;
    }

    @Test
    void check_findsEveryPrivateKeyEncoding_notPublicKeysCertificatesOrSecretKeys(@TempDir Path root)
            throws Exception {
        Path file = plant(root, SNIPPET);

        List<PrivateKeyEncodingCheck.Violation> found = PrivateKeyEncodingCheck.check(List.of(root), "",
                Set.of("planted.Leaks#allowed"), List.of());

        assertEquals(List.of(
                        new PrivateKeyEncodingCheck.Violation(file, 14, "planted.Leaks#privateKey",
                                "java.security.PrivateKey"),
                        new PrivateKeyEncodingCheck.Violation(file, 18, "planted.Leaks#ecKey",
                                "java.security.interfaces.ECPrivateKey"),
                        new PrivateKeyEncodingCheck.Violation(file, 22, "planted.Leaks#rawKey", "java.security.Key"),
                        new PrivateKeyEncodingCheck.Violation(file, 26, "planted.Leaks#fromPair",
                                "java.security.PrivateKey"),
                        new PrivateKeyEncodingCheck.Violation(file, 30, "planted.Leaks#generic", "T"),
                        new PrivateKeyEncodingCheck.Violation(file, 34, "planted.Leaks#reference",
                                "java.security.PrivateKey"),
                        new PrivateKeyEncodingCheck.Violation(file, 55, "planted.Leaks.Nested#inLambda",
                                "java.security.PrivateKey")),
                found.stream().map(v -> new PrivateKeyEncodingCheck.Violation(Path.of(v.file().toString()),
                        v.line(), v.method(), v.receiverType())).toList());
        assertTrue(found.get(0).toString().endsWith("Leaks.java:14: planted.Leaks#privateKey calls getEncoded() on a "
                + "java.security.PrivateKey: private keys must never be encoded"), found.get(0).toString());
    }

    @Test
    void check_withoutAllowlist_reportsTheAllowedCallToo(@TempDir Path root) throws Exception {
        plant(root, SNIPPET);

        List<PrivateKeyEncodingCheck.Violation> found = PrivateKeyEncodingCheck.check(List.of(root), "", Set.of(),
                List.of());

        assertTrue(found.stream().anyMatch(v -> v.method().equals("planted.Leaks#allowed")), found.toString());
        assertEquals(8, found.size());
    }

    @Test
    void check_cleanSources_nothingFound(@TempDir Path root) throws Exception {
        plant(root, """
                package planted;

                public class Leaks {
                    byte[] publicKey(java.security.PublicKey key) {
                        return key.getEncoded();
                    }
                }
                """);

        assertEquals(List.of(), PrivateKeyEncodingCheck.check(List.of(root), "", Set.of(), List.of()));
    }

    @Test
    void check_sourcesThatDoNotCompile_refused(@TempDir Path root) throws Exception {
        plant(root, "package planted; public class Leaks { Missing field; }");

        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> PrivateKeyEncodingCheck.check(List.of(root), "", Set.of(), List.of()));
        assertTrue(e.getMessage().startsWith("the sources do not compile"), e.getMessage());
    }

    @Test
    void check_missingSourceRoot_refused(@TempDir Path root) {
        assertThrows(IllegalArgumentException.class, () -> PrivateKeyEncodingCheck.check(
                List.of(root.resolve("absent")), "", Set.of(), List.of()));
    }
}
