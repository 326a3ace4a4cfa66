package dev.bourne.tpm.common;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.bourne.testing.tpm.Swtpm;
import dev.bourne.testing.tpm.WithSwtpm;
import dev.bourne.tpm.common.internal.TpmWriter;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import tss.tpm.TPMA_OBJECT;
import tss.tpm.TPMS_ECC_POINT;
import tss.tpm.TPMT_PUBLIC;
import tss.tpm.TPM_ALG_ID;
import tss.tpm.TPM_ECC_CURVE;

/**
 * QuoteVerifier against quotes swtpm makes (through TSS.Java and through tpm2_quote), and each attack of issue 5 on a
 * quote: tampered attest, replayed or foreign nonce, garbage ECDSA signatures, a PCR selection other than requested,
 * PCR values that do not match the digest, a signature by another key or by an unrestricted key.
 */
@WithSwtpm
class QuoteVerifierTest {

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final PcrSelection SELECTION = PcrSelection.of(TpmHashAlg.SHA256, 0, 1, 2, 3, 7);

    @TempDir
    Path dir;

    /** The AKs of the success tests: name, template. */
    enum AkKind {
        ECC_P256(TpmDriver.eccAk(TPM_ECC_CURVE.NIST_P256, TPM_ALG_ID.SHA256)),
        RSA_2048_RSASSA(TpmDriver.rsaAk(2048, false)),
        RSA_2048_RSAPSS(TpmDriver.rsaAk(2048, true)),
        ECC_P384_SHA384(TpmDriver.eccAk(TPM_ECC_CURVE.NIST_P384, TPM_ALG_ID.SHA384));

        final TPMT_PUBLIC template;

        AkKind(TPMT_PUBLIC template) {
            this.template = template;
        }
    }

    @BeforeAll
    static void measureSomething(Swtpm swtpm) throws Exception {
        TpmDriver tpm = new TpmDriver(swtpm);
        for (int pcr : new int[] {0, 1, 2, 3, 7}) {
            tpm.extend(pcr, TpmHashAlg.SHA256.digest(("boot component " + pcr).getBytes()));
        }
    }

    private static byte[] nonce() {
        byte[] nonce = new byte[32];
        RANDOM.nextBytes(nonce);
        return nonce;
    }

    /** A quote by a fresh primary AK of {@code kind}; the AK is flushed. */
    private record Made(TpmPublic ak, byte[] nonce, TpmDriver.RawQuote quote, SortedMap<Integer, byte[]> pcrs) {
    }

    private static Made quote(Swtpm swtpm, TPMT_PUBLIC template, PcrSelection selection) throws Exception {
        TpmDriver tpm = new TpmDriver(swtpm);
        TpmDriver.Key key = tpm.createPrimary(template);
        try {
            byte[] nonce = nonce();
            SortedMap<Integer, byte[]> values = tpm.readPcrs(selection);
            TpmDriver.RawQuote quote = tpm.quote(key.handle(), nonce, selection);
            return new Made(TpmPublic.parse(key.publicArea()), nonce, quote, values);
        } finally {
            tpm.flush(key.handle());
        }
    }

    private static Made quote(Swtpm swtpm) throws Exception {
        return quote(swtpm, AkKind.ECC_P256.template, SELECTION);
    }

    private static void refused(String reason, Made made, byte[] attest, byte[] signature, byte[] nonce,
            PcrSelection selection, Map<Integer, byte[]> pcrs) {
        TpmVerificationException e = assertThrows(TpmVerificationException.class,
                () -> QuoteVerifier.verify(made.ak(), attest, signature, nonce, selection, pcrs));
        assertEquals(reason, e.getMessage());
    }

    // -------------------------------------------------------------------------------------------------------------
    // Genuine quotes

    @ParameterizedTest
    @EnumSource(AkKind.class)
    void verify_genuineQuote_verifiesWithThePcrValues(AkKind kind, Swtpm swtpm) throws Exception {
        Made made = quote(swtpm, kind.template, SELECTION);

        VerifiedQuote verified = QuoteVerifier.verify(made.ak(), made.quote().attest(), made.quote().signature(),
                made.nonce(), SELECTION, made.pcrs());

        assertEquals(SELECTION, verified.selection());
        assertEquals(made.pcrs().keySet(), verified.pcrValues().keySet());
        made.pcrs().forEach((pcr, value) -> assertArrayEquals(value, verified.pcrValues().get(pcr)));
        assertArrayEquals(made.nonce(), verified.attest().extraData());
        // A primary's qualified name: nameAlg || H(QN of the endorsement hierarchy (its handle) || name).
        byte[] qualified = new TpmWriter().u16(TpmHashAlg.SHA256.id()).bytes(TpmHashAlg.SHA256.digest(
                new TpmWriter().u32(0x4000000B).bytes(made.ak().name()).toByteArray())).toByteArray();
        assertArrayEquals(qualified, verified.attest().qualifiedSigner());
    }

