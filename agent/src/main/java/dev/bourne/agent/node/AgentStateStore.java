package dev.bourne.agent.node;

import dev.bourne.agent.files.PemFiles;
import dev.bourne.agent.workloadapi.WorkloadKey;
import dev.bourne.core.bundle.SpiffeBundle;
import dev.bourne.core.bundle.SpiffeBundleJson;
import dev.bourne.core.spiffeid.TrustDomain;
import dev.bourne.core.svid.x509.X509SvidException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the agent keeps in {@code data_dir} between runs: the trust bundle ({@code bundle.json}, SPIFFE bundle JSON,
 * always: it is public) and, with KeyManager {@code disk}, the agent SVID ({@code agent_svid.pem}) and its key
 * ({@code agent_svid.key}, PKCS#8, mode 0600), so a restart resumes without attesting again while the SVID is valid.
 * With KeyManager {@code memory} the key never touches the disk and a restart attests again.
 */
public final class AgentStateStore {
    public static final String BUNDLE_FILE = "bundle.json";
    public static final String SVID_FILE = "agent_svid.pem";
    public static final String KEY_FILE = "agent_svid.key";
    /** Largest state file read back (a bundle with many authorities stays far below). */
    public static final long MAX_FILE_BYTES = 1 << 20;

    private static final Logger LOG = LoggerFactory.getLogger(AgentStateStore.class);

    private final Path dataDir;
    private final Path svidDir;
    private final boolean persistSvid;

    /**
     * @param dataDir the agent's data directory (created 0700 if missing)
     * @param svidDirectory where the agent SVID and key are kept (KeyManager {@code disk}: its {@code directory} or
     *        data_dir), or empty to keep them in memory only (KeyManager {@code memory})
     */
    public AgentStateStore(Path dataDir, Optional<Path> svidDirectory) throws IOException {
        this.dataDir = dataDir;
        this.persistSvid = svidDirectory.isPresent();
        this.svidDir = svidDirectory.orElse(dataDir);
        for (Path dir : List.of(dataDir, svidDir)) {
            if (!Files.isDirectory(dir)) {
                Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(
                        PosixFilePermissions.fromString("rwx------")));
            }
        }
        if (!persistSvid) {
            // A key left by an earlier run with KeyManager disk must not outlive the switch to memory.
            Files.deleteIfExists(dataDir.resolve(KEY_FILE));
            Files.deleteIfExists(dataDir.resolve(SVID_FILE));
        }
    }

    /** The bundle saved by the last run, if any and readable. */
    public Optional<SpiffeBundle> loadBundle(TrustDomain trustDomain) {
        Path file = dataDir.resolve(BUNDLE_FILE);
        try {
            if (!Files.exists(file)) {
                return Optional.empty();
            }
            return Optional.of(SpiffeBundleJson.decode(trustDomain, read(file)));
        } catch (IOException | IllegalArgumentException e) {
            LOG.warn("ignoring unreadable {}: {}", file, e.getMessage());
            return Optional.empty();
        }
    }

    public void saveBundle(SpiffeBundle bundle) throws IOException {
        PemFiles.write(dataDir.resolve(BUNDLE_FILE),
                SpiffeBundleJson.encode(bundle).getBytes(StandardCharsets.UTF_8), PemFiles.PUBLIC_MODE);
    }

    /** The agent SVID saved by the last run, if the store persists it and one is readable. */
    public Optional<AgentSvid> loadSvid() {
        if (!persistSvid) {
            return Optional.empty();
        }
        Path svidFile = svidDir.resolve(SVID_FILE);
        Path keyFile = svidDir.resolve(KEY_FILE);
        try {
            if (!Files.exists(svidFile) || !Files.exists(keyFile)) {
                return Optional.empty();
            }
            if (!Files.getPosixFilePermissions(keyFile).equals(PemFiles.KEY_MODE)) {
                LOG.warn("ignoring {}: its mode is not 0600", keyFile);
                return Optional.empty();
            }
            List<X509Certificate> chain = new ArrayList<>();
            CertificateFactory factory = CertificateFactory.getInstance("X.509");
            for (var cert : factory.generateCertificates(new ByteArrayInputStream(read(svidFile)))) {
                chain.add((X509Certificate) cert);
            }
            return Optional.of(new AgentSvid(chain, new WorkloadKey(pemBody(read(keyFile), "PRIVATE KEY"))));
        } catch (IOException | CertificateException | X509SvidException | IllegalArgumentException e) {
            LOG.warn("ignoring the saved agent SVID: {}", e.getMessage());
            return Optional.empty();
        }
    }

    /** Saves {@code svid} if this store persists it. */
    public void saveSvid(AgentSvid svid) throws IOException {
        if (!persistSvid) {
            return;
        }
        StringBuilder chain = new StringBuilder();
        for (X509Certificate cert : svid.chain()) {
            try {
                chain.append(PemFiles.pem("CERTIFICATE", cert.getEncoded()));
            } catch (java.security.cert.CertificateEncodingException e) {
                throw new IOException("cannot encode the agent SVID", e);
            }
        }
        // The key file first: a crash between the two writes leaves a key without its certificate, never the reverse.
        PemFiles.write(svidDir.resolve(KEY_FILE),
                PemFiles.pem("PRIVATE KEY", svid.pkcs8().pkcs8()).getBytes(StandardCharsets.US_ASCII),
                PemFiles.KEY_MODE);
        PemFiles.write(svidDir.resolve(SVID_FILE), chain.toString().getBytes(StandardCharsets.US_ASCII),
                PemFiles.PUBLIC_MODE);
    }

    /** Forgets the agent SVID (the server evicted the agent). */
    public void deleteSvid() throws IOException {
        Files.deleteIfExists(svidDir.resolve(SVID_FILE));
        Files.deleteIfExists(svidDir.resolve(KEY_FILE));
    }

    private static byte[] read(Path file) throws IOException {
        if (Files.size(file) > MAX_FILE_BYTES) {
            throw new IOException(file + " is larger than " + MAX_FILE_BYTES + " bytes");
        }
        return Files.readAllBytes(file);
    }

    private static byte[] pemBody(byte[] pem, String type) {
        String text = new String(pem, StandardCharsets.US_ASCII);
        String begin = "-----BEGIN " + type + "-----";
        String end = "-----END " + type + "-----";
        int from = text.indexOf(begin);
        int to = text.indexOf(end);
        if (from < 0 || to < from) {
            throw new IllegalArgumentException("not a PEM " + type);
        }
        return Base64.getMimeDecoder().decode(text.substring(from + begin.length(), to));
    }
}
