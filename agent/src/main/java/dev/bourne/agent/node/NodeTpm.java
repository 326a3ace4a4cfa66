package dev.bourne.agent.node;

import dev.bourne.tpm.agent.AgentTpm;
import dev.bourne.tpm.agent.AgentTpmException;
import dev.bourne.tpm.agent.TpmAgentSettings;
import java.util.Objects;

/**
 * The agent's connection to its node's TPM, opened on first use and released after each round of server work.
 *
 * <p><b>Why lazily.</b> A TPM that cannot be reached when the agent starts (driver not loaded yet, swtpm not started,
 * permissions) must not stop the agent: the Workload API comes up, the agent reports not-ready with the TPM's error as
 * its reason and retries with backoff, as when the server is down. <b>Why released.</b> A TPM behind a simulator socket
 * (swtpm) serves one client at a time, and {@code bourne-agent tpm ek} or tpm2-tools must be able to use it between
 * rounds; reopening costs a few NV reads per attestation or renewal. A failure without a TPM response code (I/O, a
 * dropped connection) also drops the connection, so the next use starts afresh.
 *
 * <p>Thread-safe: one command sequence at a time.
 */
public final class NodeTpm implements TpmSealer, AutoCloseable {

    /** What a caller does with the open TPM. */
    @FunctionalInterface
    public interface Operation<T> {
        T run(AgentTpm tpm) throws AgentTpmException;
    }

    /** Opens the TPM; {@link AgentTpm#open} in production. */
    @FunctionalInterface
    public interface Opener {
        AgentTpm open(TpmAgentSettings settings) throws AgentTpmException;
    }

    private final TpmAgentSettings settings;
    private final Opener opener;
    private AgentTpm tpm;
    private boolean closed;

    public NodeTpm(TpmAgentSettings settings) {
        this(settings, AgentTpm::open);
    }

    public NodeTpm(TpmAgentSettings settings, Opener opener) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.opener = Objects.requireNonNull(opener, "opener");
    }

    public TpmAgentSettings settings() {
        return settings;
    }

    /** Runs {@code operation} on the TPM, opening it if needed. */
    public synchronized <T> T use(Operation<T> operation) throws AgentTpmException {
        if (closed) {
            throw new IllegalStateException("the agent's TPM connection is closed");
        }
        if (tpm == null) {
            tpm = opener.open(settings);
        }
        try {
            return operation.run(tpm);
        } catch (AgentTpmException e) {
            if (e.responseCode().isEmpty()) {
                release();
            }
            throw e;
        }
    }

    @Override
    public byte[] seal(byte[] secret) throws AgentTpmException {
        return use(t -> t.seal(secret));
    }

    @Override
    public byte[] unseal(byte[] blob) throws AgentTpmException {
        return use(t -> t.unseal(blob));
    }

    /** Closes the connection until the next use; persistent keys (EK, AK) stay in the TPM. */
    public synchronized void release() {
        if (tpm != null) {
            tpm.close();
            tpm = null;
        }
    }

    /** Closes the connection for good. */
    @Override
    public synchronized void close() {
        release();
        closed = true;
    }

    @Override
    public String toString() {
        return "NodeTpm[" + settings.device() + "]";
    }
}
