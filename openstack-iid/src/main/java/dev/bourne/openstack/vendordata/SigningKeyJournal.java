package dev.bourne.openstack.vendordata;

import com.nimbusds.jose.util.JSONObjectUtils;
import dev.bourne.core.internal.Texts;
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
import java.nio.file.attribute.PosixFilePermissions;
import java.text.ParseException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The signing key journal, {@code <data_dir>/iid-signing-keys.json}: which slot signs since when, and what the other
 * slot holds ({@link SigningKeyState}). Public data only (slot names, key thumbprints, times): the keys stay in the
 * KeyManager. Written 0600, replaced atomically (a temporary file in the same directory, forced to disk, renamed over
 * the old one, directory synced), at most {@link #MAX_BYTES} long.
 *
 * <pre>{@code
 * {"version": 1,
 *  "active":  {"slot": "IID-Signer-A", "kid": "…", "since": "2026-03-01T10:00:00Z"},
 *  "standby": {"slot": "IID-Signer-B", "state": "retired", "kid": "…",
 *              "since": "2026-03-01T10:00:00Z", "until": "2026-03-01T10:06:00Z"}}
 * }</pre>
 *
 * <p>A journal that cannot be parsed is reported and left exactly as it is; this object then refuses to write over
 * it, so that an operator can look at it (or move it away to start with new keys).
 */
final class SigningKeyJournal {
    static final String FILE_NAME = "iid-signing-keys.json";
    static final int MAX_BYTES = 16 * 1024;
    static final int VERSION = 1;

    static final String DAMAGED = "signing key journal %s is damaged (%s); it was left untouched: restore it, or move "
            + "it away to start with new signing keys";
    static final String REFUSE_OVERWRITE = "signing key journal %s was found damaged and will not be overwritten";

    private final Path file;
    private volatile boolean damaged;

    SigningKeyJournal(Path file) {
        this.file = file.toAbsolutePath().normalize();
    }

    static SigningKeyJournal inDataDir(Path dataDir) {
        return new SigningKeyJournal(dataDir.resolve(FILE_NAME));
    }

    Path file() {
        return file;
    }

    /** The recorded state, or empty when there is no journal yet. */
    Optional<SigningKeyState> load() throws SigningKeysException {
        byte[] bytes;
        try {
            if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
                return Optional.empty();
            }
            if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
                throw damaged("not a regular file");
            }
            try (InputStream in = Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS)) {
                bytes = in.readNBytes(MAX_BYTES + 1);
            }
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new SigningKeysException("cannot read signing key journal " + file + ": " + e.getMessage(), e);
        }
        if (bytes.length > MAX_BYTES) {
            throw damaged("more than " + MAX_BYTES + " bytes");
        }
        try {
            return Optional.of(decode(bytes));
        } catch (IllegalArgumentException e) {
            throw damaged(e.getMessage());
        }
    }

    /** Replaces the journal with {@code state}, durably. */
    void save(SigningKeyState state) throws SigningKeysException {
        if (damaged) {
            throw new SigningKeysException(String.format(REFUSE_OVERWRITE, file));
        }
        byte[] bytes = encode(state).getBytes(StandardCharsets.UTF_8);
        Path directory = file.getParent();
        Path temporary = null;
        try {
            Files.createDirectories(directory);
            temporary = Files.createTempFile(directory, ".iid-signing-keys-", ".tmp",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
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
                throw new SigningKeysException("cannot replace signing key journal " + file + " atomically", e);
            }
            temporary = null;
            forceDirectory(directory);
        } catch (IOException e) {
            throw new SigningKeysException("cannot write signing key journal " + file + ": " + e.getMessage(), e);
        } finally {
            if (temporary != null) {
                try {
                    Files.deleteIfExists(temporary);
                } catch (IOException ignored) {
                    // The write already failed and that is reported; a stray temporary file is harmless.
                }
            }
        }
    }

    private SigningKeysException damaged(String reason) {
        damaged = true;
        return new SigningKeysException(String.format(DAMAGED, file, reason));
    }

    /** Makes the rename durable: without syncing the directory, a crash may bring back the old journal. */
    private static void forceDirectory(Path directory) {
        try (FileChannel channel = FileChannel.open(directory, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException e) {
            // Some file systems cannot open directories for sync; the rename itself is still atomic.
        }
    }

    static String encode(SigningKeyState state) {
        Map<String, Object> active = new LinkedHashMap<>();
        active.put("slot", state.activeSlot().keyId());
        active.put("kid", state.activeKid());
        active.put("since", state.activeSince().toString());
        SigningKeyState.Standby standby = state.standby();
        Map<String, Object> other = new LinkedHashMap<>();
        other.put("slot", state.standbySlot().keyId());
        other.put("state", standby.phase().journalName());
        standby.kid().ifPresent(kid -> other.put("kid", kid));
        standby.since().ifPresent(since -> other.put("since", since.toString()));
        standby.until().ifPresent(until -> other.put("until", until.toString()));
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("version", VERSION);
        root.put("active", active);
        root.put("standby", other);
        return JSONObjectUtils.toJSONString(root);
    }

    /** Parses journal bytes; every problem is an {@link IllegalArgumentException} naming the field. */
    static SigningKeyState decode(byte[] bytes) {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("not UTF-8");
        }
        if (!text.stripLeading().startsWith("{")) {
            // The JSON parser reads a top-level array as an empty object.
            throw new IllegalArgumentException("not a JSON object");
        }
        Map<String, Object> root;
        try {
            root = JSONObjectUtils.parse(text, MAX_BYTES);
        } catch (ParseException | RuntimeException e) {
            throw new IllegalArgumentException("not a JSON object");
        }
        Object version = root.get("version");
        if (!(version instanceof Long || version instanceof Integer) || ((Number) version).longValue() != VERSION) {
            throw new IllegalArgumentException("version is not " + VERSION);
        }
        Map<String, Object> active = object(root, "active");
        Map<String, Object> standby = object(root, "standby");
        KeySlot activeSlot = slot(active, "active.slot");
        if (slot(standby, "standby.slot") != activeSlot.other()) {
            throw new IllegalArgumentException("standby.slot is not the other slot of active.slot");
        }
        SigningKeyState.Phase phase;
        try {
            phase = SigningKeyState.Phase.fromJournalName(string(standby, "state", "standby.state"));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("standby.state: " + e.getMessage());
        }
        SigningKeyState.Standby other = switch (phase) {
            case EMPTY -> SigningKeyState.Standby.empty();
            case PREPARED -> SigningKeyState.Standby.prepared(string(standby, "kid", "standby.kid"),
                    instant(standby, "since", "standby.since"));
            case RETIRED -> retired(standby);
        };
        return new SigningKeyState(activeSlot, string(active, "kid", "active.kid"),
                instant(active, "since", "active.since"), other);
    }

    private static SigningKeyState.Standby retired(Map<String, Object> standby) {
        String kid = string(standby, "kid", "standby.kid");
        Instant since = instant(standby, "since", "standby.since");
        Instant until = instant(standby, "until", "standby.until");
        try {
            return SigningKeyState.Standby.retired(kid, since, until);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("standby: " + e.getMessage());
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> object(Map<String, Object> map, String key) {
        if (map.get(key) instanceof Map<?, ?> object) {
            return (Map<String, Object>) object;
        }
        throw new IllegalArgumentException(key + " is missing or not an object");
    }

    private static String string(Map<String, Object> map, String key, String name) {
        if (map.get(key) instanceof String text && !text.isEmpty() && text.length() <= 256) {
            return text;
        }
        throw new IllegalArgumentException(name + " is missing or not a string");
    }

    private static KeySlot slot(Map<String, Object> map, String name) {
        String keyId = string(map, "slot", name);
        try {
            return KeySlot.fromKeyId(keyId);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(name + " " + Texts.quote(keyId) + " is not IID-Signer-A or IID-Signer-B");
        }
    }

    private static Instant instant(Map<String, Object> map, String key, String name) {
        String text = string(map, key, name);
        try {
            return Instant.parse(text);
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException(name + " is not an ISO-8601 instant");
        }
    }

    @Override
    public String toString() {
        return "SigningKeyJournal[" + file + "]";
    }
}
