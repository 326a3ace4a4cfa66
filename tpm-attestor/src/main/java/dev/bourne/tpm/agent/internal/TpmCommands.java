package dev.bourne.tpm.agent.internal;

import dev.bourne.tpm.agent.AgentTpmException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Objects;
import java.util.function.Supplier;
import tss.Tpm;
import tss.TpmDevice;
import tss.tpm.TPM_CC;
import tss.tpm.TPM_RC;

/**
 * TSS.Java's {@link Tpm} used as a command layer only: every command goes through {@link #run}, which turns a TPM
 * error into an {@link AgentTpmException} naming the command and its response code, and keeps the raw response so
 * callers can forward TPM structures byte for byte ({@link #lastResponseParameters}) instead of re-marshalling what
 * TSS.Java parsed.
 *
 * <p>TSS.Java prints "TPM ERROR" to stdout when a command fails and throws; {@link #run} sets {@code _allowErrors()}
 * before each command so nothing is printed and the response code is checked here. Not thread-safe.
 */
public final class TpmCommands implements AutoCloseable {

    private static final int HEADER = 10;
    private static final int TPM_ST_SESSIONS = 0x8002;

    private final TpmDevice device;
    private final Tpm tpm;
    private byte[] lastResponse;

    public TpmCommands(TpmDevice device) {
        this.device = Objects.requireNonNull(device, "device");
        this.tpm = new Tpm();
        tpm._setDevice(device);
        tpm._setCallback(this::recordResponse);
    }

    private void recordResponse(TPM_CC command, TPM_RC rc, byte[] commandBytes, byte[] responseBytes) {
        lastResponse = responseBytes;
    }

    /** The TSS.Java object, to build a call in {@link #run}'s lambda. */
    public Tpm tpm() {
        return tpm;
    }

    /** Runs one TPM command and returns TSS.Java's parsed answer; fails on any response code but success. */
    public <T> T run(String command, Supplier<T> invocation) throws AgentTpmException {
        lastResponse = null;
        T result;
        try {
            tpm._allowErrors();
            result = invocation.get();
        } catch (RuntimeException e) {
            // TSS.Java's device and parsing errors (TpmException, buffer errors on a malformed response).
            int rc = responseCode();
            throw new AgentTpmException(command, rc, e.getMessage() == null ? e.toString() : e.getMessage(), e);
        }
        int rc = responseCode();
        if (lastResponse == null) {
            throw new AgentTpmException(command, "the TPM gave no response");
        }
        if (rc != 0) {
            throw new AgentTpmException(command, rc, describe(rc), null);
        }
        return result;
    }

    /** Like {@link #run} for commands without a result. */
    public void run(String command, Runnable invocation) throws AgentTpmException {
        run(command, () -> {
            invocation.run();
            return null;
        });
    }

    /**
     * Runs a command that may legitimately fail, returning its response code (0 on success) instead of throwing for
     * a TPM error; device errors still throw.
     */
    public int probe(String command, Runnable invocation) throws AgentTpmException {
        lastResponse = null;
        try {
            tpm._allowErrors();
            invocation.run();
        } catch (RuntimeException e) {
            int rc = responseCode();
            if (rc != 0) {
                return rc;
            }
            throw new AgentTpmException(command, 0, e.getMessage() == null ? e.toString() : e.getMessage(), e);
        }
        if (lastResponse == null) {
            throw new AgentTpmException(command, "the TPM gave no response");
        }
        return responseCode();
    }

    /** The response code of the last command, 0 when it succeeded or gave no response. */
    public int responseCode() {
        byte[] r = lastResponse;
        if (r == null || r.length < HEADER) {
            return 0;
        }
        return ByteBuffer.wrap(r, 6, 4).getInt();
    }

    /**
     * The response parameter area of the last (successful) command, exactly as the TPM sent it.
     *
     * @param responseHandles how many handles the command returns before its parameters (1 for CreatePrimary and
     *     Load, 0 for most)
     */
    public byte[] lastResponseParameters(String command, int responseHandles) throws AgentTpmException {
        byte[] r = lastResponse;
        if (r == null || r.length < HEADER) {
            throw new AgentTpmException(command, "no response to read");
        }
        ByteBuffer b = ByteBuffer.wrap(r);
        int tag = Short.toUnsignedInt(b.getShort());
        int size = b.getInt();
        if (size != r.length) {
            throw new AgentTpmException(command, "the response says it has " + size + " bytes but has " + r.length);
        }
        b.getInt();
        int start = HEADER + 4 * responseHandles;
        if (tag == TPM_ST_SESSIONS) {
            if (r.length < start + 4) {
                throw new AgentTpmException(command, "the response is truncated before its parameter size");
            }
            int parameterSize = ByteBuffer.wrap(r, start, 4).getInt();
            start += 4;
            if (parameterSize < 0 || parameterSize > r.length - start) {
                throw new AgentTpmException(command, "the response announces " + Integer.toUnsignedString(
                        parameterSize) + " parameter bytes but has " + (r.length - start));
            }
            return Arrays.copyOfRange(r, start, start + parameterSize);
        }
        if (r.length < start) {
            throw new AgentTpmException(command, "the response is truncated before its parameters");
        }
        return Arrays.copyOfRange(r, start, r.length);
    }

    private static String describe(int rc) {
        try {
            TPM_RC decoded = tss.TpmHelpers.fromRawResponse(rc);
            return decoded == null ? "" : "TPM_RC_" + decoded.name();
        } catch (RuntimeException e) {
            return "";
        }
    }

    @Override
    public void close() {
        device.close();
    }
}
