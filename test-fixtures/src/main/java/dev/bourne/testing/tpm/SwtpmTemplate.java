package dev.bourne.testing.tpm;

import dev.bourne.testing.Exec;
import dev.bourne.testing.RequiredTool;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A manufactured swtpm TPM 2.0 state, made once per JVM and copied by every {@link Swtpm}: running swtpm_setup takes
 * about a second (two EKs, three certificates), copying its state file takes a millisecond.
 *
 * <p>Recipe (docs/testing-tpm.md): {@code swtpm-create-user-config-files} with {@code XDG_CONFIG_HOME} pointing into the
 * template directory, so swtpm-localca keeps its CA keys there and not in /var/lib/swtpm-localca; then {@code
 * swtpm_setup --tpm2 --createek --decryption --create-ek-cert --create-platform-cert --lock-nvram --pcr-banks sha256}.
 * The result holds an RSA-2048 EK at 0x81010001 with its certificate in NV 0x01C00002, an ECC P-384 EK at 0x81010016
 * (certificate in NV 0x01C00016) and a platform certificate in NV 0x01C08000, all issued by a local CA whose root and
 * issuer certificates this template keeps for chain validation.
 *
 * <p>Every copy shares the same EKs and EK certificates: tests that need distinct endorsement identities must manufacture
 * their own state. The directory is deleted when the JVM exits.
 */
public final class SwtpmTemplate {

    /** NV index of the RSA-2048 EK certificate (TCG EK Credential Profile, "Low Range"). */
    public static final int RSA_EK_CERTIFICATE_NV_INDEX = 0x01C00002;
    /** Persistent handle of the RSA-2048 EK (TCG TPM v2.0 Provisioning Guidance). */
    public static final int RSA_EK_HANDLE = 0x81010001;

    private static final System.Logger LOG = System.getLogger(SwtpmTemplate.class.getName());
    private static final String CREATE_USER_CONFIG = "/usr/share/swtpm/swtpm-create-user-config-files";
    private static final Duration SETUP_TIMEOUT = Duration.ofSeconds(60);
    /** swtpm's lock file: it belongs to the process that holds the state, never to a copy. */
    private static final String STATE_LOCK_FILE = ".lock";

    private static SwtpmTemplate instance;

    private final Path directory;
    private final Path stateDir;
    private final LocalCaCertificates localCa;
    private final Duration manufactureTime;

    private SwtpmTemplate(Path directory, Path stateDir, LocalCaCertificates localCa, Duration manufactureTime) {
        this.directory = directory;
        this.stateDir = stateDir;
        this.localCa = localCa;
        this.manufactureTime = manufactureTime;
    }

    /**
     * The JVM's template, manufactured on first use.
     *
     * @throws IllegalStateException if swtpm-tools is not installed (naming the package) or manufacturing fails
     */
    public static synchronized SwtpmTemplate get() {
        if (instance == null) {
            instance = manufacture();
        }
        return instance;
    }

    /** The local CA's root and issuer certificates. */
    public LocalCaCertificates localCa() {
        return localCa;
    }

    /** How long swtpm_setup and the user configuration took. */
    public Duration manufactureTime() {
        return manufactureTime;
    }

    /** The directory holding the template's state files; never run swtpm on it, copy it with {@link #copyStateTo}. */
    public Path stateDir() {
        return stateDir;
    }

