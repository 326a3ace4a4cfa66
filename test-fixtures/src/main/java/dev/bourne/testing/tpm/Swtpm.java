package dev.bourne.testing.tpm;

import dev.bourne.testing.Exec;
import dev.bourne.testing.RequiredTool;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import tss.Tpm;
import tss.TpmException;
import tss.tpm.GetCapabilityResponse;
import tss.tpm.TPML_TAGGED_TPM_PROPERTY;
import tss.tpm.TPMS_TAGGED_PROPERTY;
import tss.tpm.TPM_CAP;
import tss.tpm.TPM_HANDLE;
import tss.tpm.TPM_PT;
import tss.tpm.TPM_SU;

/**
 * A running swtpm TPM 2.0 on 127.0.0.1, on its own copy of the JVM's {@link SwtpmTemplate} state: one per test class
 * (see {@link WithSwtpm}), so PCRs, NV writes, loaded objects and sessions never leak between classes.
 *
 * <p>swtpm runs as a child process (never {@code --daemon}) with a TCP data port P and control port P+1, both bound
 * to 127.0.0.1, and starts already past {@code TPM2_Startup(CLEAR)}. Java talks to it through one {@link TcpTpmDevice}
 * connection, opened at start and returned by {@link #tpm()}.
 *
 * <p><b>One client at a time.</b> swtpm serves a single connection on its data port; a second client (tpm2-tools
 * through {@link #tcti()}, another {@code Tpm}) connects but is not answered until the first one leaves. Call
 * {@link #disconnect()} before running tpm2-tools; the next {@link #tpm()} reconnects. There is no resource manager
 * either: flush every transient object and session (libtpms holds only 3 of each).
 *
 * <p><b>Clean shutdown.</b> {@link #close()} sends {@code TPM2_Shutdown(CLEAR)}, stops swtpm through its control
 * channel ({@code swtpm_ioctl -s}) and waits for it to exit. A TPM stopped without a shutdown counts the restart as a
 * dictionary-attack event, and after three such restarts on one state the TPM locks out (TPM_RC_LOCKOUT).
 *
 * <p>Not thread-safe.
 */