    /**
     * The pcrDigest is computed with the signing scheme's hash, not the bank's: an ECDSA-SHA384 AK quoting the SHA-256
     * bank reports a 48-byte digest equal to SHA-384 over the SHA-256 PCR values.
     */
    @Test
    void verify_sha384AkOverSha256Bank_pcrDigestUsesTheSigningHash(Swtpm swtpm) throws Exception {
        Made made = quote(swtpm, AkKind.ECC_P384_SHA384.template, SELECTION);
        TpmsAttest attest = TpmsAttest.parse(made.quote().attest());
        var sha384 = TpmHashAlg.SHA384.newDigest();
        made.pcrs().values().forEach(sha384::update);

        assertArrayEquals(sha384.digest(), attest.pcrDigest());
        assertEquals(List.of(SELECTION), attest.pcrSelections());
    }

    /**
     * tpm2-tools as the independent client: tpm2_createek, tpm2_createak (ECC, under the EK) and tpm2_quote. Its
     * message (-m, TPMS_ATTEST), signature (-s, TPMT_SIGNATURE) and PCR values (-F values: concatenated digests in
     * selection order) verify, and flipping any single bit of any byte of the message makes verification fail.
     */
    @Test
    void verify_tpm2QuoteOutput_verifiesAndFailsOnEveryFlippedByte(Swtpm swtpm) throws Exception {
        TpmDriver tpm = new TpmDriver(swtpm);
        byte[] nonce = nonce();
        String d = dir.toString();
        tpm.tool("tpm2_createek", "-c", d + "/ek.ctx", "-G", "rsa", "-u", d + "/ek.pub");
        tpm.tool("tpm2_flushcontext", "-t");
        tpm.tool("tpm2_createak", "-C", d + "/ek.ctx", "-c", d + "/ak.ctx", "-G", "ecc", "-g", "sha256", "-s",
                "ecdsa", "-u", d + "/ak.pub", "-n", d + "/ak.name");
        tpm.tool("tpm2_flushcontext", "-t");
        tpm.tool("tpm2_flushcontext", "-s");
        tpm.tool("tpm2_quote", "-c", d + "/ak.ctx", "-l", "sha256:0,1,2,3", "-q", HexFormat.of().formatHex(nonce),
                "-m", d + "/msg", "-s", d + "/sig", "-o", d + "/pcrs", "-F", "values", "-g", "sha256");
        tpm.tool("tpm2_flushcontext", "-t");
        TpmPublic ak = TpmPublic.parseTpm2b(Files.readAllBytes(dir.resolve("ak.pub")));
        byte[] attest = Files.readAllBytes(dir.resolve("msg"));
        byte[] signature = Files.readAllBytes(dir.resolve("sig"));
        byte[] values = Files.readAllBytes(dir.resolve("pcrs"));
        PcrSelection selection = PcrSelection.of(TpmHashAlg.SHA256, 0, 1, 2, 3);
        Map<Integer, byte[]> pcrs = new TreeMap<>();
        for (int i = 0; i < 4; i++) {
            pcrs.put(i, Arrays.copyOfRange(values, 32 * i, 32 * (i + 1)));
        }

        AttestationKeyCheck.check(ak);
        assertArrayEquals(Files.readAllBytes(dir.resolve("ak.name")), ak.name());
        VerifiedQuote verified = QuoteVerifier.verify(ak, attest, signature, nonce, selection, pcrs);
        assertEquals(selection, verified.selection());
        for (int i = 0; i < attest.length; i++) {
            byte[] flipped = attest.clone();
            flipped[i] ^= (byte) (1 << (i % 8));
            int at = i;
            TpmVerificationException e = assertThrows(TpmVerificationException.class,
                    () -> QuoteVerifier.verify(ak, flipped, signature, nonce, selection, pcrs), () -> "byte " + at);
            assertEquals(QuoteVerifier.BAD_SIGNATURE, e.getMessage());
        }
    }

