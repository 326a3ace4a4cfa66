package dev.bourne.testing.hsm;

import dev.bourne.testing.Exec;
import dev.bourne.testing.RequiredTool;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Deque;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The SoftHSM2 tokens of this test JVM, created all at once before the JVM's first PKCS#11 call and then leased, one
 * per test class, never twice.
 *
 * <p>Why a pool: SoftHSM2 reads {@code SOFTHSM2_CONF} and scans its token directory once per process, when the library
 * is first initialised, and SunPKCS11 initialises a library once per path per JVM. A token created after that is
 * invisible to the JVM ({@code CKR_SLOT_ID_INVALID}), and a JVM cannot change its own environment. So the build gives
 * each test JVM its own {@code SOFTHSM2_CONF} path (surefire {@code environmentVariables} in the parent pom), and the
 * first fixture use in the JVM wipes that directory, writes the configuration and initialises
 * {@value #TOKENS_PROPERTY} tokens (default {@value #DEFAULT_TOKENS}; about 10 ms each).
 *
 * <p>This is the one JVM-wide object of the fixtures, because the constraint it models is JVM-wide. Nothing else in
 * the JVM may touch {@code libsofthsm2.so} before the first lease, or the tokens are not seen.
 *
 * <p>PINs are random per token and per run and never logged; they travel on {@code softhsm2-util}'s command line, which
 * other local users can read in {@code /proc}: acceptable only because these tokens are throwaway test tokens in a
 * private directory.
 */
public final class SoftHsmPool {

    /** System property of the test JVM giving the number of tokens to create. */
    public static final String TOKENS_PROPERTY = "bourne.softhsm.tokens";
    /** Tokens created when {@value #TOKENS_PROPERTY} is not set: more than the test classes of any one module. */
    public static final int DEFAULT_TOKENS = 24;

    static final String CONF_VARIABLE = "SOFTHSM2_CONF";
    static final List<Path> LIBRARY_CANDIDATES = List.of(
            Path.of("/usr/lib/softhsm/libsofthsm2.so"),
            Path.of("/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so"),
            Path.of("/usr/lib64/pkcs11/libsofthsm2.so"),
            Path.of("/usr/lib64/softhsm/libsofthsm2.so"));

    /** Left in the directory we own, so a wrong SOFTHSM2_CONF never makes us wipe someone else's tokens. */
    private static final String MARKER = ".bourne-softhsm-fixture";
    private static final Set<PosixFilePermission> DIRECTORY_MODE = PosixFilePermissions.fromString("rwx------");
    private static final Set<PosixFilePermission> FILE_MODE = PosixFilePermissions.fromString("rw-------");
    private static final Duration TOOL_TIMEOUT = Duration.ofSeconds(30);
    private static final char[] PIN_ALPHABET =
            "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789".toCharArray();
    private static final int PIN_LENGTH = 24;

    private static SoftHsmPool jvmPool;
    private static IllegalStateException jvmPoolFailure;

    private final Path conf;
    private final Path library;
    private final Path softhsm2Util;
    private final Map<String, String> environment;
    private final Deque<SoftHsmToken> unused;
    private final int size;
    private final Duration setupTime;

    private SoftHsmPool(Path conf, Path library, Path softhsm2Util, List<SoftHsmToken> tokens, Duration setupTime) {
        this.conf = conf;
        this.library = library;
        this.softhsm2Util = softhsm2Util;
        this.environment = Map.of(CONF_VARIABLE, conf.toString());
        this.unused = new ArrayDeque<>(tokens);
        this.size = tokens.size();
        this.setupTime = setupTime;
    }

    /**
     * The pool of this JVM, created on first call. Fails, on this and every later call, when {@code SOFTHSM2_CONF} is
     * not set, SoftHSM2 is not installed or a token cannot be created.
     */
    public static synchronized SoftHsmPool jvmPool() {
        if (jvmPool != null) {
            return jvmPool;
        }
        if (jvmPoolFailure != null) {
            throw new IllegalStateException("the SoftHSM token pool of this JVM failed to start earlier",
                    jvmPoolFailure);
        }
        try {
            jvmPool = create(System.getenv(CONF_VARIABLE), tokenCount());
            return jvmPool;
        } catch (RuntimeException e) {
            jvmPoolFailure = e instanceof IllegalStateException ise ? ise
                    : new IllegalStateException("cannot create the SoftHSM token pool", e);
            throw jvmPoolFailure;
        }
    }

    /** A token nobody in this JVM has used; fails when all {@link #size()} tokens are leased. */
    public synchronized SoftHsmToken lease() {
        SoftHsmToken token = unused.poll();
        if (token == null) {
            throw new IllegalStateException("all " + size + " SoftHSM tokens of this JVM are leased: raise the system "
                    + "property " + TOKENS_PROPERTY + " of the test JVM (e.g. mvn -D" + TOKENS_PROPERTY + "="
                    + (size * 2) + " or surefire systemPropertyVariables). Tokens cannot be added once the JVM has "
                    + "used SoftHSM2, so every token is created up front.");
        }
        return token;
    }

    /**
     * Deletes a leased token from disk and wipes its PIN. The JVM's SoftHSM2 library still lists the slot until the JVM
     * exits; the token is never leased again. Releasing a token twice does nothing the second time.
     */
    public synchronized void release(SoftHsmToken token) {
        if (!token.release()) {
            return;
        }
        try {
            Exec.run(List.of(softhsm2Util.toString(), "--delete-token", "--token", token.label()), environment,
                    TOOL_TIMEOUT).requireSuccess();
        } finally {
            deleteRecursively(token.pinFile().getParent());
        }
    }

    /** Tokens created for this JVM. */
    public int size() {
        return size;
    }

    /** How long creating the configuration and all tokens took. */
    public Duration setupTime() {
        return setupTime;
    }

    /** This JVM's {@code SOFTHSM2_CONF} file. */
    public Path conf() {
        return conf;
    }

    /** The absolute path of {@code libsofthsm2.so}. */
    public Path library() {
        return library;
    }

    /**
     * Initialised tokens on disk by label, with their slot ids, as a fresh {@code softhsm2-util} process sees them: a
     * deleted token is gone from this list even while this JVM's library still lists its slot.
     */
    public Map<String, Long> slotsOnDisk() {
        String output = Exec.run(List.of(softhsm2Util.toString(), "--show-slots"), environment, TOOL_TIMEOUT)
                .requireSuccess().stdout();
        return parseSlots(output);
    }

    static int tokenCount() {
        String value = System.getProperty(TOKENS_PROPERTY);
        if (value == null || value.isBlank()) {
            return DEFAULT_TOKENS;
        }
        int count;
        try {
            count = Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            throw new IllegalStateException("system property " + TOKENS_PROPERTY + " must be a number of tokens, "
                    + "not '" + value + "'", e);
        }
        if (count < 1 || count > 1000) {
            throw new IllegalStateException("system property " + TOKENS_PROPERTY + " must be between 1 and 1000, not "
                    + count);
        }
        return count;
    }

    /** The first SoftHSM2 library found in the usual Debian and RHEL-family places. */
    static Path locateLibrary() {
        for (Path candidate : LIBRARY_CANDIDATES) {
            if (Files.isRegularFile(candidate)) {
                return candidate;
            }
        }
        throw new IllegalStateException("libsofthsm2.so is not installed (looked in " + LIBRARY_CANDIDATES
                + "): install the Debian package '" + RequiredTool.SOFTHSM2_UTIL.debianPackage() + "' (apt-get install "
                + RequiredTool.SOFTHSM2_UTIL.debianPackage() + ")");
    }

    private static SoftHsmPool create(String confVariable, int count) {
        if (confVariable == null || confVariable.isBlank()) {
            throw new IllegalStateException(CONF_VARIABLE + " is not set in this JVM's environment. SoftHSM2 reads it "
                    + "once per process, so it must be set before the test JVM starts: the parent pom sets it through "
                    + "maven-surefire-plugin <environmentVariables> to target/softhsm2-fork-N/softhsm2.conf. When "
                    + "running tests from an IDE, use a runner that honours surefire's configuration or set "
                    + CONF_VARIABLE + " in the run configuration to a path in a directory the fixture may wipe.");
        }
        Path conf = Path.of(confVariable);
        if (!conf.isAbsolute() || conf.getParent() == null) {
            throw new IllegalStateException(CONF_VARIABLE + " must be an absolute file path, not " + confVariable);
        }
        Path softhsm2Util = RequiredTool.SOFTHSM2_UTIL.path();
        Path library = locateLibrary();
        long start = System.nanoTime();
        Path directory = conf.getParent();
        prepareDirectory(directory);
        Path tokenDirectory = createPrivateDirectory(directory.resolve("tokens"));
        Path pinsDirectory = createPrivateDirectory(directory.resolve("pins"));
        writePrivateFile(conf, ("# Written by the Bourne SoftHsm test fixture; wiped at the next test run.\n"
                + "directories.tokendir = " + tokenDirectory + "\n"
                + "objectstore.backend = file\n"
                + "log.level = ERROR\n"
                + "slots.removable = false\n").getBytes(StandardCharsets.UTF_8));

        Map<String, String> environment = Map.of(CONF_VARIABLE, conf.toString());
        SecureRandom random = new SecureRandom();
        String run = HexFormat.of().formatHex(randomBytes(random, 4));
        Map<String, char[]> pins = new LinkedHashMap<>();
        try {
            for (int i = 0; i < count; i++) {
                String label = "bourne-test-" + run + "-" + i;
                char[] pin = randomPin(random);
                char[] soPin = randomPin(random);
                pins.put(label, pin);
                try {
                    Exec.Result result = Exec.run(List.of(softhsm2Util.toString(), "--init-token", "--free",
                            "--label", label, "--pin", new String(pin), "--so-pin", new String(soPin)),
                            environment, TOOL_TIMEOUT);
                    if (result.exitCode() != 0) {
                        // Not requireSuccess(): its message would carry the command line, PINs included.
                        throw new IllegalStateException("softhsm2-util --init-token --label " + label + " exited with "
                                + result.exitCode() + "\nstdout: " + result.stdout() + "\nstderr: " + result.stderr());
                    }
                } finally {
                    Arrays.fill(soPin, '\0');
                }
            }
            Map<String, Long> slots = parseSlots(Exec.run(List.of(softhsm2Util.toString(), "--show-slots"),
                    environment, TOOL_TIMEOUT).requireSuccess().stdout());
            List<SoftHsmToken> tokens = new ArrayList<>(count);
            for (Map.Entry<String, char[]> entry : pins.entrySet()) {
                Long slot = slots.get(entry.getKey());
                if (slot == null) {
                    throw new IllegalStateException("softhsm2-util --show-slots does not list the token just created, "
                            + entry.getKey() + "; it lists " + slots.keySet());
                }
                if (slot > Integer.MAX_VALUE) {
                    throw new IllegalStateException("slot id " + slot + " of token " + entry.getKey()
                            + " does not fit SunPKCS11's 'slot' setting");
                }
                Path pinFile = writePinFile(pinsDirectory, entry.getKey(), entry.getValue());
                tokens.add(new SoftHsmToken(entry.getKey(), slot, entry.getValue(), pinFile, library, conf));
            }
            Duration setupTime = Duration.ofNanos(System.nanoTime() - start);
            System.getLogger(SoftHsmPool.class.getName()).log(System.Logger.Level.INFO,
                    "SoftHSM pool ready: {0} tokens in {1} ({2} ms)", count, tokenDirectory, setupTime.toMillis());
            return new SoftHsmPool(conf, library, softhsm2Util, tokens, setupTime);
        } finally {
            pins.values().forEach(pin -> Arrays.fill(pin, '\0'));
        }
    }

    /**
     * Slot ids by token label from {@code softhsm2-util --show-slots}: each {@code Slot <id>} line opens a slot, whose
     * {@code Token info:} section has a {@code Label:} line. Uninitialised tokens (empty label) are left out.
     */
    static Map<String, Long> parseSlots(String showSlotsOutput) {
        Map<String, Long> slots = new LinkedHashMap<>();
        Long slot = null;
        boolean inTokenInfo = false;
        for (String line : showSlotsOutput.split("\\R")) {
            String trimmed = line.strip();
            if (!line.isEmpty() && !Character.isWhitespace(line.charAt(0)) && trimmed.startsWith("Slot ")) {
                try {
                    slot = Long.parseLong(trimmed.substring("Slot ".length()).strip());
                } catch (NumberFormatException e) {
                    throw new IllegalStateException("unexpected line in softhsm2-util --show-slots: " + line, e);
                }
                inTokenInfo = false;
            } else if (trimmed.equals("Token info:")) {
                inTokenInfo = true;
            } else if (trimmed.equals("Slot info:")) {
                inTokenInfo = false;
            } else if (inTokenInfo && slot != null && trimmed.startsWith("Label:")) {
                String label = trimmed.substring("Label:".length()).strip();
                if (!label.isEmpty() && slots.putIfAbsent(label, slot) != null) {
                    throw new IllegalStateException("two SoftHSM tokens are labelled " + label);
                }
            }
        }
        return slots;
    }

    private static void prepareDirectory(Path directory) {
        if (Files.exists(directory, LinkOption.NOFOLLOW_LINKS)) {
            if (!Files.isDirectory(directory, LinkOption.NOFOLLOW_LINKS)) {
                throw new IllegalStateException(CONF_VARIABLE + " points into " + directory
                        + ", which is not a directory");
            }
            if (!isEmpty(directory) && !Files.exists(directory.resolve(MARKER))) {
                throw new IllegalStateException("refusing to wipe " + directory + ": it is not empty and was not "
                        + "created by this fixture (no " + MARKER + " file). Point " + CONF_VARIABLE
                        + " at a file in a directory of its own, such as target/softhsm2-fork-1/softhsm2.conf");
            }
            deleteRecursively(directory);
        }
        createPrivateDirectory(directory);
        writePrivateFile(directory.resolve(MARKER),
                "Created by the Bourne SoftHsm test fixture: wiped at every test run.\n"
                        .getBytes(StandardCharsets.UTF_8));
    }

    private static boolean isEmpty(Path directory) {
        try (Stream<Path> entries = Files.list(directory)) {
            return entries.findAny().isEmpty();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + directory, e);
        }
    }

    private static Path createPrivateDirectory(Path directory) {
        try {
            Files.createDirectories(directory);
            // Set explicitly: the umask may have widened nothing but could have narrowed what we asked for.
            Files.setPosixFilePermissions(directory, DIRECTORY_MODE);
            return directory;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + directory, e);
        }
    }

    private static void writePrivateFile(Path file, byte[] content) {
        try {
            Files.deleteIfExists(file);
            Files.createFile(file, PosixFilePermissions.asFileAttribute(FILE_MODE));
            Files.setPosixFilePermissions(file, FILE_MODE);
            Files.write(file, content, StandardOpenOption.TRUNCATE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    private static Path writePinFile(Path pinsDirectory, String label, char[] pin) {
        ByteBuffer encoded = StandardCharsets.UTF_8.encode(CharBuffer.wrap(pin));
        byte[] bytes = new byte[encoded.remaining()];
        encoded.get(bytes);
        try {
            Path directory = Files.createTempDirectory(pinsDirectory, label + "-",
                    PosixFilePermissions.asFileAttribute(DIRECTORY_MODE));
            Path file = directory.resolve("pin");
            writePrivateFile(file, bytes);
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a PIN directory in " + pinsDirectory, e);
        } finally {
            Arrays.fill(bytes, (byte) 0);
            if (encoded.hasArray()) {
                Arrays.fill(encoded.array(), (byte) 0);
            }
        }
    }

    private static char[] randomPin(SecureRandom random) {
        char[] pin = new char[PIN_LENGTH];
        for (int i = 0; i < pin.length; i++) {
            pin[i] = PIN_ALPHABET[random.nextInt(PIN_ALPHABET.length)];
        }
        return pin;
    }

    private static byte[] randomBytes(SecureRandom random, int count) {
        byte[] bytes = new byte[count];
        random.nextBytes(bytes);
        return bytes;
    }

    private static void deleteRecursively(Path root) {
        if (root == null || !Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        // Files.walk does not follow symbolic links: a link inside is deleted, never its target.
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + root, e);
        }
    }
}