public final class Swtpm implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(Swtpm.class.getName());
    private static final Duration START_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration POLL_INTERVAL = Duration.ofMillis(10);
    private static final int PORT_ATTEMPTS = 5;
    /** TPM2_NV_Read never returns more than this, even if the TPM's buffer is larger. */
    private static final int MAX_NV_CHUNK = 1024;

    /** Processes to stop if the JVM exits with fixtures still open, so no swtpm outlives the build. */
    private static final Set<Process> LIVE = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> LIVE.forEach(Process::destroy), "swtpm-reaper"));
    }

    private final Path directory;
    private final Path stateDir;
    private final Path logFile;
    private final Process process;
    private final int dataPort;
    private final LocalCaCertificates localCa;
    private TcpTpmDevice device;
    private Tpm tpm;
    private boolean closed;

    private Swtpm(Path directory, Path stateDir, Path logFile, Process process, int dataPort, TcpTpmDevice device,
            LocalCaCertificates localCa) {
        this.directory = directory;
        this.stateDir = stateDir;
        this.logFile = logFile;
        this.process = process;
        this.dataPort = dataPort;
        this.localCa = localCa;
        attach(device);
    }

    /**
     * Copies the template state, starts swtpm on free loopback ports and connects to it.
     *
     * @throws IllegalStateException if swtpm or swtpm-tools is missing (naming the Debian package) or swtpm does not
     *     start; the message carries swtpm's log
     */
    public static Swtpm start() {
        Path swtpm = RequiredTool.SWTPM.path();
        RequiredTool.SWTPM_IOCTL.path(); // needed by close(): fail now, not after the tests ran
        SwtpmTemplate template = SwtpmTemplate.get();
        long begin = System.nanoTime();
        Path directory;
        try {
            directory = Files.createTempDirectory("bourne-swtpm-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a directory for swtpm", e);
        }
        try {
            Path stateDir = Files.createDirectory(directory.resolve("state"));
            template.copyStateTo(stateDir);
            List<String> bindFailures = new ArrayList<>();
            for (int attempt = 1; attempt <= PORT_ATTEMPTS; attempt++) {
                int port = freePortPair();
                Swtpm started = tryStart(swtpm, directory, stateDir, port, template.localCa());
                if (started != null) {
                    LOG.log(System.Logger.Level.INFO, "swtpm on 127.0.0.1:{0} started in {1} ms",
                            String.valueOf(port), Duration.ofNanos(System.nanoTime() - begin).toMillis());
                    return started;
                }
                bindFailures.add(Integer.toString(port));
            }
            throw new IllegalStateException("swtpm could not bind its ports after " + PORT_ATTEMPTS
                    + " attempts (data ports tried: " + String.join(", ", bindFailures) + ")");
        } catch (IOException e) {
            SwtpmTemplate.deleteTree(directory);
            throw new UncheckedIOException("cannot prepare swtpm state in " + directory, e);
        } catch (RuntimeException e) {
            SwtpmTemplate.deleteTree(directory);
            throw e;
        }
    }

    /** A started and connected swtpm, or null when another process took one of the ports first. */
    private static Swtpm tryStart(Path swtpm, Path directory, Path stateDir, int port, LocalCaCertificates localCa)
            throws IOException {
        Path logFile = directory.resolve("swtpm.log");
        Path outFile = directory.resolve("swtpm.out");
        Path pidFile = directory.resolve("swtpm.pid");
        Files.deleteIfExists(logFile);
        Files.deleteIfExists(pidFile);
        List<String> command = List.of(swtpm.toString(), "socket", "--tpm2",
                "--tpmstate", "dir=" + stateDir,
                "--server", "type=tcp,port=" + port + ",bindaddr=127.0.0.1",
                "--ctrl", "type=tcp,port=" + (port + 1) + ",bindaddr=127.0.0.1",
                "--flags", "not-need-init,startup-clear",
                "--pid", "file=" + pidFile,
                "--log", "file=" + logFile + ",level=1");
        Process process = new ProcessBuilder(command)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectErrorStream(true)
                .redirectOutput(outFile.toFile())
                .start();
        LIVE.add(process);
        TcpTpmDevice device = TcpTpmDevice.loopback(port);
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        try {
            while (true) {
                if (!process.isAlive()) {
                    LIVE.remove(process);
                    String output = read(logFile) + read(outFile);
                    if (output.contains("Address already in use")) {
                        return null;
                    }
                    throw new IllegalStateException("swtpm exited with " + process.exitValue()
                            + " before accepting connections: " + String.join(" ", command) + "\n" + output);
                }
                // swtpm writes its pid file only after binding both ports: until our process's pid is there, whatever
                // answers on the port may be another program that took it after freePortPair() probed it.
                if (pidFileNames(pidFile, process)) {
                    try {
                        device.connectOrThrow();
                        return new Swtpm(directory, stateDir, logFile, process, port, device, localCa);
                    } catch (ConnectException notYetAccepting) {
                        // Bound but not yet listening: poll again.
                    }
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("swtpm did not accept connections on 127.0.0.1:" + port
                            + " within " + START_TIMEOUT + "\n" + read(logFile) + read(outFile));
                }
                Thread.sleep(POLL_INTERVAL.toMillis());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stopForcibly(process);
            throw new IllegalStateException("interrupted while starting swtpm", e);
        } catch (IOException | RuntimeException e) {
            stopForcibly(process);
            throw e;
        }
    }

    private static boolean pidFileNames(Path pidFile, Process process) {
        String content = read(pidFile).strip();
        return content.equals(Long.toString(process.pid()));
    }

    /** A port P such that P and P+1 were both free on 127.0.0.1 a moment ago; a race is caught by the retry. */
    private static int freePortPair() throws IOException {
        InetAddress loopback = TcpTpmDevice.ipv4Loopback();
        for (int attempt = 0; attempt < 50; attempt++) {
            try (ServerSocket data = new ServerSocket(0, 1, loopback)) {
                int port = data.getLocalPort();
                if (port >= 65535) {
                    continue;
                }
                if (isFree(port + 1, loopback)) {
                    return port;
                }
            }
        }
        throw new IOException("found no two consecutive free ports on 127.0.0.1");
    }

    private static boolean isFree(int port, InetAddress address) {
        try (ServerSocket probe = new ServerSocket(port, 1, address)) {
            return probe.isBound();
        } catch (IOException taken) {
            return false;
        }
    }

    /**
     * The TSS.Java connection to this TPM, reconnecting if {@link #disconnect()} was called. While it is connected no
     * other client is served.
     */
    public Tpm tpm() {
        requireOpen();
        if (tpm == null) {
            TcpTpmDevice fresh = TcpTpmDevice.loopback(dataPort);
            try {
                fresh.connectOrThrow();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot reconnect to swtpm on 127.0.0.1:" + dataPort + "\n" + log(), e);
            }
            attach(fresh);
        }
        return tpm;
    }

    /** The device under {@link #tpm()}, connecting if needed. */
    public TcpTpmDevice device() {
        tpm();
        return device;
    }

    /**
     * Closes the Java connection so another client, such as tpm2-tools through {@link #tcti()}, can use the data port.
     * swtpm keeps running and keeps its state (loaded objects and sessions included).
     */
    public void disconnect() {
        if (device != null) {
            device.close();
        }
        device = null;
        tpm = null;
    }

    private void attach(TcpTpmDevice connected) {
        Tpm fresh = new Tpm();
        fresh._setDevice(connected);
        this.device = connected;
        this.tpm = fresh;
    }

    /** The TCP data port on 127.0.0.1 (TPM commands, simulator framing). */
    public int dataPort() {
        return dataPort;
    }

    /** The TCP control port on 127.0.0.1 (swtpm_ioctl), always {@code dataPort() + 1}. */
    public int ctrlPort() {
        return dataPort + 1;
    }

    /** The tpm2-tools TCTI for this TPM, for {@code TPM2TOOLS_TCTI} or {@code -T}. Disconnect Java first. */
    public String tcti() {
        return "swtpm:host=127.0.0.1,port=" + dataPort;
    }

    /** The directory holding this instance's TPM state; deleted by {@link #close()}. */
    public Path stateDir() {
        return stateDir;
    }

    /** The certificates of the local CA that issued this TPM's EK certificates. */
    public LocalCaCertificates localCaCertificates() {
        return localCa;
    }

    /** swtpm's log so far (level 1: errors and warnings), for failure messages. */
    public String log() {
        return read(logFile);
    }

    /**
     * The RSA-2048 EK certificate, read from NV index 0x01C00002 over {@link #tpm()}.
     *
     * <p>swtpm_setup defines the index with {@code AUTHREAD}, {@code OWNERREAD} and {@code NO_DA} and an empty auth
     * value, so it authorizes the read with the index's own (empty) password; no hierarchy auth is involved. The
     * certificate is longer than one NV read can return, so it is read in chunks of the TPM's {@code
     * TPM_PT_NV_BUFFER_MAX}, at most 1024 bytes.
     */
    public X509Certificate ekCertificate() {
        Tpm t = tpm();
        TPM_HANDLE index = new TPM_HANDLE(SwtpmTemplate.RSA_EK_CERTIFICATE_NV_INDEX);
        int size = t.NV_ReadPublic(index).nvPublic.dataSize;
        int chunk = Math.min(MAX_NV_CHUNK, nvBufferMax(t));
        ByteArrayOutputStream der = new ByteArrayOutputStream(size);
        for (int offset = 0; offset < size; offset += chunk) {
            der.writeBytes(t.NV_Read(index, index, Math.min(chunk, size - offset), offset));
        }
        try {
            return (X509Certificate) CertificateFactory.getInstance("X.509")
                    .generateCertificate(new ByteArrayInputStream(der.toByteArray()));
        } catch (CertificateException e) {
            throw new IllegalStateException("NV index 0x01C00002 does not hold an X.509 certificate", e);
        }
    }

    private static int nvBufferMax(Tpm t) {
        GetCapabilityResponse answer = t.GetCapability(TPM_CAP.TPM_PROPERTIES, TPM_PT.NV_BUFFER_MAX.toInt(), 1);
        if (answer.capabilityData instanceof TPML_TAGGED_TPM_PROPERTY) {
            for (TPMS_TAGGED_PROPERTY property : ((TPML_TAGGED_TPM_PROPERTY) answer.capabilityData).tpmProperty) {
                if (property.property.equals(TPM_PT.NV_BUFFER_MAX) && property.value > 0) {
                    return property.value;
                }
            }
        }
        throw new IllegalStateException("the TPM did not report TPM_PT_NV_BUFFER_MAX");
    }

    /**
     * Shuts the TPM down cleanly and deletes its state: {@code TPM2_Shutdown(CLEAR)} over the Java connection, close it,
     * {@code swtpm_ioctl -s} on the control port, wait for swtpm to exit. Only when swtpm does not exit in time is it
     * terminated, then killed. Closing twice does nothing.
     *
     * @throws IllegalStateException after cleaning up, if any step failed (with swtpm's log)
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        List<String> failures = new ArrayList<>();
        try {
            tpm().Shutdown(TPM_SU.CLEAR);
        } catch (TpmException | UncheckedIOException e) {
            failures.add("TPM2_Shutdown(CLEAR) failed: " + e);
        }
        disconnect();
        closed = true;
        try {
            Exec.Result stop = Exec.run(List.of(RequiredTool.SWTPM_IOCTL.path().toString(),
                    "--tcp", "127.0.0.1:" + ctrlPort(), "-s"), Map.of(), STOP_TIMEOUT);
            if (stop.exitCode() != 0) {
                failures.add("swtpm_ioctl -s exited with " + stop.exitCode() + ": " + stop.stderr().strip());
            }
        } catch (IllegalStateException e) {
            failures.add(e.getMessage());
        }
        try {
            if (!process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                failures.add("swtpm did not exit within " + STOP_TIMEOUT + " of swtpm_ioctl -s");
                stopForcibly(process);
            } else if (process.exitValue() != 0) {
                failures.add("swtpm exited with " + process.exitValue());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stopForcibly(process);
            failures.add("interrupted while waiting for swtpm to exit");
        }
        LIVE.remove(process);
        String log = read(logFile) + read(directory.resolve("swtpm.out"));
        SwtpmTemplate.deleteTree(directory);
        if (!failures.isEmpty()) {
            throw new IllegalStateException("swtpm on 127.0.0.1:" + dataPort + " did not stop cleanly: "
                    + String.join("; ", failures) + "\n" + log);
        }
    }

    /** Whether the swtpm process is still running. */
    public boolean isRunning() {
        return process.isAlive();
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("swtpm on 127.0.0.1:" + dataPort + " is closed");
        }
    }

    /** SIGTERM, a bounded wait, then SIGKILL: the last resort when the clean stop did not work. */
    private static void stopForcibly(Process process) {
        process.destroy();
        try {
            if (!process.waitFor(2, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(2, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        LIVE.remove(process);
    }

    private static String read(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            return "(cannot read " + file + ": " + e.getMessage() + ")";
        }
    }

    @Override
    public String toString() {
        return "Swtpm[127.0.0.1:" + dataPort + (closed ? ", closed" : "") + "]";
    }
}
