package dev.bourne.tpm.server;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.bourne.api.tpm.v1.PcrSelection;
import dev.bourne.api.tpm.v1.TpmAttestationPayload;
import dev.bourne.api.tpm.v1.TpmChallenge;
import dev.bourne.api.tpm.v1.TpmChallengeResponse;
import dev.bourne.api.tpm.v1.TpmQuote;
import dev.bourne.api.tpm.v1.TpmRenewalChallenge;
import dev.bourne.api.tpm.v1.TpmRenewalEvidence;
import dev.bourne.tpm.common.TpmHashAlg;
import java.util.Collections;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeMap;

/**
 * The one place the server half touches the generated wire messages of {@code bourne/tpm/v1/tpm_attestation.proto}:
 * bounded parsing into plain holders, and building the challenges. Everything else in this package works on bytes
 * and its own types.
 */
final class TpmServerProtos {

    /** Largest attestation payload: an EK certificate, two public areas and framing. */
    static final int MAX_PAYLOAD_BYTES = EkCaStore.MAX_EK_CERTIFICATE_BYTES + 8 * 1024;
    /** Largest event log accepted (the event-log parser's own bound is the same 16 MiB). */
    static final int MAX_EVENT_LOG_BYTES = 16 * 1024 * 1024;
    /** Largest challenge response or renewal evidence: a quote, 24 PCR values and the largest event log accepted. */
    static final int MAX_RESPONSE_BYTES = MAX_EVENT_LOG_BYTES + 64 * 1024;
    /** Largest TPMT_PUBLIC accepted (an RSA-4096 key with a SHA-512 policy is under 700 bytes). */
    static final int MAX_PUBLIC_BYTES = 2048;
    /** Largest TPMS_ATTEST or TPMT_SIGNATURE accepted. */
    static final int MAX_QUOTE_FIELD_BYTES = 4096;

    static final String PAYLOAD_TOO_LARGE = "attestation payload is larger than " + MAX_PAYLOAD_BYTES + " bytes";
    static final String PAYLOAD_MALFORMED = "attestation payload is not a TpmAttestationPayload message";
    static final String RESPONSE_TOO_LARGE = "challenge response is larger than " + MAX_RESPONSE_BYTES + " bytes";
    static final String RESPONSE_MALFORMED = "challenge response is not a TpmChallengeResponse message";
    static final String EVIDENCE_MALFORMED = "renewal evidence is not a TpmRenewalEvidence message";
    static final String QUOTE_MISSING = "the response carries no quote";
    static final String QUOTE_FIELD_TOO_LARGE = "quote attest or signature is larger than " + MAX_QUOTE_FIELD_BYTES
            + " bytes";
    static final String PCR_VALUE_INDEX = "quote PCR values name a PCR outside 0..23";
    static final String EK_PUBLIC_MISSING = "attestation payload carries no EK public area";
    static final String AK_PUBLIC_MISSING = "attestation payload carries no AK public area";
    static final String PUBLIC_TOO_LARGE = "a public area is larger than " + MAX_PUBLIC_BYTES + " bytes";

    private TpmServerProtos() {
    }

    /** What the agent sent in step 1. */
    static final class Payload {
        final byte[] ekCertificate;
        final byte[] ekPublic;
        final byte[] akPublic;

        Payload(byte[] ekCertificate, byte[] ekPublic, byte[] akPublic) {
            this.ekCertificate = ekCertificate;
            this.ekPublic = ekPublic;
            this.akPublic = akPublic;
        }
    }

    /** A quote as the agent sent it. */
    static final class Quote {
        final byte[] attest;
        final byte[] signature;
        final Map<Integer, byte[]> pcrValues;
        final byte[] eventLog;

        Quote(byte[] attest, byte[] signature, Map<Integer, byte[]> pcrValues, byte[] eventLog) {
            this.attest = attest;
            this.signature = signature;
            this.pcrValues = pcrValues;
            this.eventLog = eventLog;
        }
    }

    static Payload parsePayload(byte[] bytes) throws TpmAttestationException {
        if (bytes.length > MAX_PAYLOAD_BYTES) {
            throw invalid(PAYLOAD_TOO_LARGE, null);
        }
        TpmAttestationPayload payload;
        try {
            payload = TpmAttestationPayload.parseFrom(bytes);
        } catch (InvalidProtocolBufferException e) {
            throw invalid(PAYLOAD_MALFORMED, e);
        }
        if (payload.getEkPublic().isEmpty()) {
            throw invalid(EK_PUBLIC_MISSING, null);
        }
        if (payload.getAkPublic().isEmpty()) {
            throw invalid(AK_PUBLIC_MISSING, null);
        }
        if (payload.getEkPublic().size() > MAX_PUBLIC_BYTES || payload.getAkPublic().size() > MAX_PUBLIC_BYTES) {
            throw invalid(PUBLIC_TOO_LARGE, null);
        }
        return new Payload(payload.getEkCertificate().toByteArray(), payload.getEkPublic().toByteArray(),
                payload.getAkPublic().toByteArray());
    }

