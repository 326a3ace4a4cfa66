package dev.bourne.tpm.agent.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Objects;
import tss.TpmDevice;
import tss.TpmException;

/**
 * A TPM behind a Linux character device: {@code /dev/tpmrm0} (the kernel's resource manager, what the agent should
 * use) or {@code /dev/tpm0}. The kernel protocol is one whole command per write and one whole response per read.
 *
 * <p>Why not TSS.Java's {@code TpmDeviceLinux}: its path is fixed ({@code /dev/tpmrm0}, then {@code /dev/tpm0}), it
 * prints to stderr and polls with sleeps. Timeouts: the kernel TPM driver bounds every command itself (TPM_TIMEOUT
 * and the durations the TPM reports), so a blocking read cannot hang forever.
 */
public final class CharacterTpmDevice extends TpmDevice {

    /** TPM_PT_MAX_RESPONSE_SIZE is 4096 on every TPM we know of; the kernel's buffer is 4096 too. */
    private static final int RESPONSE_BUFFER = 8192;

    private final Path path;
    private FileChannel channel;
    private byte[] response;

    public CharacterTpmDevice(Path path) {
        this.path = Objects.requireNonNull(path, "path");
    }

    @Override
    public boolean connect() {
        try {
            connectOrThrow();
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** Opens the device read/write, or throws why it could not. */
    public void connectOrThrow() throws IOException {
        if (channel == null) {
            channel = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
        }
    }

    @Override
    public void dispatchCommand(byte[] command) {
        FileChannel c = requireOpen();
        try {
            ByteBuffer buffer = ByteBuffer.wrap(command);
            int written = c.write(buffer);
            if (written != command.length) {
                throw new TpmException(path + " accepted " + written + " of " + command.length + " command bytes");
            }
            ByteBuffer answer = ByteBuffer.allocate(RESPONSE_BUFFER);
            int read = c.read(answer);
            if (read < 0) {
                throw new TpmException(path + " returned no response (end of file): it is not a TPM");
            }
            if (read < 10) {
                throw new TpmException(path + " returned " + read + " bytes, less than a TPM response header");
            }
            response = Arrays.copyOf(answer.array(), read);
        } catch (IOException e) {
            throw new TpmException("I/O error on " + path + ": " + e.getMessage(), e);
        }
    }

    @Override
    public byte[] getResponse() {
        byte[] r = response;
        if (r == null) {
            throw new TpmException("no response pending on " + path);
        }
        response = null;
        return r;
    }

    @Override
    public boolean responseReady() {
        return response != null;
    }

    @Override
    public void close() {
        FileChannel c = channel;
        channel = null;
        if (c != null) {
            try {
                c.close();
            } catch (IOException ignored) {
                // Nothing is pending on a closed TPM device; there is nothing left to release.
            }
        }
    }

    private FileChannel requireOpen() {
        FileChannel c = channel;
        if (c == null) {
            throw new TpmException(path + " is not open");
        }
        return c;
    }

    @Override
    public String toString() {
        return "CharacterTpmDevice[" + path + "]";
    }
}
