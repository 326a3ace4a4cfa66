package dev.bourne.agent.node;

import dev.bourne.tpm.agent.AgentTpmException;
import dev.bourne.tpm.agent.TpmAgentAttestor;
import dev.bourne.tpm.common.TpmFormatException;
import java.util.Objects;
import java.util.Optional;

/**
 * TPM node attestation (issue 5, ARCHITECTURE.md section 3) as the agent's {@link NodeAttestor}: the payload names the
 * EK and the AK, each challenge is answered with ActivateCredential and a quote ({@link TpmAgentAttestor}). The TPM
 * can attest again at any time, so the attestor is {@link #reusable()}: an evicted or expired agent re-attests
 * without an operator.
 *
 * <p>A TPM failure becomes a {@link NodeAttestationException} whose message starts with {@link #TPM_FAILED} (the agent
 * reports it as its not-ready reason and retries with backoff); a malformed challenge from the server starts with
 * {@link #BAD_CHALLENGE}.
 */
public final class TpmNodeAttestor implements NodeAttestor {
    public static final String NAME = TpmAgentAttestor.NAME;
    public static final String TPM_FAILED = "the TPM failed (retrying): ";
    public static final String BAD_CHALLENGE = "the server sent a TPM challenge the agent refuses: ";

    private final NodeTpm tpm;

    public TpmNodeAttestor(NodeTpm tpm) {
        this.tpm = Objects.requireNonNull(tpm, "tpm");
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public byte[] payload() throws NodeAttestationException {
        return call(t -> new TpmAgentAttestor(t).payload());
    }

    @Override
    public byte[] answer(byte[] challenge) throws NodeAttestationException {
        return call(t -> new TpmAgentAttestor(t).answer(challenge));
    }

    /** A TpmRenewalEvidence for a TpmRenewalChallenge: a fresh quote by the AK bound at first attestation. */
    @Override
    public Optional<byte[]> renewalEvidence(byte[] challenge) throws NodeAttestationException {
        return Optional.of(call(t -> new TpmAgentAttestor(t).renewalEvidence(challenge)));
    }

    private byte[] call(NodeTpm.Operation<byte[]> operation) throws NodeAttestationException {
        try {
            return tpm.use(operation);
        } catch (AgentTpmException e) {
            throw new NodeAttestationException(TPM_FAILED + e.getMessage(), e);
        } catch (TpmFormatException e) {
            throw new NodeAttestationException(BAD_CHALLENGE + e.getMessage(), e);
        }
    }

    @Override
    public boolean reusable() {
        return true;
    }

    @Override
    public String toString() {
        return "TpmNodeAttestor[" + tpm + "]";
    }
}
