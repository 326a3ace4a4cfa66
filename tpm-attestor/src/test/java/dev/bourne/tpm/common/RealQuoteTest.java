package dev.bourne.tpm.common;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.bourne.testing.tpm.RealTpmData;
import java.nio.file.Files;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A quote from a real vTPM (a GCP shielded Windows VM, go-attestation's test data): its AK public area, its quote and
 * signature over the SHA-1 bank (PCRs 0..23, empty nonce) with an RSASSA-SHA1 AK, and the PCR values. It must verify
 * end to end with our code, fail once tampered, and its AK must fail Bourne's AK policy (SHA-1 signing scheme).
 */
class RealQuoteTest {

    private static TpmPublic ak;
    private static byte[] attest;
    private static byte[] signature;
    private static Map<Integer, byte[]> pcrs;

    @BeforeAll
    static void load() throws Exception {
        String json = Files.readString(RealTpmData.root().resolve("real-quotes").resolve("gcp-shielded-vm-windows.json"));
        ak = TpmPublic.parse(field(json, "\"AK\":\\{\"Public\":\"([^\"]+)\""));
        attest = field(json, "\"Quote\":\\{\"Nonce\":\"\",\"Alg\":4,\"Quote\":\"([^\"]+)\"");
        signature = field(json, "\"Quote\":\\{[^}]*\"Signature\":\"([^\"]+)\"");
        pcrs = new TreeMap<>();
        Matcher m = Pattern.compile("\\{\"Index\":(\\d+),\"Digest\":\"([^\"]+)\",\"DigestAlg\":3}").matcher(json);
        while (m.find()) {
            pcrs.put(Integer.parseInt(m.group(1)), Base64.getDecoder().decode(m.group(2)));
        }
    }

    private static byte[] field(String json, String regex) {
        Matcher m = Pattern.compile(regex).matcher(json);
        if (!m.find()) {
            throw new IllegalStateException("the GCP quote file has no match for " + regex);
        }
        return Base64.getDecoder().decode(m.group(1));
    }

    private static final PcrSelection ALL_SHA1 = PcrSelection.of(TpmHashAlg.SHA1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
            11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23);

    @Test
    void verify_realGcpQuote_verifiesEndToEnd() throws Exception {
        assertEquals(24, pcrs.size());

        VerifiedQuote verified = QuoteVerifier.verify(ak, attest, signature, new byte[0], ALL_SHA1, pcrs);

        assertEquals(List.of(ALL_SHA1), verified.attest().pcrSelections());
        assertEquals(new SigScheme(SigScheme.RSASSA, TpmHashAlg.SHA1), ak.scheme().orElseThrow());
    }

    @Test
    void verify_realGcpQuoteWithAnyByteFlipped_badSignature() {
        for (int i = 0; i < attest.length; i++) {
            byte[] flipped = attest.clone();
            flipped[i] ^= (byte) 0x80;
            TpmVerificationException e = assertThrows(TpmVerificationException.class,
                    () -> QuoteVerifier.verify(ak, flipped, signature, new byte[0], ALL_SHA1, pcrs));
            assertEquals(QuoteVerifier.BAD_SIGNATURE, e.getMessage());
        }
    }

    @Test
    void verify_realGcpQuoteWithOnePcrChanged_pcrDigestMismatch() {
        Map<Integer, byte[]> changed = new TreeMap<>(pcrs);
        changed.put(14, new byte[20]);

        TpmVerificationException e = assertThrows(TpmVerificationException.class,
                () -> QuoteVerifier.verify(ak, attest, signature, new byte[0], ALL_SHA1, changed));
        assertEquals(QuoteVerifier.PCR_DIGEST_MISMATCH, e.getMessage());
    }

    @Test
    void check_realGcpAk_refusedForItsSha1Scheme() {
        TpmVerificationException e = assertThrows(TpmVerificationException.class, () -> AttestationKeyCheck.check(ak));
        assertEquals(AttestationKeyCheck.WEAK_SCHEME_HASH, e.getMessage());
    }
}
