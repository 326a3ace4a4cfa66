package dev.bourne.tpm.common;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.security.KeyPair;
import java.security.interfaces.ECPublicKey;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The checks after the signature, reached only with a key whose holder can sign arbitrary bytes: a software key whose
 * public area claims to be a restricted AK (a TPM would refuse to sign these structures with a real one). Each check
 * must hold on its own, in case a signing key ever escapes the restricted-key rule.
 */
class QuoteVerifierForgeryTest {

    private static final KeyPair KEY = SoftwareKeys.ecP256();
    private static final TpmPublic AK = TpmPublic.parse(SoftwareKeys.eccPublic((ECPublicKey) KEY.getPublic(),
            SoftwareKeys.AK_ATTRIBUTES));
    private static final PcrSelection SELECTION = PcrSelection.of(TpmHashAlg.SHA256, 0, 1);
    private static final byte[] NONCE = new byte[] {1, 2, 3, 4};
    private static final Map<Integer, byte[]> PCRS = new TreeMap<>(Map.of(0, new byte[32], 1, new byte[32]));
    private static final byte[] DIGEST = TpmHashAlg.SHA256.digest(new byte[64]);

    private static String refusal(byte[] attest, TpmPublic ak) {
        byte[] signature = SoftwareKeys.ecdsaSignature(KEY.getPrivate(), attest);
        return assertThrows(TpmVerificationException.class,
                () -> QuoteVerifier.verify(ak, attest, signature, NONCE, SELECTION, PCRS)).getMessage();
    }

    @Test
    void verify_wellFormedSoftwareQuote_verifies() throws Exception {
        byte[] attest = SoftwareKeys.attest(TpmsAttest.MAGIC, TpmsAttest.TYPE_QUOTE, NONCE, SELECTION, DIGEST);
        byte[] signature = SoftwareKeys.ecdsaSignature(KEY.getPrivate(), attest);

        assertEquals(SELECTION, QuoteVerifier.verify(AK, attest, signature, NONCE, SELECTION, PCRS).selection());
    }

    @Test
    void verify_wrongMagic_badMagic() {
        assertEquals(QuoteVerifier.BAD_MAGIC, refusal(SoftwareKeys.attest(0xff544348, TpmsAttest.TYPE_QUOTE, NONCE,
                SELECTION, DIGEST), AK));
    }

    @Test
    void verify_certifyInsteadOfQuote_notAQuote() {
        byte[] certify = SoftwareKeys.attest(TpmsAttest.MAGIC, 0x8017, NONCE, SELECTION, DIGEST);
        assertEquals(QuoteVerifier.NOT_A_QUOTE, refusal(certify, AK));
    }

    @Test
    void verify_akWithoutSignOrWithDecrypt_notSigning() {
        byte[] decrypting = SoftwareKeys.eccPublic((ECPublicKey) KEY.getPublic(), SoftwareKeys.AK_ATTRIBUTES
                | ObjectAttribute.DECRYPT.mask());
        byte[] attest = SoftwareKeys.attest(TpmsAttest.MAGIC, TpmsAttest.TYPE_QUOTE, NONCE, SELECTION, DIGEST);
        assertEquals(AttestationKeyCheck.NOT_SIGNING, refusal(attest, TpmPublic.parse(decrypting)));
    }

    @Test
    void verify_malformedSignatureOrSignedGarbage_formatException() {
        byte[] attest = SoftwareKeys.attest(TpmsAttest.MAGIC, TpmsAttest.TYPE_QUOTE, NONCE, SELECTION, DIGEST);
        assertThrows(TpmFormatException.class, () -> QuoteVerifier.verify(AK, attest, new byte[3], NONCE, SELECTION,
                PCRS));
        byte[] garbage = new byte[] {(byte) 0xff, 0x54, 0x43, 0x47, (byte) 0x80, 0x18};
        byte[] signature = SoftwareKeys.ecdsaSignature(KEY.getPrivate(), garbage);
        TpmFormatException e = assertThrows(TpmFormatException.class, () -> QuoteVerifier.verify(AK, garbage,
                signature, NONCE, SELECTION, PCRS));
        assertEquals("TPMS_ATTEST: truncated at qualifiedSigner size", e.getMessage());
    }
}