    static byte[] challenge(byte[] credentialBlob, byte[] encryptedSecret, byte[] nonce, TpmHashAlg bank,
            SortedSet<Integer> pcrs) {
        return TpmChallenge.newBuilder()
                .setCredentialBlob(ByteString.copyFrom(credentialBlob))
                .setEncryptedSecret(ByteString.copyFrom(encryptedSecret))
                .setNonce(ByteString.copyFrom(nonce))
                .setPcrSelection(selection(bank, pcrs))
                .build().toByteArray();
    }

    static byte[] renewalChallenge(byte[] nonce, TpmHashAlg bank, SortedSet<Integer> pcrs) {
        return TpmRenewalChallenge.newBuilder()
                .setNonce(ByteString.copyFrom(nonce))
                .setPcrSelection(selection(bank, pcrs))
                .build().toByteArray();
    }

    private static PcrSelection selection(TpmHashAlg bank, SortedSet<Integer> pcrs) {
        PcrSelection.Builder selection = PcrSelection.newBuilder().setHashAlg(bank.id());
        pcrs.forEach(selection::addPcrs);
        return selection.build();
    }

    /** Step 3: the secret the agent's TPM recovered, and its quote. */
    static final class Response {
        final byte[] secret;
        final Quote quote;

        Response(byte[] secret, Quote quote) {
            this.secret = secret;
            this.quote = quote;
        }
    }

    static Response parseResponse(byte[] bytes) throws TpmAttestationException {
        if (bytes.length > MAX_RESPONSE_BYTES) {
            throw invalid(RESPONSE_TOO_LARGE, null);
        }
        TpmChallengeResponse response;
        try {
            response = TpmChallengeResponse.parseFrom(bytes);
        } catch (InvalidProtocolBufferException e) {
            throw invalid(RESPONSE_MALFORMED, e);
        }
        if (!response.hasQuote()) {
            throw invalid(QUOTE_MISSING, null);
        }
        return new Response(response.getSecret().toByteArray(), quote(response.getQuote()));
    }

    static Quote parseRenewalEvidence(byte[] bytes) throws TpmAttestationException {
        if (bytes.length > MAX_RESPONSE_BYTES) {
            throw invalid(RESPONSE_TOO_LARGE, null);
        }
        TpmRenewalEvidence evidence;
        try {
            evidence = TpmRenewalEvidence.parseFrom(bytes);
        } catch (InvalidProtocolBufferException e) {
            throw invalid(EVIDENCE_MALFORMED, e);
        }
        if (!evidence.hasQuote()) {
            throw invalid(QUOTE_MISSING, null);
        }
        return quote(evidence.getQuote());
    }

    /** A renewal challenge this server issued, read back. */
    static final class IssuedRenewal {
        final byte[] nonce;
        final int bankId;
        final SortedSet<Integer> pcrs;

        IssuedRenewal(byte[] nonce, int bankId, SortedSet<Integer> pcrs) {
            this.nonce = nonce;
            this.bankId = bankId;
            this.pcrs = pcrs;
        }
    }

    /**
     * Reads back a {@code TpmRenewalChallenge} this server issued (kept by the caller); bytes that are not one are a
     * programming error of the caller, not the agent's.
     */
    static IssuedRenewal parseIssuedRenewal(byte[] bytes) {
        try {
            TpmRenewalChallenge challenge = TpmRenewalChallenge.parseFrom(bytes);
            return new IssuedRenewal(challenge.getNonce().toByteArray(), challenge.getPcrSelection().getHashAlg(),
                    Collections.unmodifiableSortedSet(new java.util.TreeSet<>(challenge.getPcrSelection()
                            .getPcrsList())));
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalArgumentException("not a renewal challenge issued by this server", e);
        }
    }

    private static Quote quote(TpmQuote quote) throws TpmAttestationException {
        if (quote.getAttest().size() > MAX_QUOTE_FIELD_BYTES || quote.getSignature().size() > MAX_QUOTE_FIELD_BYTES) {
            throw invalid(QUOTE_FIELD_TOO_LARGE, null);
        }
        TreeMap<Integer, byte[]> values = new TreeMap<>();
        for (Map.Entry<Integer, ByteString> e : quote.getPcrValuesMap().entrySet()) {
            int index = e.getKey();
            // uint32 arrives as a Java int: anything above 23 (or "negative", i.e. >= 2^31) is not a PCR.
            if (index < 0 || index > PcrPolicy.MAX_PCR) {
                throw invalid(PCR_VALUE_INDEX, null);
            }
            values.put(index, e.getValue().toByteArray());
        }
        return new Quote(quote.getAttest().toByteArray(), quote.getSignature().toByteArray(),
                Collections.unmodifiableMap(values), quote.getEventLog().toByteArray());
    }

    private static TpmAttestationException invalid(String message, Throwable cause) {
        return new TpmAttestationException(TpmAttestationException.Kind.INVALID_REQUEST, message, cause);
    }
}
