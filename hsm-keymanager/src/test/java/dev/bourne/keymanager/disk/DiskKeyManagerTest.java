package dev.bourne.keymanager.disk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bourne.core.keymanager.KeyManager;
import dev.bourne.core.keymanager.KeyManagerException;
import dev.bourne.core.keymanager.KeyType;
import dev.bourne.core.keymanager.ManagedKey;
import dev.bourne.core.keymanager.SignatureAlgorithm;
import dev.bourne.keymanager.KeyManagerContract;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DiskKeyManagerTest extends KeyManagerContract {

    /** Static: one directory for the class's key manager (the contract keeps it across tests). */
    @TempDir
    static Path root;

    private Path keysDirectory() {
        return root.resolve("keys");
    }

    @Override
    protected KeyManager open() throws Exception {
        return DiskKeyManager.open(keysDirectory(), new SecureRandom());
    }

    @Override
    protected boolean persistent() {
        return true;
    }

    private static DiskKeyManager openIn(Path directory) throws KeyManagerException {
        return DiskKeyManager.open(directory, new SecureRandom());
    }

    @Test
    void keyFile_mode0600_inDirectory0700_publicAndPrivateBlocks_noTemporaryFileLeft() throws Exception {
        ManagedKey key = keyManager().generateKey("x509-CA-A", KeyType.EC_P256);

        Path file = keysDirectory().resolve("x509-CA-A.key");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(keysDirectory())));
        String text = Files.readString(file);
        assertTrue(text.startsWith("-----BEGIN PUBLIC KEY-----\n"), text.substring(0, 30));
        assertTrue(text.contains("-----BEGIN PRIVATE KEY-----\n"));
        try (Stream<Path> files = Files.list(keysDirectory())) {
            assertEquals(List.of(), files.filter(p -> p.getFileName().toString().startsWith(".")).toList());
        }
        assertEquals(key.id(), ((DiskKeyManager) keyManager()).file("x509-CA-A").getFileName().toString()
                .replace(".key", ""));
    }

    @Test
    void keyFileReadableByGroup_refusedNamingTheFile(@TempDir Path directory) throws Exception {
        try (DiskKeyManager writer = openIn(directory)) {
            writer.generateKey("open", KeyType.EC_P256);
        }
        Path file = directory.resolve("open.key");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r-----"));

        try (DiskKeyManager reader = openIn(directory)) {
            KeyManagerException e = assertThrows(KeyManagerException.class, () -> reader.getKey("open"));
            assertEquals(String.format(DiskKeyManager.FILE_TOO_OPEN, file), e.getMessage());
            assertThrows(KeyManagerException.class, reader::getKeys);
        }
    }

    @Test
    void corruptKeyFile_refusedNamingTheFile(@TempDir Path directory) throws Exception {
        Path file = directory.resolve("broken.key");
        Files.writeString(file, "-----BEGIN PUBLIC KEY-----\n!!!not base64!!!\n-----END PUBLIC KEY-----\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));

        try (DiskKeyManager km = openIn(directory)) {
            KeyManagerException e = assertThrows(KeyManagerException.class, () -> km.getKey("broken"));
            assertEquals(String.format(DiskKeyManager.FILE_CORRUPT, file, "the PUBLIC KEY block is not base64"),
                    e.getMessage());
        }
    }

    @Test
    void keyFileWithoutPublicBlock_refusedNamingTheFile(@TempDir Path directory) throws Exception {
        Path file = directory.resolve("garbage.key");
        Files.writeString(file, "hello\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));

        try (DiskKeyManager km = openIn(directory)) {
            KeyManagerException e = assertThrows(KeyManagerException.class, km::getKeys);
            assertEquals(String.format(DiskKeyManager.FILE_CORRUPT, file, "expected one PUBLIC KEY PEM block"),
                    e.getMessage());
        }
    }

    @Test
    void privateKeyNotMatchingPublicKey_refusedWhenSigning(@TempDir Path directory) throws Exception {
        try (DiskKeyManager writer = openIn(directory)) {
            writer.generateKey("a", KeyType.EC_P256);
            writer.generateKey("b", KeyType.EC_P256);
        }
        String a = Files.readString(directory.resolve("a.key"));
        String b = Files.readString(directory.resolve("b.key"));
        Path file = directory.resolve("a.key");
        Files.writeString(file, a.substring(0, a.indexOf("-----BEGIN PRIVATE KEY-----"))
                + b.substring(b.indexOf("-----BEGIN PRIVATE KEY-----")));

        try (DiskKeyManager km = openIn(directory)) {
            ManagedKey key = km.getKey("a").orElseThrow();
            KeyManagerException e = assertThrows(KeyManagerException.class,
                    () -> key.sign(SignatureAlgorithm.ECDSA_SHA256, new byte[] {1}));
            assertEquals(String.format(DiskKeyManager.FILE_CORRUPT, file,
                    "the private key does not match the public key"), e.getMessage());
        }
    }

    @Test
    void oversizedKeyFile_refusedNamingTheFile(@TempDir Path directory) throws Exception {
        Path file = directory.resolve("huge.key");
        Files.write(file, new byte[DiskKeyManager.MAX_FILE_BYTES + 1]);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));

        try (DiskKeyManager km = openIn(directory)) {
            KeyManagerException e = assertThrows(KeyManagerException.class, () -> km.getKey("huge"));
            assertEquals(String.format(DiskKeyManager.FILE_TOO_BIG, file), e.getMessage());
        }
    }

    @Test
    void keyFileSymbolicLink_refusedNamingTheFile(@TempDir Path directory) throws Exception {
        Path elsewhere = directory.resolve("elsewhere");
        Files.createDirectory(elsewhere);
        try (DiskKeyManager writer = openIn(elsewhere)) {
            writer.generateKey("real", KeyType.EC_P256);
        }
        Path keys = directory.resolve("keys");
        try (DiskKeyManager km = openIn(keys)) {
            Path link = keys.resolve("linked.key");
            Files.createSymbolicLink(link, elsewhere.resolve("real.key"));

            KeyManagerException e = assertThrows(KeyManagerException.class, () -> km.getKey("linked"));
            assertEquals(String.format(DiskKeyManager.FILE_NOT_REGULAR, link), e.getMessage());
        }
    }

    @Test
    void keysDirectoryWritableByOthers_refused(@TempDir Path directory) throws Exception {
        Files.setPosixFilePermissions(directory, PosixFilePermissions.fromString("rwxrwxrwx"));

        KeyManagerException e = assertThrows(KeyManagerException.class, () -> openIn(directory));
        assertEquals(String.format(DiskKeyManager.DIRECTORY_TOO_OPEN, directory), e.getMessage());
    }
}
