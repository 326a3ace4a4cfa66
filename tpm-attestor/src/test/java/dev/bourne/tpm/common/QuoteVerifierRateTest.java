package dev.bourne.tpm.common;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.bourne.testing.tpm.Swtpm;
import dev.bourne.testing.tpm.WithSwtpm;
import java.time.Duration;
import java.util.Locale;
import java.util.SortedMap;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import tss.tpm.TPMT_PUBLIC;
import tss.tpm.TPM_ALG_ID;
import tss.tpm.TPM_ECC_CURVE;

/**
 * Logs how many quotes per second QuoteVerifier verifies on one thread (ECC P-256 and RSA-2048 AKs), for the report:
 * no assertion on speed (the benchmark in bench/ comes later). Each loop is bounded to 2 s after a 1 s warm-up.
 */
@WithSwtpm
class QuoteVerifierRateTest {

    private static final System.Logger LOG = System.getLogger(QuoteVerifierRateTest.class.getName());
    private static final PcrSelection SELECTION = PcrSelection.of(TpmHashAlg.SHA256, 0, 1, 2, 3, 4, 5, 6, 7);

    @ParameterizedTest
    @ValueSource(strings = {"ecc-p256", "rsa-2048"})
    void verify_rateOnOneThread_logged(String kind, Swtpm swtpm) throws Exception {
        TPMT_PUBLIC template = kind.equals("ecc-p256") ? TpmDriver.eccAk(TPM_ECC_CURVE.NIST_P256, TPM_ALG_ID.SHA256)
                : TpmDriver.rsaAk(2048, false);
        TpmDriver tpm = new TpmDriver(swtpm);
        TpmDriver.Key key = tpm.createPrimary(template);
        byte[] nonce = new byte[32];
        TpmDriver.RawQuote quote;
        SortedMap<Integer, byte[]> pcrs;
        try {
            pcrs = tpm.readPcrs(SELECTION);
            quote = tpm.quote(key.handle(), nonce, SELECTION);
        } finally {
            tpm.flush(key.handle());
        }
        TpmPublic ak = TpmPublic.parse(key.publicArea());

        loop(ak, quote, nonce, pcrs, Duration.ofSeconds(1));
        long count = loop(ak, quote, nonce, pcrs, Duration.ofSeconds(2));

        LOG.log(System.Logger.Level.INFO, String.format(Locale.ROOT,
                "QuoteVerifier.verify, %s AK, 8 PCRs, one thread: %,d quotes/s", kind, count / 2));
        System.out.printf(Locale.ROOT, "QuoteVerifier.verify %s: %,d quotes/s%n", kind, count / 2);
    }

    private static long loop(TpmPublic ak, TpmDriver.RawQuote quote, byte[] nonce, SortedMap<Integer, byte[]> pcrs,
            Duration duration) throws TpmVerificationException {
        long end = System.nanoTime() + duration.toNanos();
        long count = 0;
        while (System.nanoTime() < end) {
            VerifiedQuote verified = QuoteVerifier.verify(ak, quote.attest(), quote.signature(), nonce, SELECTION,
                    pcrs);
            assertEquals(SELECTION, verified.selection());
            count++;
        }
        return count;
    }
}
