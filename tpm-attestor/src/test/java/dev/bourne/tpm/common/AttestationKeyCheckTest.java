package dev.bourne.tpm.common;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.bourne.testing.tpm.Swtpm;
import dev.bourne.testing.tpm.WithSwtpm;
import dev.bourne.tpm.common.internal.TpmWriter;
import java.util.Arrays;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import tss.tpm.TPMA_OBJECT;
import tss.tpm.TPMT_PUBLIC;
import tss.tpm.TPM_ALG_ID;
import tss.tpm.TPM_ECC_CURVE;

/**
 * The AK policy against keys a real TPM (swtpm) made: genuine AKs pass; each attribute, algorithm or size the policy
 * requires, removed from a real AK's bytes or absent from a key the TPM created, fails with its own message.
 */
@WithSwtpm
class AttestationKeyCheckTest {

    /** A real ECC P-256 AK's public area: type, nameAlg, attributes at offset 4, empty policy, NULL symmetric,
     * scheme ECDSA at 12, its hash at 14. */
    private static byte[] eccAk;

    @BeforeAll
    static void createAk(Swtpm swtpm) throws Exception {
        eccAk = publicArea(swtpm, TpmDriver.eccAk(TPM_ECC_CURVE.NIST_P256, TPM_ALG_ID.SHA256));
    }

    private static byte[] publicArea(Swtpm swtpm, TPMT_PUBLIC template) throws Exception {
        TpmDriver tpm = new TpmDriver(swtpm);
        TpmDriver.Key key = tpm.createPrimary(template);
        tpm.flush(key.handle());
        return key.publicArea();
    }

    private static void assertRefused(String reason, byte[] area) {
        TpmPublic ak = TpmPublic.parse(area);
        TpmVerificationException e = assertThrows(TpmVerificationException.class, () -> AttestationKeyCheck.check(ak));
        assertEquals(reason, e.getMessage());
    }

    private static UnaryOperator<byte[]> attributes(int clear, int set) {
        return area -> {
            byte[] copy = area.clone();
            int attributes = ((copy[4] & 0xff) << 24) | ((copy[5] & 0xff) << 16) | ((copy[6] & 0xff) << 8)
                    | (copy[7] & 0xff);
            attributes = (attributes & ~clear) | set;
            System.arraycopy(new TpmWriter().u32(attributes).toByteArray(), 0, copy, 4, 4);
            return copy;
        };
    }

    private static UnaryOperator<byte[]> u16At(int offset, int value) {
        return area -> {
            byte[] copy = area.clone();
            copy[offset] = (byte) (value >>> 8);
            copy[offset + 1] = (byte) value;
            return copy;
        };
    }

    /** Replaces the 4 bytes of scheme and hash at offset 12 with {@code replacement}. */
    private static UnaryOperator<byte[]> scheme(byte[] replacement) {
        return area -> {
            byte[] out = new byte[area.length - 4 + replacement.length];
            System.arraycopy(area, 0, out, 0, 12);
            System.arraycopy(replacement, 0, out, 12, replacement.length);
            System.arraycopy(area, 16, out, 12 + replacement.length, area.length - 16);
            return out;
        };
    }

