package dev.bourne.tpm.agent;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.bourne.api.tpm.v1.PcrSelection;
import dev.bourne.api.tpm.v1.TpmAttestationPayload;
import dev.bourne.api.tpm.v1.TpmChallenge;
import dev.bourne.api.tpm.v1.TpmChallengeResponse;
import dev.bourne.api.tpm.v1.TpmQuote;
import dev.bourne.api.tpm.v1.TpmRenewalChallenge;
import dev.bourne.api.tpm.v1.TpmRenewalEvidence;
import dev.bourne.tpm.common.TpmFormatException;
import dev.bourne.tpm.common.TpmHashAlg;
import java.util.List;
import java.util.Optional;

/**
 * The agent's edge to the wire messages of {@code bourne/tpm/v1/tpm_attestation.proto}: parses and checks what the
 * server sends, builds what the agent answers. Nothing else in the agent package sees protobuf.
 */
final class TpmAgentProtos {

    /** What one challenge asks the TPM for. */
    record QuoteRequest(byte[] nonce, TpmHashAlg bank, int[] pcrs) {
    }

    /** A parsed TpmChallenge. */
    record ActivationRequest(byte[] credentialBlob, byte[] encryptedSecret, QuoteRequest quote) {
    }

    private TpmAgentProtos() {
    }

    static byte[] payload(EndorsementKey ek, byte[] akPublic) {
        TpmAttestationPayload.Builder payload = TpmAttestationPayload.newBuilder()
                .setEkPublic(ByteString.copyFrom(ek.publicArea()))
                .setAkPublic(ByteString.copyFrom(akPublic));
        ek.certificate().ifPresent(der -> payload.setEkCertificate(ByteString.copyFrom(der)));
        return payload.build().toByteArray();
    }

    static ActivationRequest challenge(byte[] bytes) {
        String what = TpmAgentAttestor.CHALLENGE;
        requireSize(what, bytes);
        TpmChallenge challenge;
        try {
            challenge = TpmChallenge.parseFrom(bytes);
        } catch (InvalidProtocolBufferException e) {
            throw new TpmFormatException(what + TpmAgentAttestor.MALFORMED, e);
        }
        int blob = challenge.getCredentialBlob().size();
        if (blob < TpmAgentAttestor.MIN_CREDENTIAL_BLOB || blob > TpmAgentAttestor.MAX_CREDENTIAL_BLOB) {
            throw new TpmFormatException(what + TpmAgentAttestor.CREDENTIAL_BLOB_SIZE);
        }
        int secret = challenge.getEncryptedSecret().size();
        if (secret < 1 || secret > TpmAgentAttestor.MAX_ENCRYPTED_SECRET) {
            throw new TpmFormatException(what + TpmAgentAttestor.ENCRYPTED_SECRET_SIZE);
        }
        QuoteRequest quote = quoteRequest(what, challenge.getNonce(), challenge.hasPcrSelection(),
                challenge.getPcrSelection());
        return new ActivationRequest(challenge.getCredentialBlob().toByteArray(),
                challenge.getEncryptedSecret().toByteArray(), quote);
    }

    static QuoteRequest renewalChallenge(byte[] bytes) {
        String what = TpmAgentAttestor.RENEWAL_CHALLENGE;
        requireSize(what, bytes);
        TpmRenewalChallenge challenge;
        try {
            challenge = TpmRenewalChallenge.parseFrom(bytes);
        } catch (InvalidProtocolBufferException e) {
            throw new TpmFormatException(what + TpmAgentAttestor.MALFORMED, e);
        }
        return quoteRequest(what, challenge.getNonce(), challenge.hasPcrSelection(), challenge.getPcrSelection());
    }

    private static void requireSize(String what, byte[] bytes) {
        if (bytes == null || bytes.length == 0) {
            throw new TpmFormatException(what + TpmAgentAttestor.EMPTY);
        }
        if (bytes.length > TpmAgentAttestor.MAX_CHALLENGE) {
            throw new TpmFormatException(what + TpmAgentAttestor.TOO_LARGE);
        }
    }

    private static QuoteRequest quoteRequest(String what, ByteString nonce, boolean hasSelection,
            PcrSelection selection) {
        if (nonce.size() < TpmAgentAttestor.MIN_NONCE || nonce.size() > TpmAgentAttestor.MAX_NONCE) {
            throw new TpmFormatException(what + TpmAgentAttestor.NONCE_SIZE);
        }
        if (!hasSelection) {
            throw new TpmFormatException(what + TpmAgentAttestor.SELECTION_MISSING);
        }
        Optional<TpmHashAlg> bank = TpmHashAlg.fromId(selection.getHashAlg());
        if (bank.isEmpty()) {
            throw new TpmFormatException(what + TpmAgentAttestor.UNKNOWN_BANK);
        }
        List<Integer> pcrs = selection.getPcrsList();
        if (pcrs.isEmpty()) {
            throw new TpmFormatException(what + TpmAgentAttestor.NO_PCRS);
        }
        int[] indices = new int[pcrs.size()];
        for (int i = 0; i < indices.length; i++) {
            int pcr = pcrs.get(i);
            if (pcr < 0 || pcr > TpmAgentSettings.MAX_PCR) {
                throw new TpmFormatException(what + TpmAgentAttestor.PCR_OUT_OF_RANGE);
            }
            if (i > 0 && pcr <= indices[i - 1]) {
                throw new TpmFormatException(what + TpmAgentAttestor.PCRS_NOT_ASCENDING);
            }
            indices[i] = pcr;
        }
        return new QuoteRequest(nonce.toByteArray(), bank.get(), indices);
    }

    private static TpmQuote quote(Quote quote, Optional<byte[]> eventLog) {
        TpmQuote.Builder builder = TpmQuote.newBuilder()
                .setAttest(ByteString.copyFrom(quote.attest()))
                .setSignature(ByteString.copyFrom(quote.signature()));
        quote.pcrValues().forEach((index, value) -> builder.putPcrValues(index, ByteString.copyFrom(value)));
        eventLog.ifPresent(log -> builder.setEventLog(ByteString.copyFrom(log)));
        return builder.build();
    }

    static byte[] challengeResponse(byte[] secret, Quote quote, Optional<byte[]> eventLog) {
        return TpmChallengeResponse.newBuilder().setSecret(ByteString.copyFrom(secret))
                .setQuote(quote(quote, eventLog)).build().toByteArray();
    }

    static byte[] renewalEvidence(Quote quote, Optional<byte[]> eventLog) {
        return TpmRenewalEvidence.newBuilder().setQuote(quote(quote, eventLog)).build().toByteArray();
    }
}
