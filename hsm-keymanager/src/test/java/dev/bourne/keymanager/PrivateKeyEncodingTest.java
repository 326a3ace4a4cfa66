package dev.bourne.keymanager;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.bourne.testing.source.PrivateKeyEncodingCheck;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** No code of this module encodes a private key, except the disk key manager writing its own PKCS#8 files. */
class PrivateKeyEncodingTest {

    private static final Path MAIN_SOURCES = Path.of("src/main/java");
    /** The one allowed place: the disk key manager writing its own key file. */
    private static final Set<String> ALLOWED = Set.of("dev.bourne.keymanager.disk.DiskKeyManager#write");
    /** What this module's compiler needs too (pkcs11.internal.Pkcs11Module uses the JDK's PKCS#11 wrapper). */
    private static final List<String> OPTIONS = List.of("--add-modules", "jdk.crypto.cryptoki", "--add-exports",
            "jdk.crypto.cryptoki/sun.security.pkcs11.wrapper=ALL-UNNAMED");

    private static List<PrivateKeyEncodingCheck.Violation> check(Path root) {
        return PrivateKeyEncodingCheck.check(List.of(root), System.getProperty("java.class.path"), ALLOWED, OPTIONS);
    }

    @Test
    void mainSources_neverEncodeAPrivateKey() {
        assertEquals(List.of(), check(MAIN_SOURCES));
    }

    @Test
    void plantedViolation_inACopyOfTheSources_isFound(@TempDir Path copy) throws IOException {
        try (Stream<Path> files = Files.walk(MAIN_SOURCES)) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                Path target = copy.resolve(MAIN_SOURCES.relativize(file).toString());
                Files.createDirectories(target.getParent());
                Files.copy(file, target);
            }
        }
        Path planted = copy.resolve("dev/bourne/keymanager/internal/Leak.java");
        Files.writeString(planted, """
                package dev.bourne.keymanager.internal;

                final class Leak {
                    static byte[] export(dev.bourne.core.keymanager.ManagedKey key, java.security.KeyPair pair) {
                        return pair.getPrivate().getEncoded();
                    }
                }
                """);

        List<PrivateKeyEncodingCheck.Violation> found = check(copy);

        assertEquals(List.of(new PrivateKeyEncodingCheck.Violation(planted.toAbsolutePath(), 5,
                "dev.bourne.keymanager.internal.Leak#export", "java.security.PrivateKey")),
                found.stream().map(v -> new PrivateKeyEncodingCheck.Violation(v.file().toAbsolutePath(), v.line(),
                        v.method(), v.receiverType())).toList());
    }
}