    // -------------------------------------------------------------------------------------------------------------
    // Attacks

    @Test
    void attack_tamperedAttest_badSignature(Swtpm swtpm) throws Exception {
        Made made = quote(swtpm);
        byte[] attest = made.quote().attest();
        attest[attest.length - 1] ^= 1; // the last byte of pcrDigest

        refused(QuoteVerifier.BAD_SIGNATURE, made, attest, made.quote().signature(), made.nonce(), SELECTION,
                made.pcrs());
    }

    @Test
    void attack_replayedQuote_nonceMismatch(Swtpm swtpm) throws Exception {
        Made earlier = quote(swtpm);
        byte[] thisSessionsNonce = nonce();

        refused(QuoteVerifier.NONCE_MISMATCH, earlier, earlier.quote().attest(), earlier.quote().signature(),
                thisSessionsNonce, SELECTION, earlier.pcrs());
    }

    @Test
    void attack_foreignNonce_nonceMismatch(Swtpm swtpm) throws Exception {
        Made made = quote(swtpm);
        byte[] prefix = Arrays.copyOf(made.nonce(), 31); // even a nonce differing only in length is refused

        refused(QuoteVerifier.NONCE_MISMATCH, made, made.quote().attest(), made.quote().signature(), prefix,
                SELECTION, made.pcrs());
        refused(QuoteVerifier.NONCE_MISMATCH, made, made.quote().attest(), made.quote().signature(), new byte[0],
                SELECTION, made.pcrs());
    }

    @Test
    void attack_garbageEcdsaSignatures_badSignature(Swtpm swtpm) throws Exception {
        Made made = quote(swtpm);
        BigInteger n = TpmEccCurve.NIST_P256.parameterSpec().getOrder();
        BigInteger genuineR = new BigInteger(1, Arrays.copyOfRange(made.quote().signature(), 6, 38));
        byte[] random32 = new byte[32];
        RANDOM.nextBytes(random32);
        List<BigInteger[]> pairs = List.of(
                new BigInteger[] {new BigInteger(1, random32), new BigInteger(1, nonce())},
                new BigInteger[] {BigInteger.ZERO, BigInteger.ONE},
                new BigInteger[] {BigInteger.ONE, BigInteger.ZERO},
                new BigInteger[] {genuineR, n},
                new BigInteger[] {n, BigInteger.ONE},
                new BigInteger[] {genuineR, n.subtract(BigInteger.ONE)},
                new BigInteger[] {BigInteger.ONE, BigInteger.ONE});
        for (BigInteger[] pair : pairs) {
            byte[] signature = new TpmWriter().u16(SigScheme.ECDSA).u16(TpmHashAlg.SHA256.id())
                    .sized(unsigned(pair[0])).sized(unsigned(pair[1])).toByteArray();
            refused(QuoteVerifier.BAD_SIGNATURE, made, made.quote().attest(), signature, made.nonce(), SELECTION,
                    made.pcrs());
        }
    }

    private static byte[] unsigned(BigInteger value) {
        byte[] raw = value.toByteArray();
        return raw.length > 1 && raw[0] == 0 ? Arrays.copyOfRange(raw, 1, raw.length) : raw;
    }

    @Test
    void attack_otherPcrSelection_selectionMismatch(Swtpm swtpm) throws Exception {
        PcrSelection fewer = PcrSelection.of(TpmHashAlg.SHA256, 0, 1, 2, 3);
        Made made = quote(swtpm, AkKind.ECC_P256.template, fewer);

        refused(QuoteVerifier.SELECTION_MISMATCH, made, made.quote().attest(), made.quote().signature(),
                made.nonce(), SELECTION, made.pcrs());
        refused(QuoteVerifier.SELECTION_MISMATCH, made, made.quote().attest(), made.quote().signature(),
                made.nonce(), PcrSelection.of(TpmHashAlg.SHA384, 0, 1, 2, 3), made.pcrs());
    }

    @Test
    void attack_pcrValuesNotMatchingDigest_pcrDigestMismatch(Swtpm swtpm) throws Exception {
        Made made = quote(swtpm);
        Map<Integer, byte[]> lie = new TreeMap<>(made.pcrs());
        lie.put(7, new byte[32]);

        refused(QuoteVerifier.PCR_DIGEST_MISMATCH, made, made.quote().attest(), made.quote().signature(),
                made.nonce(), SELECTION, lie);
    }

