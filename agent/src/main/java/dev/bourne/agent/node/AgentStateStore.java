package dev.bourne.agent.node;

import dev.bourne.agent.files.PemFiles;
import dev.bourne.agent.workloadapi.WorkloadKey;
import dev.bourne.core.bundle.SpiffeBundle;
import dev.bourne.core.bundle.SpiffeBundleJson;
import dev.bourne.core.spiffeid.TrustDomain;
import dev.bourne.core.svid.x509.X509SvidException;
import dev.bourne.tpm.agent.AgentTpmException;
import dev.bourne.tpm.agent.SealBrokenException;
import dev.bourne.tpm.common.TpmFormatException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
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
 * always: it is public) and, with KeyManager {@code disk}, the agent SVID ({@code agent_svid.pem}) and its key, so a
 * restart resumes without attesting again while the SVID is valid. With KeyManager {@code memory} the key never
 * touches the disk and a restart attests again.
 *
 * <p>The key is kept in one of two forms, never both:
 * <ul>
 *   <li>without a TPM: {@code agent_svid.key}, PKCS#8 in clear, mode 0600;</li>
 *   <li>with NodeAttestor {@code tpm} (a {@link TpmSealer}): {@code agent_svid.sealed}, mode 0600, the key encrypted
 *       under a key-encryption key sealed to the TPM's PCRs ({@link SealedAgentKey}). No plaintext key file is ever
 *       written; one left by an earlier run is deleted. If the PCRs changed since sealing (another boot state), the
 *       saved SVID and sealed key are deleted and the agent attests again; a TPM that fails otherwise makes
 *       {@link #loadSvid} throw {@link SealedKeyUnavailableException}, so the caller retries and nothing is
 *       thrown away.</li>
 * </ul>
 */
public final class AgentStateStore {
    public static final String BUNDLE_FILE = "bundle.json";
    public static final String SVID_FILE = "agent_svid.pem";
    public static final String KEY_FILE = "agent_svid.key";
    public static final String SEALED_KEY_FILE = "agent_svid.sealed";
    /** Largest state file read back (a bundle with many authorities stays far below). */
    public static final long MAX_FILE_BYTES = 1 << 20;

    /** The TPM command whose format-one errors mean a sealed blob will never load. */
    private static final String SEALED_BLOB_COMMAND = "TPM2_Load";

    private static final Logger LOG = LoggerFactory.getLogger(AgentStateStore.class);

    private final Path dataDir;
    private final Path svidDir;
    private final boolean persistSvid;
    private final Optional<TpmSealer> sealer;
    private final SecureRandom random;

    /**
     * A store that keeps the agent key in clear (mode 0600) or in memory.
     *
     * @param dataDir the agent's data directory (created 0700 if missing)
     * @param svidDirectory where the agent SVID and key are kept (KeyManager {@code disk}: its {@code directory} or
     *        data_dir), or empty to keep them in memory only (KeyManager {@code memory})
     */
    public AgentStateStore(Path dataDir, Optional<Path> svidDirectory) throws IOException {
        this(dataDir, svidDirectory, Optional.empty(), new SecureRandom());
    }

    /**
     * @param sealer with NodeAttestor {@code tpm}: the TPM the agent key is sealed to (used only when
     *        {@code svidDirectory} is present)
     */
    public AgentStateStore(Path dataDir, Optional<Path> svidDirectory, Optional<TpmSealer> sealer,
            SecureRandom random) throws IOException {
        this.dataDir = dataDir;
        this.persistSvid = svidDirectory.isPresent();
        this.svidDir = svidDirectory.orElse(dataDir);
        this.sealer = sealer;
        this.random = random;
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
            Files.deleteIfExists(dataDir.resolve(SEALED_KEY_FILE));
        } else if (sealer.isPresent()) {
            if (Files.deleteIfExists(svidDir.resolve(KEY_FILE))) {
                LOG.warn("deleted the plaintext agent key {} left by an earlier run: with NodeAttestor \"tpm\" the "
                        + "agent key is kept sealed to the TPM", svidDir.resolve(KEY_FILE));
            }
        } else {
            // A sealed key is useless without the TPM attestor; the next save writes the key file.
            Files.deleteIfExists(svidDir.resolve(SEALED_KEY_FILE));
        }
    }

    /** Whether the agent key is kept sealed to the TPM ({@value #SEALED_KEY_FILE}). */
    public boolean sealsKey() {
        return persistSvid && sealer.isPresent();
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

    /**
     * The agent SVID saved by the last run, if the store persists it and one is readable. A sealed key whose PCRs
     * changed, or that does not open for any reason but a TPM failure, is deleted with its SVID (logged).
     *
     * @throws SealedKeyUnavailableException the TPM failed for another reason than changed PCRs: retry later
     */
    public Optional<AgentSvid> loadSvid() throws SealedKeyUnavailableException {
        if (!persistSvid) {
            return Optional.empty();
        }
        Path svidFile = svidDir.resolve(SVID_FILE);
        Path keyFile = svidDir.resolve(sealer.isPresent() ? SEALED_KEY_FILE : KEY_FILE);
        List<X509Certificate> chain;
        byte[] key;
        try {
            if (!Files.exists(svidFile) || !Files.exists(keyFile)) {
                return Optional.empty();
            }
            if (!Files.getPosixFilePermissions(keyFile).equals(PemFiles.KEY_MODE)) {
                LOG.warn("ignoring {}: its mode is not 0600", keyFile);
                return Optional.empty();
            }
            chain = new ArrayList<>();
            CertificateFactory factory = CertificateFactory.getInstance("X.509");
            for (var cert : factory.generateCertificates(new ByteArrayInputStream(read(svidFile)))) {
                chain.add((X509Certificate) cert);
            }
            key = read(keyFile);
        } catch (IOException | CertificateException e) {
            LOG.warn("ignoring the saved agent SVID: {}", e.getMessage());
            return Optional.empty();
        }
        if (chain.isEmpty()) {
            LOG.warn("ignoring the saved agent SVID: {} holds no certificate", svidFile);
            return Optional.empty();
        }
        try {
            WorkloadKey pkcs8 = sealer.isPresent() ? unsealed(key, chain.get(0), keyFile)
                    : new WorkloadKey(pemBody(key, "PRIVATE KEY"));
            AgentSvid svid = new AgentSvid(chain, pkcs8);
            if (!svid.keyMatchesLeaf()) {
                throw new IllegalArgumentException("the saved key is not the key of the saved certificate");
            }
            return Optional.of(svid);
        } catch (X509SvidException | IllegalArgumentException e) {
            LOG.warn("ignoring the saved agent SVID: {}", e.getMessage());
            if (sealer.isPresent()) {
                discard();
            }
            return Optional.empty();
        } catch (SealBrokenException e) {
            LOG.warn("the agent key sealed in {} cannot be unsealed: {}. The machine booted into another state (or a "
                    + "sealed PCR was extended); deleting the sealed key and its SVID and attesting again", keyFile,
                    e.getMessage());
            discard();
            return Optional.empty();
        }
    }

    /** The key of a sealed key file; IllegalArgumentException (logged, discarded) when it is unusable for good. */
    private WorkloadKey unsealed(byte[] file, X509Certificate leaf, Path keyFile) throws SealBrokenException,
            SealedKeyUnavailableException {
        try {
            return SealedAgentKey.parse(file).open(sealer.orElseThrow(), leaf);
        } catch (TpmFormatException e) {
            throw new IllegalArgumentException(keyFile + ": " + e.getMessage(), e);
        } catch (SealBrokenException e) {
            throw e;
        } catch (AgentTpmException e) {
            if (SEALED_BLOB_COMMAND.equals(e.command()) && e.responseCode().filter(rc -> (rc & 0x80) != 0)
                    .isPresent()) {
                // TPM2_Load refused the object itself (integrity, wrong parent: altered, or the TPM was cleared):
                // no retry will ever load it.
                throw new IllegalArgumentException(keyFile + ": " + e.getMessage(), e);
            }
            throw new SealedKeyUnavailableException(SealedKeyUnavailableException.UNSEAL_FAILED + e.getMessage(), e);
        }
    }

    private void discard() {
        try {
            deleteSvid();
        } catch (IOException e) {
            LOG.warn("cannot delete the saved agent SVID: {}", e.getMessage());
        }
    }

    /**
     * Saves {@code svid} if this store persists it: with a {@link TpmSealer} the key is sealed first (a new KEK sealed
     * to the PCRs' current values), then the certificate chain is written.
     *
     * @throws IOException also when the TPM cannot seal (the previous files are then left as they were)
     */
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
        // The key file first: a crash between the two writes leaves a key without its certificate, never the reverse
        // (and a sealed key is bound to its certificate, so a mismatched pair never loads).
        if (sealer.isPresent()) {
            byte[] sealed;
            try {
                sealed = SealedAgentKey.seal(sealer.get(), svid.pkcs8(), svid.leaf(), random);
            } catch (AgentTpmException | GeneralSecurityException e) {
                throw new IOException("cannot seal the agent key to the TPM: " + e.getMessage(), e);
            }
            PemFiles.write(svidDir.resolve(SEALED_KEY_FILE), sealed, PemFiles.KEY_MODE);
        } else {
            PemFiles.write(svidDir.resolve(KEY_FILE),
                    PemFiles.pem("PRIVATE KEY", svid.pkcs8().pkcs8()).getBytes(StandardCharsets.US_ASCII),
                    PemFiles.KEY_MODE);
        }
        PemFiles.write(svidDir.resolve(SVID_FILE), chain.toString().getBytes(StandardCharsets.US_ASCII),
                PemFiles.PUBLIC_MODE);
    }

    /** Forgets the agent SVID (the server evicted the agent). */
    public void deleteSvid() throws IOException {
        Files.deleteIfExists(svidDir.resolve(SVID_FILE));
        Files.deleteIfExists(svidDir.resolve(KEY_FILE));
        Files.deleteIfExists(svidDir.resolve(SEALED_KEY_FILE));
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
