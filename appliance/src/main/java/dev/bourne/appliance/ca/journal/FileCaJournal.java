package dev.bourne.appliance.ca.journal;

import com.nimbusds.jose.util.JSONObjectUtils;
import dev.bourne.core.internal.Texts;
import dev.bourne.core.keymanager.SignatureAlgorithm;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.X509EncodedKeySpec;
import java.text.ParseException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The CA journal as a JSON file, {@code <data_dir>/ca-journal.json} by default: mode 0600, replaced atomically (a
 * temporary file in the same directory, forced to disk, then renamed over the old one), at most
 * {@link #MAX_BYTES} long. A journal that cannot be parsed is reported with {@link #DAMAGED} and left exactly as it
 * is: this object then refuses to save over it, so an operator can inspect or restore it.
 *
 * <p>It holds public data only (certificates, public keys, key IDs and states): the private keys stay in the key
 * manager. Still 0600, because it is the server's state and nobody else's business.
 */
public final class FileCaJournal implements CaJournal {
    /** The file name under {@code data_dir}. */
    public static final String FILE_NAME = "ca-journal.json";
    /** Largest journal accepted: a few authorities take a few kilobytes; a bigger file is not ours. */
    public static final int MAX_BYTES = 1 << 20;
    /** The format version this code writes and reads. */
    public static final int VERSION = 1;

    public static final String DAMAGED = "CA journal %s is damaged (%s); it was left untouched: restore it from a"
            + " backup, or move it away to start with new CA authorities";
    public static final String TOO_LARGE = "more than " + MAX_BYTES + " bytes";
    public static final String REFUSE_OVERWRITE = "CA journal %s was found damaged and will not be overwritten";
    public static final String NOT_REGULAR = "not a regular file";

    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");

    private final Path file;
    private volatile boolean damaged;

    public FileCaJournal(Path file) {
        this.file = file.toAbsolutePath().normalize();
    }

    /** The journal at {@link #FILE_NAME} in {@code dataDir}. */
    public static FileCaJournal inDataDir(Path dataDir) {
        return new FileCaJournal(dataDir.resolve(FILE_NAME));
    }

    public Path file() {
        return file;
    }

    @Override
    public Optional<JournalContent> load() throws JournalException {
        byte[] bytes;
        try {
            if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
                return Optional.empty();
            }
            if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
                // A symbolic link or a device here is not something this server wrote.
                throw damaged(NOT_REGULAR, null);
            }
            long size = Files.size(file);
            if (size > MAX_BYTES) {
                throw damaged(TOO_LARGE, null);
            }
            try (InputStream in = Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS)) {
                bytes = in.readNBytes(MAX_BYTES + 1);
            }
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new JournalException("cannot read CA journal " + file + ": " + e.getMessage(), e);
        }
        if (bytes.length > MAX_BYTES) {
            throw damaged(TOO_LARGE, null);
        }
        try {
            return Optional.of(decode(bytes));
        } catch (IllegalArgumentException e) {
            throw damaged(e.getMessage(), e);
        }
    }

    private JournalException damaged(String reason, Throwable cause) {
        damaged = true;
        return new JournalException(String.format(DAMAGED, file, reason), cause);
    }

    @Override
    public void save(JournalContent content) throws JournalException {
        if (damaged) {
            throw new JournalException(String.format(REFUSE_OVERWRITE, file));
        }
        byte[] bytes = encode(content).getBytes(StandardCharsets.UTF_8);
        if (bytes.length > MAX_BYTES) {
            throw new JournalException("CA journal content is " + bytes.length + " bytes, more than the limit of "
                    + MAX_BYTES);
        }
        Path directory = file.getParent();
        Path temporary = null;
        try {
            Files.createDirectories(directory);
            temporary = Files.createTempFile(directory, ".ca-journal-", ".tmp",
                    PosixFilePermissions.asFileAttribute(OWNER_ONLY));
            try (FileChannel channel = FileChannel.open(temporary, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer buffer = ByteBuffer.wrap(bytes);
                while (buffer.hasRemaining()) {
                    channel.write(buffer);
                }
                channel.force(true);
            }
            try {
                Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                throw new JournalException("cannot replace CA journal " + file + " atomically: " + e.getMessage(), e);
            }
            temporary = null;
            forceDirectory(directory);
        } catch (IOException e) {
            throw new JournalException("cannot write CA journal " + file + ": " + e.getMessage(), e);
        } finally {
            if (temporary != null) {
                try {
                    Files.deleteIfExists(temporary);
                } catch (IOException ignored) {
                    // The write already failed and that failure is reported; a stray temporary file is harmless.
                }
            }
        }
    }

    /** Makes the rename durable: without syncing the directory, a crash may bring back the old journal. */
    private static void forceDirectory(Path directory) {
        try (FileChannel channel = FileChannel.open(directory, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException e) {
            // Some file systems cannot open directories for sync; the rename itself is still atomic.
        }
    }

    /**
     * The journal format as bytes (UTF-8 JSON), for journals kept elsewhere than a file (the datastore's per-server
     * journal blob): one format wherever the journal lives.
     */
    public static byte[] encodeContent(JournalContent content) {
        return encode(content).getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Parses journal bytes written by {@link #encodeContent}.
     *
     * @throws IllegalArgumentException naming what is wrong when the bytes are not a journal of this format
     */
    public static JournalContent decodeContent(byte[] bytes) {
        if (bytes.length > MAX_BYTES) {
            throw new IllegalArgumentException(TOO_LARGE);
        }
        return decode(bytes);
    }

    static String encode(JournalContent content) {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("version", VERSION);
        root.put("bundle_sequence", content.bundleSequence());
        List<Object> x509 = new ArrayList<>();
        for (X509AuthorityRecord record : content.x509Authorities()) {
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("authority_id", record.authorityId());
            entry.put("slot", record.slotId());
            entry.put("state", record.state().journalName());
            entry.put("tainted", record.tainted());
            entry.put("certificate", der(record.certificate()));
            List<Object> chain = new ArrayList<>();
            record.upstreamChain().forEach(c -> chain.add(der(c)));
            entry.put("upstream_chain", chain);
            x509.add(entry);
        }
        root.put("x509_authorities", x509);
        List<Object> jwt = new ArrayList<>();
        for (JwtAuthorityRecord record : content.jwtAuthorities()) {
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("kid", record.keyId());
            entry.put("slot", record.slotId());
            entry.put("state", record.state().journalName());
            entry.put("tainted", record.tainted());
            entry.put("algorithm", record.signatureAlgorithm().jwsName());
            entry.put("public_key", Base64.getEncoder().encodeToString(record.publicKey().getEncoded()));
            entry.put("not_before", record.notBefore().toString());
            entry.put("not_after", record.notAfter().toString());
            jwt.add(entry);
        }
        root.put("jwt_authorities", jwt);
        return JSONObjectUtils.toJSONString(root);
    }

    private static String der(X509Certificate certificate) {
        try {
            return Base64.getEncoder().encodeToString(certificate.getEncoded());
        } catch (CertificateEncodingException e) {
            throw new IllegalStateException("cannot encode certificate", e);
        }
    }

    /** Parses journal bytes; every problem is an {@link IllegalArgumentException} naming the field. */
    static JournalContent decode(byte[] bytes) {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("not UTF-8");
        }
        if (!text.stripLeading().startsWith("{")) {
            throw new IllegalArgumentException("not a JSON object");
        }
        Map<String, Object> root;
        try {
            root = JSONObjectUtils.parse(text, MAX_BYTES);
        } catch (ParseException | RuntimeException e) {
            throw new IllegalArgumentException("not a JSON object: " + e.getMessage());
        }
        long version = integer(root, "version", "");
        if (version != VERSION) {
            throw new IllegalArgumentException("unsupported version " + version + ", this server reads version "
                    + VERSION);
        }
        long sequence = integer(root, "bundle_sequence", "");
        if (sequence < 0) {
            throw new IllegalArgumentException("bundle_sequence is negative");
        }
        List<X509AuthorityRecord> x509 = new ArrayList<>();
        List<Map<String, Object>> x509Entries = objects(root, "x509_authorities");
        for (int i = 0; i < x509Entries.size(); i++) {
            Map<String, Object> entry = x509Entries.get(i);
            String where = "x509_authorities[" + i + "].";
            List<X509Certificate> chain = new ArrayList<>();
            List<?> rawChain = list(entry, "upstream_chain", where);
            for (int j = 0; j < rawChain.size(); j++) {
                if (!(rawChain.get(j) instanceof String s)) {
                    throw new IllegalArgumentException(where + "upstream_chain[" + j + "] is not a string");
                }
                chain.add(certificate(s, where + "upstream_chain[" + j + "]"));
            }
            x509.add(new X509AuthorityRecord(string(entry, "authority_id", where), string(entry, "slot", where),
                    certificate(string(entry, "certificate", where), where + "certificate"), chain,
                    state(entry, where), bool(entry, "tainted", where)));
        }
        List<JwtAuthorityRecord> jwt = new ArrayList<>();
        List<Map<String, Object>> jwtEntries = objects(root, "jwt_authorities");
        for (int i = 0; i < jwtEntries.size(); i++) {
            Map<String, Object> entry = jwtEntries.get(i);
            String where = "jwt_authorities[" + i + "].";
            SignatureAlgorithm algorithm = algorithm(string(entry, "algorithm", where), where);
            String kid = string(entry, "kid", where);
            String slot = string(entry, "slot", where);
            PublicKey key = publicKey(string(entry, "public_key", where), algorithm, where);
            Instant notBefore = instant(entry, "not_before", where);
            Instant notAfter = instant(entry, "not_after", where);
            AuthorityState state = state(entry, where);
            boolean tainted = bool(entry, "tainted", where);
            try {
                jwt.add(new JwtAuthorityRecord(kid, slot, key, algorithm, notBefore, notAfter, state, tainted));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(where.substring(0, where.length() - 1) + ": " + e.getMessage(), e);
            }
        }
        return new JournalContent(sequence, x509, jwt);
    }

    private static long integer(Map<String, Object> map, String key, String where) {
        Object value = map.get(key);
        if (value instanceof Long || value instanceof Integer) {
            return ((Number) value).longValue();
        }
        throw new IllegalArgumentException(where + key + " is " + (value == null ? "missing" : "not an integer"));
    }

    private static String string(Map<String, Object> map, String key, String where) {
        Object value = map.get(key);
        if (value instanceof String s && !s.isEmpty()) {
            return s;
        }
        throw new IllegalArgumentException(where + key + " is "
                + (value == null ? "missing" : "not a non-empty string"));
    }

    private static boolean bool(Map<String, Object> map, String key, String where) {
        Object value = map.get(key);
        if (value instanceof Boolean b) {
            return b;
        }
        throw new IllegalArgumentException(where + key + " is " + (value == null ? "missing" : "not true or false"));
    }

    private static List<?> list(Map<String, Object> map, String key, String where) {
        Object value = map.get(key);
        if (value instanceof List<?> l) {
            return l;
        }
        throw new IllegalArgumentException(where + key + " is " + (value == null ? "missing" : "not an array"));
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> objects(Map<String, Object> map, String key) {
        List<?> raw = list(map, key, "");
        List<Map<String, Object>> out = new ArrayList<>();
        for (int i = 0; i < raw.size(); i++) {
            if (!(raw.get(i) instanceof Map<?, ?> m)) {
                throw new IllegalArgumentException(key + "[" + i + "] is not an object");
            }
            out.add((Map<String, Object>) m);
        }
        return out;
    }

    private static AuthorityState state(Map<String, Object> map, String where) {
        try {
            return AuthorityState.fromJournalName(string(map, "state", where));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(where + "state: " + e.getMessage(), e);
        }
    }

    private static Instant instant(Map<String, Object> map, String key, String where) {
        String text = string(map, key, where);
        try {
            return Instant.parse(text);
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException(where + key + " is not an ISO-8601 instant: " + Texts.quote(text));
        }
    }

    private static SignatureAlgorithm algorithm(String name, String where) {
        for (SignatureAlgorithm algorithm : SignatureAlgorithm.values()) {
            if (algorithm.jwsName().equals(name)) {
                return algorithm;
            }
        }
        throw new IllegalArgumentException(where + "algorithm " + Texts.quote(name) + " is unknown");
    }

    private static X509Certificate certificate(String base64, String where) {
        try {
            byte[] der = Base64.getDecoder().decode(base64);
            return (X509Certificate) CertificateFactory.getInstance("X.509")
                    .generateCertificate(new ByteArrayInputStream(der));
        } catch (IllegalArgumentException | GeneralSecurityException e) {
            throw new IllegalArgumentException(where + " is not a base64 DER certificate");
        }
    }

    private static PublicKey publicKey(String base64, SignatureAlgorithm algorithm, String where) {
        try {
            byte[] der = Base64.getDecoder().decode(base64);
            return KeyFactory.getInstance(algorithm.keyAlgorithm()).generatePublic(new X509EncodedKeySpec(der));
        } catch (IllegalArgumentException | GeneralSecurityException e) {
            throw new IllegalArgumentException(where + "public_key is not a base64 " + algorithm.keyAlgorithm()
                    + " SubjectPublicKeyInfo");
        }
    }

    @Override
    public String toString() {
        return "FileCaJournal[" + file + "]";
    }
}