    static Stream<Arguments> mutatedAks() {
        return Stream.of(
                Arguments.of("restricted cleared", attributes(ObjectAttribute.RESTRICTED.mask(), 0),
                        AttestationKeyCheck.NOT_RESTRICTED),
                Arguments.of("sign cleared", attributes(ObjectAttribute.SIGN_ENCRYPT.mask(), 0),
                        AttestationKeyCheck.NOT_SIGNING),
                Arguments.of("decrypt set", attributes(0, ObjectAttribute.DECRYPT.mask()),
                        AttestationKeyCheck.DECRYPTS),
                Arguments.of("fixedTPM cleared", attributes(ObjectAttribute.FIXED_TPM.mask(), 0),
                        AttestationKeyCheck.NOT_FIXED_TPM),
                Arguments.of("fixedParent cleared", attributes(ObjectAttribute.FIXED_PARENT.mask(), 0),
                        AttestationKeyCheck.NOT_FIXED_PARENT),
                Arguments.of("sensitiveDataOrigin cleared",
                        attributes(ObjectAttribute.SENSITIVE_DATA_ORIGIN.mask(), 0),
                        AttestationKeyCheck.NOT_SENSITIVE_DATA_ORIGIN),
                Arguments.of("nameAlg SHA-1", u16At(2, TpmHashAlg.SHA1.id()), AttestationKeyCheck.WEAK_NAME_ALG),
                Arguments.of("scheme hash SHA-1", u16At(14, TpmHashAlg.SHA1.id()),
                        AttestationKeyCheck.WEAK_SCHEME_HASH),
                Arguments.of("NULL scheme", scheme(new TpmWriter().u16(0x0010).toByteArray()),
                        AttestationKeyCheck.NO_SIGNING_SCHEME),
                Arguments.of("ECDH scheme", scheme(new TpmWriter().u16(0x0019).u16(0x000B).toByteArray()),
                        AttestationKeyCheck.NO_SIGNING_SCHEME),
                Arguments.of("ECDAA scheme", scheme(new TpmWriter().u16(SigScheme.ECDAA).u16(0x000B).u16(1)
                        .toByteArray()), AttestationKeyCheck.SCHEME_NOT_ALLOWED),
                Arguments.of("ECSCHNORR scheme", scheme(new TpmWriter().u16(SigScheme.ECSCHNORR).u16(0x000B)
                        .toByteArray()), AttestationKeyCheck.SCHEME_NOT_ALLOWED));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("mutatedAks")
    void check_realAkWithoutOneRequirement_refusedWithItsReason(String name, UnaryOperator<byte[]> mutation,
            String reason) {
        assertRefused(reason, mutation.apply(eccAk));
    }

    @Test
    void check_realAks_pass(Swtpm swtpm) throws Exception {
        AttestationKeyCheck.check(TpmPublic.parse(eccAk));
        AttestationKeyCheck.check(TpmPublic.parse(publicArea(swtpm, TpmDriver.rsaAk(2048, false))));
        AttestationKeyCheck.check(TpmPublic.parse(publicArea(swtpm, TpmDriver.rsaAk(2048, true))));
        AttestationKeyCheck.check(TpmPublic.parse(publicArea(swtpm, TpmDriver.eccAk(TPM_ECC_CURVE.NIST_P384,
                TPM_ALG_ID.SHA384))));
    }

    @Test
    void check_unrestrictedSigningKeyFromTheTpm_notRestricted(Swtpm swtpm) throws Exception {
        TPMA_OBJECT unrestricted = new TPMA_OBJECT(TPMA_OBJECT.fixedTPM, TPMA_OBJECT.fixedParent,
                TPMA_OBJECT.sensitiveDataOrigin, TPMA_OBJECT.userWithAuth, TPMA_OBJECT.sign);
        assertRefused(AttestationKeyCheck.NOT_RESTRICTED, publicArea(swtpm, TpmDriver.eccSigner(unrestricted,
                TPM_ECC_CURVE.NIST_P256, TPM_ALG_ID.SHA256)));
        assertRefused(AttestationKeyCheck.NOT_RESTRICTED, publicArea(swtpm, TpmDriver.rsaSigner(unrestricted, 2048,
                false)));
    }

    @Test
    void check_rsa1024AkFromTheTpm_rsaTooShort(Swtpm swtpm) throws Exception {
        assertRefused(AttestationKeyCheck.RSA_TOO_SHORT, publicArea(swtpm, TpmDriver.rsaAk(1024, false)));
    }

    @Test
    void check_storageKeyFromTheTpm_notSigning(Swtpm swtpm) throws Exception {
        assertRefused(AttestationKeyCheck.NOT_SIGNING, publicArea(swtpm, TpmDriver.eccStorageKey()));
    }

    @Test
    void check_rsaEkOfTheTpm_notSigning(Swtpm swtpm) throws Exception {
        assertRefused(AttestationKeyCheck.NOT_SIGNING, new TpmDriver(swtpm).readPublic(TpmDriver.RSA_EK));
    }

    @Test
    void check_softwareKeyClaimingAkAttributes_passesTheAttributeCheckOnly() throws Exception {
        // The check reads attributes; that a key with these attributes really is in a TPM is what
        // MakeCredential/ActivateCredential proves. This test pins that division of labour.
        byte[] area = SoftwareKeys.eccPublic((java.security.interfaces.ECPublicKey) SoftwareKeys.ecP256().getPublic(),
                SoftwareKeys.AK_ATTRIBUTES);
        AttestationKeyCheck.check(TpmPublic.parse(area));
        assertEquals(false, Arrays.equals(area, eccAk));
    }
}
