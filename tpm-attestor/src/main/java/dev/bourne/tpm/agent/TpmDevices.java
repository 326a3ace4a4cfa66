package dev.bourne.tpm.agent;

import dev.bourne.tpm.agent.internal.CharacterTpmDevice;
import dev.bourne.tpm.agent.internal.SimulatorTcpTpmDevice;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import tss.TpmDevice;

/**
 * Opens the TPM the agent talks to, named as in {@code tpm_device}: a character device path ({@code /dev/tpmrm0}, the
 * kernel resource manager, the default) or {@code tcp://host:port}, a TPM speaking the simulator framing on TCP
 * (swtpm's data port). The kernel resource manager matters on real machines: without it objects and sessions of
 * other programs share the TPM's few slots with ours.
 */
public final class TpmDevices {

    public static final String DEFAULT_DEVICE = "/dev/tpmrm0";
    public static final String TCP_SCHEME = "tcp://";
    public static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
    /** A real TPM can take seconds for an RSA CreatePrimary; a minute means it is gone. */
    public static final Duration READ_TIMEOUT = Duration.ofSeconds(60);

    public static final String NOT_A_DEVICE = "must be an absolute path to a TPM character device (/dev/tpmrm0) or "
            + "tcp://host:port";
    public static final String BAD_TCP_ADDRESS = "must be tcp://host:port with a port between 1 and 65535";

    private static final int S_IFMT = 0170000;
    private static final int S_IFCHR = 0020000;

    private TpmDevices() {
    }

    /**
     * Why {@code device} is not a usable device name, or empty when it is; touches nothing.
     */
    public static Optional<String> check(String device) {
        if (device == null || device.isEmpty()) {
            return Optional.of(NOT_A_DEVICE);
        }
        if (device.startsWith(TCP_SCHEME)) {
            return tcpAddress(device).isPresent() ? Optional.empty() : Optional.of(BAD_TCP_ADDRESS);
        }
        try {
            return Path.of(device).isAbsolute() ? Optional.empty() : Optional.of(NOT_A_DEVICE);
        } catch (InvalidPathException e) {
            return Optional.of(NOT_A_DEVICE);
        }
    }

    /**
     * Opens and connects the named device.
     *
     * @throws AgentTpmException naming the device and why it cannot be used (missing, not a character device,
     *     permission, nothing listening)
     */
    public static TpmDevice open(String device) throws AgentTpmException {
        String operation = "open TPM device " + device;
        Optional<String> problem = check(device);
        if (problem.isPresent()) {
            throw new AgentTpmException(operation, "the name " + problem.get());
        }
        if (device.startsWith(TCP_SCHEME)) {
            InetSocketAddress unresolved = tcpAddress(device).orElseThrow();
            InetSocketAddress address = new InetSocketAddress(unresolved.getHostString(), unresolved.getPort());
            SimulatorTcpTpmDevice tcp = new SimulatorTcpTpmDevice(address, CONNECT_TIMEOUT, READ_TIMEOUT);
            try {
                tcp.connectOrThrow();
            } catch (IOException e) {
                throw new AgentTpmException(operation, "cannot connect: " + e.getMessage(), e);
            }
            return tcp;
        }
        Path path = Path.of(device);
        try {
            Object mode = Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS);
            if (Files.isSymbolicLink(path)) {
                mode = Files.getAttribute(path.toRealPath(), "unix:mode");
            }
            if (mode instanceof Integer m && (m & S_IFMT) != S_IFCHR) {
                throw new AgentTpmException(operation, "it is not a character device");
            }
        } catch (NoSuchFileException e) {
            throw new AgentTpmException(operation, "no such device (is the TPM enabled in firmware and the tpm_crb "
                    + "or tpm_tis driver loaded?)", e);
        } catch (UnsupportedOperationException | IllegalArgumentException e) {
            // No unix attribute view: let opening the file decide.
        } catch (IOException e) {
            throw new AgentTpmException(operation, e.toString(), e);
        }
        CharacterTpmDevice character = new CharacterTpmDevice(path);
        try {
            character.connectOrThrow();
        } catch (IOException e) {
            throw new AgentTpmException(operation, "cannot open it read/write: " + e
                    + " (the agent's user needs access, usually through the tss group)", e);
        }
        return character;
    }

    private static Optional<InetSocketAddress> tcpAddress(String device) {
        try {
            URI uri = new URI(device);
            String host = uri.getHost();
            int port = uri.getPort();
            if (host == null || port < 1 || port > 65535 || uri.getRawPath() != null && !uri.getRawPath().isEmpty()
                    || uri.getRawQuery() != null || uri.getRawFragment() != null || uri.getRawUserInfo() != null) {
                return Optional.empty();
            }
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            return Optional.of(InetSocketAddress.createUnresolved(host, port));
        } catch (URISyntaxException e) {
            return Optional.empty();
        }
    }
}
