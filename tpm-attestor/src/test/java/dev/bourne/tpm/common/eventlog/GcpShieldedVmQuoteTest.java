package dev.bourne.tpm.common.eventlog;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.bourne.testing.tpm.RealTpmData;
import dev.bourne.tpm.common.TpmHashAlg;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The real GCP shielded VM (Windows) quote in {@code shared/testdata/tpm/real-quotes/}: its boot event log, as the
 * vTPM's firmware and Windows wrote it, replays to the 24 SHA-1 PCR values that were quoted, and no PCR differs.
 */
class GcpShieldedVmQuoteTest {
    /** go-attestation stores PCR digest algorithms as Go's crypto.Hash: 3 is SHA-1. */
    private static final int GO_CRYPTO_SHA1 = 3;

    private static final JsonObject QUOTE = JsonParser.parseString(new String(
            RealTpmData.read(RealTpmData.gcpQuote()), StandardCharsets.UTF_8)).getAsJsonObject();

    @Test
    void eventLog_replaysToTheQuotedPcrValues() {
        EventLog log = EventLog.parse(rawLog());
        Map<Integer, byte[]> pcrs = quotedPcrs();

        assertEquals(EventLog.Format.SHA1, log.format());
        assertEquals(24, pcrs.size());
        assertEquals(List.of(), List.copyOf(log.mismatchedPcrs(TpmHashAlg.SHA1, pcrs)));
        // PCRs 17-22 were never reset by a DRTM launch: all ones, which the log accounts for without events.
        assertArrayEquals(EventLog.startValue(TpmHashAlg.SHA1, 17), pcrs.get(17));
    }

    @Test
    void eventLog_withOneDigestFlipped_mismatchesThatPcrOnly() {
        EventLog original = EventLog.parse(rawLog());
        Event last = original.events().get(original.events().size() - 1);
        byte[] raw = rawLog();
        // The last event's digest sits 20 + 4 + dataLength bytes before the end (TCG_PCR_EVENT).
        int digestOffset = raw.length - last.dataLength() - 4 - 20;
        raw[digestOffset] ^= 1;
        EventLog tampered = EventLog.parse(raw);

        assertEquals(List.of(last.pcrIndex()),
                List.copyOf(tampered.mismatchedPcrs(TpmHashAlg.SHA1, quotedPcrs())));
    }

    @Test
    void quotedPcrs_hashToThePcrDigestAtTheEndOfTheSignedAttest() {
        // The quote selects all 24 SHA-1 PCRs; TPMS_ATTEST ends with TPMU_ATTEST's pcrDigest (TPM2B_DIGEST). Full
        // TPMS_ATTEST parsing and signature verification belong to QuoteVerifier (see the end-to-end test).
        byte[] attest = b64(QUOTE.getAsJsonObject("Quote").get("Quote"));
        MessageDigest sha1 = TpmHashAlg.SHA1.newDigest();
        quotedPcrs().values().forEach(sha1::update);
        byte[] tail = Arrays.copyOfRange(attest, attest.length - 22, attest.length);

        assertArrayEquals(new byte[] {0, 20}, Arrays.copyOf(tail, 2));
        assertArrayEquals(sha1.digest(), Arrays.copyOfRange(tail, 2, 22));
        assertFalse(QUOTE.getAsJsonObject("Quote").get("Nonce").getAsString().length() > 0, "the nonce is empty");
    }

    static byte[] rawLog() {
        return b64(QUOTE.getAsJsonObject("Log").get("Raw"));
    }

    /** The quoted SHA-1 PCR values, index order. */
    static TreeMap<Integer, byte[]> quotedPcrs() {
        TreeMap<Integer, byte[]> pcrs = new TreeMap<>();
        for (JsonElement element : QUOTE.getAsJsonObject("Log").getAsJsonArray("PCRs")) {
            JsonObject pcr = element.getAsJsonObject();
            assertEquals(GO_CRYPTO_SHA1, pcr.get("DigestAlg").getAsInt());
            pcrs.put(pcr.get("Index").getAsInt(), b64(pcr.get("Digest")));
        }
        return pcrs;
    }

    static JsonObject json() {
        return QUOTE;
    }

    static byte[] b64(JsonElement element) {
        return Base64.getDecoder().decode(element.getAsString());
    }
}
