package dev.bourne.tpm.common;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.bourne.tpm.common.internal.TpmWriter;
import java.security.SecureRandom;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** MakeCredential refuses EKs, AK names and secrets it cannot use, each with its constant. */
class MakeCredentialArgumentsTest {

    private static final int EK_ATTRIBUTES = ObjectAttribute.FIXED_TPM.mask() | ObjectAttribute.FIXED_PARENT.mask()
            | ObjectAttribute.SENSITIVE_DATA_ORIGIN.mask() | ObjectAttribute.ADMIN_WITH_POLICY.mask()
            | ObjectAttribute.RESTRICTED.mask() | ObjectAttribute.DECRYPT.mask();
    private static final ECPublicKey EC = (ECPublicKey) SoftwareKeys.ecP256().getPublic();
    private static final byte[] AK_NAME = TpmPublic.parse(SoftwareKeys.eccPublic(EC, SoftwareKeys.AK_ATTRIBUTES))
            .name();

    /** An ECC P-256 storage key area with the given symmetric definition bytes and a NULL scheme. */
    private static TpmPublic eccEk(byte[] symmetric) {
        return TpmPublic.parse(new TpmWriter().u16(TpmKeyType.ECC.id()).u16(TpmHashAlg.SHA256.id()).u32(EK_ATTRIBUTES)
                .sized(new byte[32]).bytes(symmetric).u16(0x0010).u16(TpmEccCurve.NIST_P256.id()).u16(0x0010)
                .sized(SoftwareKeys.fixed(EC.getW().getAffineX(), 32))
                .sized(SoftwareKeys.fixed(EC.getW().getAffineY(), 32)).toByteArray());
    }

    private static final TpmPublic GOOD_EK = eccEk(new TpmWriter().u16(0x0006).u16(128).u16(0x0043).toByteArray());

    static Stream<Arguments> refused() {
        TpmPublic ak = TpmPublic.parse(SoftwareKeys.eccPublic(EC, SoftwareKeys.AK_ATTRIBUTES));
        TpmPublic rsaSigner = TpmPublic.parse(SoftwareKeys.rsaPublic((RSAPublicKey) SoftwareKeys.rsa(2048)
                .getPublic(), EK_ATTRIBUTES));
        byte[] shortName = Arrays.copyOf(AK_NAME, 33);
        byte[] sm3Name = AK_NAME.clone();
        sm3Name[1] = 0x12;
        return Stream.of(
                Arguments.of("an AK as EK", ak, AK_NAME, 32, MakeCredential.EK_NOT_STORAGE_KEY),
                Arguments.of("RSA EK with NULL symmetric", rsaSigner, AK_NAME, 32,
                        MakeCredential.EK_SYMMETRIC_NOT_AES_CFB),
                Arguments.of("EK with NULL symmetric", eccEk(new TpmWriter().u16(0x0010).toByteArray()), AK_NAME, 32,
                        MakeCredential.EK_SYMMETRIC_NOT_AES_CFB),
                Arguments.of("EK with AES-128-CBC", eccEk(new TpmWriter().u16(0x0006).u16(128).u16(0x0042)
                        .toByteArray()), AK_NAME, 32, MakeCredential.EK_SYMMETRIC_NOT_AES_CFB),
                Arguments.of("EK with AES-100-CFB", eccEk(new TpmWriter().u16(0x0006).u16(100).u16(0x0043)
                        .toByteArray()), AK_NAME, 32, MakeCredential.EK_SYMMETRIC_NOT_AES_CFB),
                Arguments.of("EK with Camellia", eccEk(new TpmWriter().u16(0x0026).u16(128).u16(0x0043)
                        .toByteArray()), AK_NAME, 32, MakeCredential.EK_SYMMETRIC_NOT_AES_CFB),
                Arguments.of("empty name", GOOD_EK, new byte[0], 32, MakeCredential.AK_NAME_MALFORMED),
                Arguments.of("short name", GOOD_EK, shortName, 32, MakeCredential.AK_NAME_MALFORMED),
                Arguments.of("SM3 name", GOOD_EK, sm3Name, 32, MakeCredential.AK_NAME_MALFORMED),
                Arguments.of("empty secret", GOOD_EK, AK_NAME, 0, MakeCredential.SECRET_SIZE),
                Arguments.of("secret longer than SHA-256", GOOD_EK, AK_NAME, 33, MakeCredential.SECRET_SIZE));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("refused")
    void make_unusableInput_refusedWithItsConstant(String name, TpmPublic ek, byte[] akName, int secretLength,
            String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> MakeCredential.make(ek, akName, new byte[secretLength], new SecureRandom()));
        assertEquals(message, e.getMessage());
    }

    @org.junit.jupiter.api.Test
    void make_eccEk_encryptedSecretIsAnEphemeralPointOnTheCurve() {
        MakeCredential.Credential credential = MakeCredential.make(GOOD_EK, AK_NAME, new byte[32], new SecureRandom());
        byte[] point = credential.encryptedSecret();

        assertEquals(2 + 32 + 2 + 32, point.length);
        // integrityHMAC (SHA-256) as a TPM2B, then TPM2B(secret) encrypted: 2 + 32 bytes.
        assertEquals(2 + 32 + 2 + 32, credential.credentialBlob().length);
        TpmPublic.parse(new TpmWriter().u16(TpmKeyType.ECC.id()).u16(TpmHashAlg.SHA256.id()).u32(EK_ATTRIBUTES)
                .sized(new byte[0]).u16(0x0010).u16(0x0010).u16(TpmEccCurve.NIST_P256.id()).u16(0x0010)
                .bytes(point).toByteArray()); // parses only if the point is on P-256
    }
}