    @Test
    void attack_pcrValuesNotExactlyTheSelection_pcrValuesMismatch(Swtpm swtpm) throws Exception {
        Made made = quote(swtpm);
        Map<Integer, byte[]> missing = new TreeMap<>(made.pcrs());
        missing.remove(7);
        Map<Integer, byte[]> extra = new TreeMap<>(made.pcrs());
        extra.put(8, new byte[32]);
        Map<Integer, byte[]> shortValue = new TreeMap<>(made.pcrs());
        shortValue.put(7, new byte[20]);
        Map<Integer, byte[]> nullValue = new HashMap<>(made.pcrs());
        nullValue.put(7, null);

        for (Map<Integer, byte[]> pcrs : List.of(missing, extra, shortValue, nullValue)) {
            refused(QuoteVerifier.PCR_VALUES_MISMATCH, made, made.quote().attest(), made.quote().signature(),
                    made.nonce(), SELECTION, pcrs);
        }
    }

    @Test
    void attack_signatureByAnotherAk_badSignature(Swtpm swtpm) throws Exception {
        Made mine = quote(swtpm);
        // Primaries from one template are the same key: another unique field makes another key.
        TPMT_PUBLIC template = TpmDriver.eccAk(TPM_ECC_CURVE.NIST_P256, TPM_ALG_ID.SHA256);
        template.unique = new TPMS_ECC_POINT(nonce(), new byte[0]);
        Made other = quote(swtpm, template, SELECTION);
        assertEquals(false, mine.ak().equals(other.ak()));

        refused(QuoteVerifier.BAD_SIGNATURE, mine, other.quote().attest(), other.quote().signature(), other.nonce(),
                SELECTION, other.pcrs());
        refused(QuoteVerifier.BAD_SIGNATURE, mine, mine.quote().attest(), other.quote().signature(), mine.nonce(),
                SELECTION, mine.pcrs());
    }

    @Test
    void attack_rsassaSignatureForPssAk_schemeMismatch(Swtpm swtpm) throws Exception {
        Made pss = quote(swtpm, AkKind.RSA_2048_RSAPSS.template, SELECTION);
        Made rsassa = quote(swtpm, AkKind.RSA_2048_RSASSA.template, SELECTION);

        refused(QuoteVerifier.SIGNATURE_SCHEME_MISMATCH, pss, rsassa.quote().attest(), rsassa.quote().signature(),
                rsassa.nonce(), SELECTION, rsassa.pcrs());
    }

    /**
     * An unrestricted signing key in the TPM signs anything, including a forged TPMS_ATTEST with the magic: the
     * signature is valid, so only the restricted-key rule stops it.
     */
    @Test
    void attack_forgedQuoteSignedByUnrestrictedKey_notRestricted(Swtpm swtpm) throws Exception {
        Made genuine = quote(swtpm);
        TpmDriver tpm = new TpmDriver(swtpm);
        TPMA_OBJECT unrestricted = new TPMA_OBJECT(TPMA_OBJECT.fixedTPM, TPMA_OBJECT.fixedParent,
                TPMA_OBJECT.sensitiveDataOrigin, TPMA_OBJECT.userWithAuth, TPMA_OBJECT.sign);
        TpmDriver.Key key = tpm.createPrimary(TpmDriver.eccSigner(unrestricted, TPM_ECC_CURVE.NIST_P256,
                TPM_ALG_ID.SHA256));
        byte[] forgedSignature;
        try {
            forgedSignature = tpm.sign(key.handle(), TpmHashAlg.SHA256.digest(genuine.quote().attest()));
        } finally {
            tpm.flush(key.handle());
        }
        TpmPublic softwareAk = TpmPublic.parse(key.publicArea());
        assertEquals(true, TpmSignature.parse(forgedSignature).verify(softwareAk.publicKey(),
                genuine.quote().attest()));

        TpmVerificationException e = assertThrows(TpmVerificationException.class, () -> QuoteVerifier.verify(
                softwareAk, genuine.quote().attest(), forgedSignature, genuine.nonce(), SELECTION, genuine.pcrs()));
        assertEquals(AttestationKeyCheck.NOT_RESTRICTED, e.getMessage());
    }
}
