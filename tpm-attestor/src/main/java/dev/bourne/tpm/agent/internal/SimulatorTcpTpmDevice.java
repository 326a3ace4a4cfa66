package dev.bourne.tpm.agent.internal;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Objects;
import tss.TpmDevice;
import tss.TpmException;

/**
 * A TPM reached over TCP with the Microsoft TPM 2.0 simulator's command framing, as swtpm serves it on its data port
 * ({@code swtpm socket --server type=tcp}). Used for tests and for software TPMs; production machines use the kernel's
 * resource manager ({@link CharacterTpmDevice} on {@code /dev/tpmrm0}).
 *
 * <p>Why not TSS.Java's {@code TpmDeviceTcp}: it writes each frame in four small writes without {@code TCP_NODELAY}
 * (about 45 ms per command through Nagle's algorithm), has no timeouts, and opens a second connection to port+1 for
 * simulator platform signals, which on swtpm is a control channel speaking another protocol. This device uses the data
 * port only, sends one write per frame with {@code TCP_NODELAY}, and bounds connecting and every read.
 *
 * <p>Framing: {@code TPM_SEND_COMMAND} (8, uint32), locality (uint8, 0), length (uint32), command; the answer is
 * length (uint32), response, and a uint32 acknowledgement that must be 0. Closing sends {@code TPM_SESSION_END} (20).
 * Not thread-safe: one command at a time, as TSS.Java issues them.
 */
public final class SimulatorTcpTpmDevice extends TpmDevice {

    private static final int TPM_SEND_COMMAND = 8;
    private static final int TPM_SESSION_END = 20;
    /** TPM responses are at most a few KiB (TPM_PT_MAX_RESPONSE_SIZE); a larger length is a framing error. */
    static final int MAX_RESPONSE = 64 * 1024;

    private final InetSocketAddress address;
    private final Duration connectTimeout;
    private final Duration readTimeout;
    private Socket socket;
    private DataInputStream in;
    private OutputStream out;

    public SimulatorTcpTpmDevice(InetSocketAddress address, Duration connectTimeout, Duration readTimeout) {
        this.address = Objects.requireNonNull(address, "address");
        this.connectTimeout = Objects.requireNonNull(connectTimeout, "connectTimeout");
        this.readTimeout = Objects.requireNonNull(readTimeout, "readTimeout");
    }

    /** TSS.Java's contract: false when nothing answers; {@link #connectOrThrow()} gives the reason. */
    @Override
    public boolean connect() {
        try {
            connectOrThrow();
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** Connects, or throws why it could not. */
    public void connectOrThrow() throws IOException {
        if (socket != null) {
            return;
        }
        if (address.isUnresolved()) {
            throw new IOException("cannot resolve " + address.getHostString());
        }
        Socket s = new Socket();
        try {
            s.setTcpNoDelay(true);
            s.connect(address, Math.toIntExact(connectTimeout.toMillis()));
            s.setSoTimeout(Math.toIntExact(readTimeout.toMillis()));
            in = new DataInputStream(new BufferedInputStream(s.getInputStream()));
            out = s.getOutputStream();
            socket = s;
        } catch (IOException | RuntimeException e) {
            try {
                s.close();
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    @Override
    public void dispatchCommand(byte[] command) {
        Socket s = requireSocket();
        ByteBuffer frame = ByteBuffer.allocate(4 + 1 + 4 + command.length);
        frame.putInt(TPM_SEND_COMMAND).put((byte) 0).putInt(command.length).put(command);
        try {
            out.write(frame.array());
            out.flush();
        } catch (IOException e) {
            close();
            throw new TpmException("cannot send a command to the TPM at " + s.getRemoteSocketAddress() + ": "
                    + e.getMessage(), e);
        }
    }

    @Override
    public byte[] getResponse() {
        Socket s = requireSocket();
        // Any failure leaves the stream at an unknown position: drop the connection so no later command reads the
        // rest of this response as its own.
        boolean complete = false;
        try {
            int length = in.readInt();
            if (length < 10 || length > MAX_RESPONSE) {
                throw new TpmException("the TPM at " + s.getRemoteSocketAddress() + " announced a response of "
                        + Integer.toUnsignedString(length) + " bytes: framing error");
            }
            byte[] response = new byte[length];
            in.readFully(response);
            int ack = in.readInt();
            if (ack != 0) {
                throw new TpmException("the TPM at " + s.getRemoteSocketAddress() + " acknowledged with " + ack);
            }
            complete = true;
            return response;
        } catch (IOException e) {
            throw new TpmException("cannot read a response from the TPM at " + s.getRemoteSocketAddress() + ": "
                    + e.getMessage(), e);
        } finally {
            if (!complete) {
                close();
            }
        }
    }

    @Override
    public boolean responseReady() {
        return true;
    }

    @Override
    public void close() {
        Socket s = socket;
        if (s == null) {
            return;
        }
        socket = null;
        in = null;
        out = null;
        try (s) {
            s.getOutputStream().write(ByteBuffer.allocate(4).putInt(TPM_SESSION_END).array());
            s.getOutputStream().flush();
        } catch (IOException ignored) {
            // The peer already dropped the connection: closing the socket is all that is left.
        }
    }

    private Socket requireSocket() {
        Socket s = socket;
        if (s == null) {
            throw new TpmException("not connected to the TPM at " + address);
        }
        return s;
    }

    @Override
    public String toString() {
        return "SimulatorTcpTpmDevice[" + address + "]";
    }
}