    /** Copies the state files (not swtpm's lock file) into {@code target}, an existing empty directory. */
    public void copyStateTo(Path target) {
        try (Stream<Path> files = Files.list(stateDir)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                String name = file.getFileName().toString();
                if (Files.isRegularFile(file) && !name.equals(STATE_LOCK_FILE)) {
                    Files.copy(file, target.resolve(name));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot copy the swtpm template state from " + stateDir + " to " + target, e);
        }
    }

    private static SwtpmTemplate manufacture() {
        Path swtpmSetup = RequiredTool.SWTPM_SETUP.path();
        Path createUserConfig = Path.of(CREATE_USER_CONFIG);
        if (!Files.isExecutable(createUserConfig)) {
            throw new IllegalStateException(CREATE_USER_CONFIG + " is missing: install the Debian package '"
                    + RequiredTool.SWTPM_SETUP.debianPackage() + "' (apt-get install "
                    + RequiredTool.SWTPM_SETUP.debianPackage() + ")");
        }
        long start = System.nanoTime();
        Path directory;
        try {
            directory = Files.createTempDirectory("bourne-swtpm-template-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the swtpm template directory", e);
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                deleteTree(directory);
            } catch (UncheckedIOException e) {
                LOG.log(System.Logger.Level.WARNING, "cannot delete the swtpm template " + directory, e);
            }
        }, "swtpm-template-cleanup"));
        Path config = directory.resolve("config");
        Path state = directory.resolve("state");
        Path ekCerts = directory.resolve("ekcerts");
        try {
            Files.createDirectories(config);
            Files.createDirectories(state);
            Files.createDirectories(ekCerts);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot populate the swtpm template directory " + directory, e);
        }
        // XDG_CONFIG_HOME redirects swtpm_setup.conf and the swtpm-localca state (CA keys, serial) into the template,
        // away from the system-wide /var/lib/swtpm-localca.
        Map<String, String> env = Map.of("XDG_CONFIG_HOME", config.toString());

        List<String> userConfig = new ArrayList<>(List.of(createUserConfig.toString()));
        if (runningAsRoot()) {
            // The script refuses to run as root without --root, to keep root from writing into a user's home.
            userConfig.add("--root");
        }
        Exec.run(userConfig, env, SETUP_TIMEOUT).requireSuccess();

        Exec.run(List.of(swtpmSetup.toString(), "--tpm2", "--tpmstate", state.toString(),
                "--createek", "--decryption", "--create-ek-cert", "--create-platform-cert", "--lock-nvram",
                "--pcr-banks", "sha256", "--not-overwrite", "--write-ek-cert-files", ekCerts.toString()),
                env, SETUP_TIMEOUT).requireSuccess();

        Map<String, String> caConfig = readLocalCaConfig(config.resolve("swtpm-localca.conf"));
        Path caStateDir = Path.of(required(caConfig, "statedir"));
        Path issuerPath = Path.of(required(caConfig, "issuercert"));
        LocalCaCertificates localCa = new LocalCaCertificates(
                readCertificate(caStateDir.resolve("swtpm-localca-rootca-cert.pem")), readCertificate(issuerPath));
        Duration elapsed = Duration.ofNanos(System.nanoTime() - start);
        LOG.log(System.Logger.Level.INFO, "manufactured swtpm template in {0} ms at {1}",
                elapsed.toMillis(), directory);
        return new SwtpmTemplate(directory, state, localCa, elapsed);
    }

    private static boolean runningAsRoot() {
        return new com.sun.security.auth.module.UnixSystem().getUid() == 0;
    }

    /** Parses swtpm-localca.conf: {@code key = value} lines, {@code #} comments. */
    private static Map<String, String> readLocalCaConfig(Path file) {
        Map<String, String> values = new LinkedHashMap<>();
        try {
            for (String line : Files.readAllLines(file)) {
                String trimmed = line.strip();
                int eq = trimmed.indexOf('=');
                if (trimmed.isEmpty() || trimmed.startsWith("#") || eq < 0) {
                    continue;
                }
                values.put(trimmed.substring(0, eq).strip(), trimmed.substring(eq + 1).strip());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
        return values;
    }

    private static String required(Map<String, String> config, String key) {
        String value = config.get(key);
        if (value == null || value.isEmpty()) {
            throw new IllegalStateException("swtpm-localca.conf has no '" + key + "' entry: " + config);
        }
        return value;
    }

    static X509Certificate readCertificate(Path pem) {
        try (InputStream in = Files.newInputStream(pem)) {
            return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + pem, e);
        } catch (CertificateException e) {
            throw new IllegalStateException(pem + " does not hold an X.509 certificate", e);
        }
    }

    /** Deletes a directory tree, best effort: used at shutdown and after a fixture stops, never on live state. */
    static void deleteTree(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path path : (Iterable<Path>) paths.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(path);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + root, e);
        }
    }

    @Override
    public String toString() {
        return "SwtpmTemplate[" + directory + "]";
    }
}
