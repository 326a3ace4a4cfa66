package dev.bourne.tpm.agent;

import java.util.Objects;

/**
 * The agent half of Bourne's TPM node attestation protocol (ARCHITECTURE.md section 3; wire messages in
 * {@code bourne/tpm/v1/tpm_attestation.proto}), over an {@link AgentTpm}:
 * <ol>
 *   <li>{@link #payload()}: EK certificate and public area, AK public area (TpmAttestationPayload);</li>
 *   <li>{@link #answer(byte[])}: for a TpmChallenge, ActivateCredential (proving the AK lives beside the EK), then a
 *       quote over the requested PCRs with the server's nonce, the PCR values and the boot event log
 *       (TpmChallengeResponse);</li>
 *   <li>{@link #renewalEvidence(byte[])}: for a TpmRenewalChallenge, a fresh quote by the same AK
 *       (TpmRenewalEvidence), for continuous attestation.</li>
 * </ol>
 * Challenges come from the server over an authenticated channel but are still checked before the TPM sees them
 * (sizes, PCR indices, banks): a malformed one throws {@link dev.bourne.tpm.common.TpmFormatException} with one of
 * this class's messages, prefixed by the message name.
 */
public final class TpmAgentAttestor {

    /** The node attestor's plugin name, the {@code AttestationData.type}. */
    public static final String NAME = "tpm";

    /**
     * Nonce bounds: 16 bytes is the least that makes a replay improbable; 64 is what TPM2B_DATA holds on a TPM with
     * SHA-512 (32 on most: the server sends 32).
     */
    public static final int MIN_NONCE = 16;
    public static final int MAX_NONCE = 64;
    public static final int MAX_CHALLENGE = 16 * 1024;
    /** TPM2B_ID_OBJECT contents: integrityHMAC (2 + up to 64) then encIdentity (2 + up to 64). */
    public static final int MIN_CREDENTIAL_BLOB = 3;
    public static final int MAX_CREDENTIAL_BLOB = 132;
    /** TPMU_ENCRYPTED_SECRET: at most an RSA-4096 ciphertext. */
    public static final int MAX_ENCRYPTED_SECRET = 512;

    public static final String CHALLENGE = "TPM challenge: ";
    public static final String RENEWAL_CHALLENGE = "TPM renewal challenge: ";
    public static final String EMPTY = "empty";
    public static final String TOO_LARGE = "larger than " + MAX_CHALLENGE + " bytes";
    public static final String MALFORMED = "not a valid protobuf message";
    public static final String CREDENTIAL_BLOB_SIZE = "credential_blob must be " + MIN_CREDENTIAL_BLOB + " to "
            + MAX_CREDENTIAL_BLOB + " bytes";
    public static final String ENCRYPTED_SECRET_SIZE = "encrypted_secret must be 1 to " + MAX_ENCRYPTED_SECRET
            + " bytes";
    public static final String NONCE_SIZE = "nonce must be " + MIN_NONCE + " to " + MAX_NONCE + " bytes";
    public static final String SELECTION_MISSING = "pcr_selection is required";
    public static final String UNKNOWN_BANK = "pcr_selection.hash_alg is not a known PCR bank (sha1 0x0004, "
            + "sha256 0x000B, sha384 0x000C, sha512 0x000D)";
    public static final String NO_PCRS = "pcr_selection.pcrs must name at least one PCR";
    public static final String PCR_OUT_OF_RANGE = "pcr_selection.pcrs must be PCR indices 0 to 23";
    public static final String PCRS_NOT_ASCENDING = "pcr_selection.pcrs must be ascending without duplicates";

    private final AgentTpm tpm;

    public TpmAgentAttestor(AgentTpm tpm) {
        this.tpm = Objects.requireNonNull(tpm, "tpm");
    }

    /** TpmAttestationPayload: creates the AK on first use. */
    public byte[] payload() throws AgentTpmException {
        return TpmAgentProtos.payload(tpm.endorsementKey(), tpm.akPublic());
    }

    /** TpmChallenge in, TpmChallengeResponse out. */
    public byte[] answer(byte[] challenge) throws AgentTpmException {
        TpmAgentProtos.ActivationRequest request = TpmAgentProtos.challenge(challenge);
        byte[] secret = tpm.activateCredential(request.credentialBlob(), request.encryptedSecret());
        TpmAgentProtos.QuoteRequest asked = request.quote();
        Quote quote = tpm.quote(asked.nonce(), asked.bank().id(), asked.pcrs());
        return TpmAgentProtos.challengeResponse(secret, quote, tpm.eventLog());
    }

    /** TpmRenewalChallenge in, TpmRenewalEvidence out: a quote by the AK bound at first attestation. */
    public byte[] renewalEvidence(byte[] challenge) throws AgentTpmException {
        TpmAgentProtos.QuoteRequest asked = TpmAgentProtos.renewalChallenge(challenge);
        Quote quote = tpm.quote(asked.nonce(), asked.bank().id(), asked.pcrs());
        return TpmAgentProtos.renewalEvidence(quote, tpm.eventLog());
    }
}
