package dev.bourne.keymanager.disk;

import dev.bourne.core.keymanager.KeyManager;
import dev.bourne.core.keymanager.KeyManagerException;
import dev.bourne.core.keymanager.KeyManagerStatus;
import dev.bourne.core.keymanager.KeyType;
import dev.bourne.core.keymanager.ManagedKey;
import dev.bourne.core.keymanager.SignatureAlgorithm;
import dev.bourne.keymanager.internal.AbstractManagedKey;
import dev.bourne.keymanager.internal.JcaManagedKey;
import dev.bourne.keymanager.internal.KeyIds;
import dev.bourne.keymanager.memory.MemoryKeyManager;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The {@code disk} key manager, for development: each key is one file {@code <keys_path>/<id>.key}, mode 0600 in a
 * 0700 directory, holding the public key (PEM {@code PUBLIC KEY}, SubjectPublicKeyInfo) and the private key (PEM
 * {@code PRIVATE KEY}, PKCS#8). Listing reads only the public half; the private key is parsed when the key first signs.
 * Files are written to a temporary file, synced, then renamed over the old one, so a crash leaves the old key or the
 * new one, never half of either. Key files readable by group or others are refused.
 *
 * <p>The private key is in clear on disk: production uses {@code pkcs11}.
 */
public final class DiskKeyManager implements KeyManager {
    public static final String NAME = "disk";
    public static final String SUFFIX = ".key";
    /** A key file is a few kilobytes at most (RSA-4096: about 4 KiB); anything larger is not ours. */
    public static final int MAX_FILE_BYTES = 64 * 1024;

    public static final String FILE_TOO_OPEN = "key file %s can be read or written by group or others: chmod 600 it";
    public static final String FILE_TOO_BIG = "key file %s is larger than " + MAX_FILE_BYTES + " bytes";
    public static final String FILE_NOT_REGULAR = "key file %s is not a regular file";
    public static final String FILE_CORRUPT = "key file %s is corrupt: %s";
    public static final String FILE_UNREADABLE = "cannot read key file %s: %s";
    public static final String DIRECTORY_UNUSABLE = "cannot use keys directory %s: %s";
    public static final String DIRECTORY_TOO_OPEN = "keys directory %s can be written by group or others: chmod 700 it";

    private static final String PUBLIC_BLOCK = "PUBLIC KEY";
    private static final String PRIVATE_BLOCK = "PRIVATE KEY";
    private static final Set<PosixFilePermission> GROUP_OR_OTHERS = Set.of(PosixFilePermission.GROUP_READ,
            PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.OTHERS_READ,
            PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_EXECUTE);

    private final Path directory;
    private final SecureRandom random;
    private final Map<String, DiskManagedKey> keys = new ConcurrentHashMap<>();

    private DiskKeyManager(Path directory, SecureRandom random) {
        this.directory = directory;
        this.random = random;
    }

    /** Opens (creating it, mode 0700, when missing) the keys directory. */
    public static DiskKeyManager open(Path directory, SecureRandom random) throws KeyManagerException {
        Objects.requireNonNull(directory, "directory");
        Objects.requireNonNull(random, "random");
        try {
            if (!Files.exists(directory, LinkOption.NOFOLLOW_LINKS)) {
                Files.createDirectories(directory.toAbsolutePath().getParent());
                Files.createDirectory(directory, PosixFilePermissions.asFileAttribute(
                        PosixFilePermissions.fromString("rwx------")));
                // Set again: the umask may have narrowed the mode, never widened it, but be explicit.
                Files.setPosixFilePermissions(directory, PosixFilePermissions.fromString("rwx------"));
            }
            if (!Files.isDirectory(directory)) {
                throw new KeyManagerException(String.format(DIRECTORY_UNUSABLE, directory, "not a directory"));
            }
            Set<PosixFilePermission> mode = Files.getPosixFilePermissions(directory);
            // Someone else able to write here could plant a key of their choosing.
            if (mode.contains(PosixFilePermission.GROUP_WRITE) || mode.contains(PosixFilePermission.OTHERS_WRITE)) {
                throw new KeyManagerException(String.format(DIRECTORY_TOO_OPEN, directory));
            }
        } catch (IOException | UnsupportedOperationException e) {
            throw new KeyManagerException(String.format(DIRECTORY_UNUSABLE, directory, e.getMessage()), e);
        }
        return new DiskKeyManager(directory, random);
    }

    @Override
    public String name() {
        return NAME;
    }

    /** The directory holding the key files. */
    public Path directory() {
        return directory;
    }

    /** The file of key {@code id}. */
    public Path file(String id) {
        return directory.resolve(KeyIds.check(id) + SUFFIX);
    }

    @Override
    public ManagedKey generateKey(String id, KeyType type) throws KeyManagerException {
        KeyIds.check(id);
        Objects.requireNonNull(type, "type");
        KeyPair pair = MemoryKeyManager.generate(type, random);
        JcaManagedKey.selfTest(new JcaManagedKey(id, type, pair.getPublic(), pair.getPrivate(), null));
        Path file = file(id);
        synchronized (this) {
            write(file, pair);
            DiskManagedKey key = new DiskManagedKey(id, type, pair.getPublic(), file);
            key.loaded(new JcaManagedKey(id, type, pair.getPublic(), pair.getPrivate(), null));
            keys.put(id, key);
            return key;
        }
    }

    @Override
    public Optional<ManagedKey> getKey(String id) throws KeyManagerException {
        Path file = file(id);
        DiskManagedKey cached = keys.get(id);
        if (cached != null) {
            return Optional.of(cached);
        }
        if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
            return Optional.empty();
        }
        return Optional.of(load(id, file));
    }

    @Override
    public List<ManagedKey> getKeys() throws KeyManagerException {
        List<ManagedKey> all = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(directory, "*" + SUFFIX)) {
            for (Path file : files) {
                String name = file.getFileName().toString();
                String id = name.substring(0, name.length() - SUFFIX.length());
                try {
                    KeyIds.check(id);
                } catch (IllegalArgumentException e) {
                    continue; // not a key file of ours (temporary files start with '.')
                }
                DiskManagedKey cached = keys.get(id);
                all.add(cached != null ? cached : load(id, file));
            }
        } catch (IOException e) {
            throw new KeyManagerException(String.format(DIRECTORY_UNUSABLE, directory, e.getMessage()), e);
        }
        return all;
    }

    @Override
    public KeyManagerStatus status() {
        return Files.isDirectory(directory) ? KeyManagerStatus.active()
                : new KeyManagerStatus(KeyManagerStatus.State.UNAVAILABLE, String.format(DIRECTORY_UNUSABLE, directory,
                        "missing"));
    }

    @Override
    public void close() {
        keys.clear();
    }

    @Override
    public String toString() {
        return "DiskKeyManager[" + directory + "]";
    }

    private DiskManagedKey load(String id, Path file) throws KeyManagerException {
        String text = readKeyFile(file);
        byte[] spki = block(file, text, PUBLIC_BLOCK);
        PublicKey publicKey;
        KeyType type;
        try {
            publicKey = publicKey(spki);
            type = typeOf(publicKey);
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new KeyManagerException(String.format(FILE_CORRUPT, file, "unreadable public key"), e);
        }
        DiskManagedKey key = new DiskManagedKey(id, type, publicKey, file);
        DiskManagedKey raced = keys.putIfAbsent(id, key);
        return raced != null ? raced : key;
    }

    private static PublicKey publicKey(byte[] spki) throws GeneralSecurityException {
        X509EncodedKeySpec spec = new X509EncodedKeySpec(spki);
        try {
            return KeyFactory.getInstance("EC").generatePublic(spec);
        } catch (GeneralSecurityException e) {
            return KeyFactory.getInstance("RSA").generatePublic(spec);
        }
    }

    private static KeyType typeOf(PublicKey key) throws GeneralSecurityException {
        if (key instanceof ECPublicKey ec) {
            switch (ec.getParams().getCurve().getField().getFieldSize()) {
                case 256:
                    return KeyType.EC_P256;
                case 384:
                    return KeyType.EC_P384;
                default:
                    break;
            }
        } else if (key instanceof RSAPublicKey rsa) {
            switch (rsa.getModulus().bitLength()) {
                case 2048:
                    return KeyType.RSA_2048;
                case 4096:
                    return KeyType.RSA_4096;
                default:
                    break;
            }
        }
        throw new GeneralSecurityException("not one of " + KeyType.allConfigNames());
    }

    /** The private key of {@code key}'s file, parsed and checked against the public key by a self-test. */
    private static JcaManagedKey loadPrivate(DiskManagedKey key) throws KeyManagerException {
        String text = readKeyFile(key.file());
        byte[] pkcs8 = block(key.file(), text, PRIVATE_BLOCK);
        try {
            PrivateKey privateKey = KeyFactory.getInstance(key.type().jcaAlgorithm())
                    .generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
            JcaManagedKey loaded = new JcaManagedKey(key.id(), key.type(), key.publicKey(), privateKey, null);
            JcaManagedKey.selfTest(loaded);
            return loaded;
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new KeyManagerException(String.format(FILE_CORRUPT, key.file(), "unreadable private key"), e);
        } catch (KeyManagerException e) {
            throw new KeyManagerException(String.format(FILE_CORRUPT, key.file(),
                    "the private key does not match the public key"), e);
        } finally {
            Arrays.fill(pkcs8, (byte) 0);
        }
    }

    private static String readKeyFile(Path file) throws KeyManagerException {
        byte[] bytes = null;
        try {
            PosixFileAttributes attributes = Files.readAttributes(file, PosixFileAttributes.class,
                    LinkOption.NOFOLLOW_LINKS);
            if (!attributes.isRegularFile()) {
                throw new KeyManagerException(String.format(FILE_NOT_REGULAR, file));
            }
            if (attributes.permissions().stream().anyMatch(GROUP_OR_OTHERS::contains)) {
                throw new KeyManagerException(String.format(FILE_TOO_OPEN, file));
            }
            if (attributes.size() > MAX_FILE_BYTES) {
                throw new KeyManagerException(String.format(FILE_TOO_BIG, file));
            }
            bytes = Files.readAllBytes(file);
            if (bytes.length > MAX_FILE_BYTES) {
                throw new KeyManagerException(String.format(FILE_TOO_BIG, file));
            }
            return new String(bytes, StandardCharsets.US_ASCII);
        } catch (IOException | UnsupportedOperationException e) {
            throw new KeyManagerException(String.format(FILE_UNREADABLE, file, e.getClass().getSimpleName()), e);
        } finally {
            if (bytes != null) {
                Arrays.fill(bytes, (byte) 0);
            }
        }
    }

    /** The DER inside the one PEM block of {@code type}. */
    private static byte[] block(Path file, String text, String type) throws KeyManagerException {
        String begin = "-----BEGIN " + type + "-----";
        String end = "-----END " + type + "-----";
        int start = text.indexOf(begin);
        int stop = start < 0 ? -1 : text.indexOf(end, start);
        if (start < 0 || stop < 0 || text.indexOf(begin, start + 1) >= 0) {
            throw new KeyManagerException(String.format(FILE_CORRUPT, file, "expected one " + type + " PEM block"));
        }
        String body = text.substring(start + begin.length(), stop).replaceAll("[\\r\\n]", "");
        try {
            byte[] der = Base64.getDecoder().decode(body);
            if (der.length == 0) {
                throw new IllegalArgumentException("empty");
            }
            return der;
        } catch (IllegalArgumentException e) {
            throw new KeyManagerException(String.format(FILE_CORRUPT, file, "the " + type + " block is not base64"));
        }
    }

    private void write(Path file, KeyPair pair) throws KeyManagerException {
        Path temp = null;
        // The one place a private key is encoded: this key manager's own PKCS#8 file.
        byte[] pkcs8 = pair.getPrivate().getEncoded();
        byte[] content = null;
        try {
            String text = pem(PUBLIC_BLOCK, pair.getPublic().getEncoded()) + pem(PRIVATE_BLOCK, pkcs8);
            content = text.getBytes(StandardCharsets.US_ASCII);
            temp = Files.createTempFile(directory, ".", SUFFIX + ".tmp",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                ByteBuffer buffer = ByteBuffer.wrap(content);
                while (buffer.hasRemaining()) {
                    channel.write(buffer);
                }
                channel.force(true);
            }
            Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            temp = null;
            syncDirectory();
        } catch (IOException | UnsupportedOperationException e) {
            throw new KeyManagerException("cannot write key file " + file + ": " + e.getMessage(), e);
        } finally {
            Arrays.fill(pkcs8, (byte) 0);
            if (content != null) {
                Arrays.fill(content, (byte) 0);
            }
            if (temp != null) {
                try {
                    Files.deleteIfExists(temp);
                } catch (IOException e) {
                    // Left behind: a dot file getKeys ignores.
                }
            }
        }
    }

    private void syncDirectory() {
        // Makes the rename durable; Linux allows fsync on a directory opened for reading.
        try (FileChannel channel = FileChannel.open(directory, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException e) {
            // Not every file system supports it; the rename itself is already atomic.
        }
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }

    /** A key from a file: the public half at once, the private half when it first signs. */
    private static final class DiskManagedKey extends AbstractManagedKey {
        private final Path file;
        private volatile JcaManagedKey loaded;

        DiskManagedKey(String id, KeyType type, PublicKey publicKey, Path file) {
            super(id, type, publicKey);
            this.file = file;
        }

        void loaded(JcaManagedKey key) {
            loaded = key;
        }

        Path file() {
            return file;
        }

        @Override
        protected byte[] signFitting(SignatureAlgorithm algorithm, byte[] data) throws KeyManagerException {
            JcaManagedKey key = loaded;
            if (key == null) {
                synchronized (this) {
                    if (loaded == null) {
                        loaded = loadPrivate(this);
                    }
                    key = loaded;
                }
            }
            return key.sign(algorithm, data);
        }

        @Override
        public String toString() {
            return "ManagedKey{" + id() + ", " + type().configName() + ", disk}";
        }
    }
}
