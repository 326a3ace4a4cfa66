package dev.bourne.tpm.common;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.bourne.tpm.common.internal.TpmWriter;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Malformed, hostile and oversized TPMT_PUBLIC, TPM2B_PUBLIC, TPMS_ATTEST, TPMT_SIGNATURE and TPML_PCR_SELECTION
 * inputs, each rejected with a {@link TpmFormatException} whose exact message names the structure and the field.
 */
class TpmStructureParseTest {

    private static final ECPublicKey EC = (ECPublicKey) SoftwareKeys.ecP256().getPublic();
    private static final RSAPublicKey RSA = (RSAPublicKey) SoftwareKeys.rsa(2048).getPublic();
    private static final byte[] ECC_AREA = SoftwareKeys.eccPublic(EC, SoftwareKeys.AK_ATTRIBUTES);
    private static final byte[] RSA_AREA = SoftwareKeys.rsaPublic(RSA, SoftwareKeys.AK_ATTRIBUTES);

    private static byte[] concat(byte[]... parts) {
        TpmWriter out = new TpmWriter();
        for (byte[] part : parts) {
            out.bytes(part);
        }
        return out.toByteArray();
    }

    private static byte[] head(byte[] data, int length) {
        return Arrays.copyOf(data, length);
    }

    private static byte[] u16(int value) {
        return new TpmWriter().u16(value).toByteArray();
    }

    /** The ECC area up to (excluding) the scheme: type, nameAlg, attributes, empty policy, NULL symmetric. */
    private static final byte[] ECC_PREFIX = head(ECC_AREA, 12);
    /** The RSA area up to the keyBits field (scheme RSASSA-SHA256 included). */
    private static final byte[] RSA_PREFIX = head(RSA_AREA, 16);

    static Stream<Arguments> malformedPublicAreas() {
        byte[] offCurve = ECC_AREA.clone();
        offCurve[offCurve.length - 1] ^= 1;
        byte[] rsaBody = Arrays.copyOfRange(RSA_AREA, 16, RSA_AREA.length);
        return Stream.of(
                Arguments.of("null", null, "TPMT_PUBLIC: missing"),
                Arguments.of("empty", new byte[0], "TPMT_PUBLIC: truncated at type"),
                Arguments.of("one byte", new byte[1], "TPMT_PUBLIC: truncated at type"),
                Arguments.of("oversized", new byte[1025], "TPMT_PUBLIC: 1025 bytes exceed the maximum of 1024"),
                Arguments.of("keyed-hash", concat(u16(0x0008), head(Arrays.copyOfRange(ECC_AREA, 2, 40), 38)),
                        "TPMT_PUBLIC: type 0x0008 is not RSA (0x0001) or ECC (0x0023)"),
                Arguments.of("symcipher", concat(u16(0x0025), Arrays.copyOfRange(ECC_AREA, 2, ECC_AREA.length)),
                        "TPMT_PUBLIC: type 0x0025 is not RSA (0x0001) or ECC (0x0023)"),
                Arguments.of("unknown type", concat(u16(0x7777), Arrays.copyOfRange(ECC_AREA, 2, ECC_AREA.length)),
                        "TPMT_PUBLIC: type 0x7777 is not RSA (0x0001) or ECC (0x0023)"),
                Arguments.of("SM3 nameAlg", concat(u16(0x0023), u16(0x0012), Arrays.copyOfRange(ECC_AREA, 4,
                        ECC_AREA.length)), "TPMT_PUBLIC: nameAlg 0x0012 is not a supported hash algorithm"),
                Arguments.of("NULL nameAlg", concat(u16(0x0023), u16(0x0010), Arrays.copyOfRange(ECC_AREA, 4,
                        ECC_AREA.length)), "TPMT_PUBLIC: nameAlg 0x0010 is not a supported hash algorithm"),
                Arguments.of("truncated in attributes", head(ECC_AREA, 6),
                        "TPMT_PUBLIC: truncated at objectAttributes"),
                Arguments.of("truncated before authPolicy", head(ECC_AREA, 8),
                        "TPMT_PUBLIC: truncated at authPolicy size"),
                Arguments.of("authPolicy of 65 bytes", concat(head(ECC_AREA, 8), u16(65), new byte[65]),
                        "TPMT_PUBLIC: authPolicy size 65 exceeds the maximum of 64"),
                Arguments.of("authPolicy size 0xFFFF", concat(head(ECC_AREA, 8), u16(0xFFFF)),
                        "TPMT_PUBLIC: authPolicy size 65535 exceeds the maximum of 64"),
                Arguments.of("authPolicy longer than the data", concat(head(ECC_AREA, 8), u16(32), new byte[5]),
                        "TPMT_PUBLIC: truncated at authPolicy"),
                Arguments.of("XOR symmetric", concat(head(ECC_AREA, 10), u16(0x000A), u16(0x000B)),
                        "TPMT_PUBLIC: symmetric.algorithm XOR is only valid for keyed-hash objects"),
                Arguments.of("unknown ECC scheme", concat(ECC_PREFIX, u16(0x0099)),
                        "TPMT_PUBLIC: ECC scheme 0x0099 is not ECDSA, ECDAA, SM2, ECSCHNORR, ECDH, ECMQV or NULL"),
                Arguments.of("scheme hash SM3", concat(ECC_PREFIX, u16(SigScheme.ECDSA), u16(0x0012)),
                        "TPMT_PUBLIC: scheme hashAlg 0x0012 is not a supported hash algorithm"),
                Arguments.of("BN P-256 curve", concat(ECC_PREFIX, u16(SigScheme.ECDSA), u16(0x000B), u16(0x0010)),
                        "TPMT_PUBLIC: ECC curve 0x0010 is not NIST P-256, P-384 or P-521"),
                Arguments.of("truncated in unique.y", head(ECC_AREA, ECC_AREA.length - 1),
                        "TPMT_PUBLIC: truncated at unique.y"),
                Arguments.of("trailing byte", concat(ECC_AREA, new byte[1]), "TPMT_PUBLIC: 1 trailing bytes"),
                Arguments.of("coordinate of 67 bytes", concat(head(ECC_AREA, 20), u16(67), new byte[67]),
                        "TPMT_PUBLIC: unique.x size 67 exceeds the maximum of 66"),
                Arguments.of("P-256 coordinate of 48 bytes", concat(head(ECC_AREA, 20), u16(48), new byte[48],
                        u16(1), new byte[1]), "TPMT_PUBLIC: ECC point coordinates must be 1..32 bytes for secp256r1"),
                Arguments.of("empty point", concat(head(ECC_AREA, 20), u16(0), u16(0)),
                        "TPMT_PUBLIC: ECC point coordinates must be 1..32 bytes for secp256r1"),
                Arguments.of("point off the curve", offCurve, "TPMT_PUBLIC: ECC point is not on secp256r1"),
                Arguments.of("unknown RSA scheme", concat(head(RSA_AREA, 12), u16(0x0018), u16(0x000B)),
                        "TPMT_PUBLIC: RSA scheme 0x0018 is not RSASSA, RSAPSS, RSAES, OAEP or NULL"),
                Arguments.of("RSA 8192", concat(RSA_PREFIX, u16(8192), Arrays.copyOfRange(rsaBody, 2,
                        rsaBody.length)), "TPMT_PUBLIC: RSA keyBits 8192 is outside 1024..4096"),
                Arguments.of("RSA 512", concat(RSA_PREFIX, u16(512), Arrays.copyOfRange(rsaBody, 2,
                        rsaBody.length)), "TPMT_PUBLIC: RSA keyBits 512 is outside 1024..4096"),
                Arguments.of("RSA modulus of 513 bytes", concat(RSA_PREFIX, u16(2048), new byte[4], u16(513),
                        new byte[513]), "TPMT_PUBLIC: unique size 513 exceeds the maximum of 512"),
                Arguments.of("RSA modulus shorter than keyBits", concat(RSA_PREFIX, u16(2048), new byte[4],
                        u16(255), new byte[255]), "TPMT_PUBLIC: RSA modulus has 255 bytes, keyBits says 256"),
                Arguments.of("RSA template (empty unique)", concat(RSA_PREFIX, u16(2048), new byte[4], u16(0)),
                        "TPMT_PUBLIC: RSA modulus has 0 bytes, keyBits says 256"),
                Arguments.of("RSA modulus with leading zero", concat(RSA_PREFIX, u16(2048), new byte[4], u16(256),
                        new byte[256]), "TPMT_PUBLIC: RSA modulus is not 2048 bits long"),
                Arguments.of("RSA even exponent", concat(RSA_PREFIX, u16(2048), new TpmWriter().u32(65536)
                        .toByteArray(), Arrays.copyOfRange(rsaBody, 6, rsaBody.length)),
                        "TPMT_PUBLIC: RSA exponent 65536 is not an odd number of at least 3"),
                Arguments.of("RSA exponent 1", concat(RSA_PREFIX, u16(2048), new TpmWriter().u32(1)
                        .toByteArray(), Arrays.copyOfRange(rsaBody, 6, rsaBody.length)),
                        "TPMT_PUBLIC: RSA exponent 1 is not an odd number of at least 3"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformedPublicAreas")
    void parse_malformedPublicArea_rejectedNamingTheField(String name, byte[] area, String message) {
        TpmFormatException e = assertThrows(TpmFormatException.class, () -> TpmPublic.parse(area));
        assertEquals(message, e.getMessage());
    }

    @Test
    void parse_softwareAreas_roundTrip() {
        TpmPublic ecc = TpmPublic.parse(ECC_AREA);
        TpmPublic rsa = TpmPublic.parse(RSA_AREA);

        assertEquals(EC, ecc.publicKey());
        assertEquals(RSA, rsa.publicKey());
        assertEquals(List.of(34, 34), List.of(ecc.name().length, rsa.name().length));
    }

    static Stream<Arguments> malformedTpm2bPublic() {
        return Stream.of(
                Arguments.of("empty", new byte[0], "TPM2B_PUBLIC: truncated at publicArea size"),
                Arguments.of("size larger than data", concat(u16(ECC_AREA.length + 1), ECC_AREA),
                        "TPM2B_PUBLIC: truncated at publicArea"),
                Arguments.of("size smaller than the area", concat(u16(ECC_AREA.length - 1), ECC_AREA),
                        "TPM2B_PUBLIC: 1 trailing bytes"),
                Arguments.of("size 0xFFFF", concat(u16(0xFFFF), ECC_AREA),
                        "TPM2B_PUBLIC: publicArea size 65535 exceeds the maximum of 1024"),
                Arguments.of("keyed-hash inside", concat(u16(2), u16(0x0008)),
                        "TPMT_PUBLIC: type 0x0008 is not RSA (0x0001) or ECC (0x0023)"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformedTpm2bPublic")
    void parseTpm2b_malformed_rejected(String name, byte[] data, String message) {
        TpmFormatException e = assertThrows(TpmFormatException.class, () -> TpmPublic.parseTpm2b(data));
        assertEquals(message, e.getMessage());
    }

    // -------------------------------------------------------------------------------------------------------------

    private static final PcrSelection SEL = PcrSelection.of(TpmHashAlg.SHA256, 0, 7, 23);
    private static final byte[] QUOTE = SoftwareKeys.attest(TpmsAttest.MAGIC, TpmsAttest.TYPE_QUOTE, new byte[32],
            SEL, new byte[32]);
    /** Offset of the TPML_PCR_SELECTION in {@link #QUOTE}: 4 + 2 + (2 + 34) + (2 + 32) + 17 + 8. */
    private static final int SELECTION_AT = 101;

    static Stream<Arguments> malformedAttests() {
        byte[] unsafe = QUOTE.clone();
        unsafe[SELECTION_AT - 9] = 2;
        return Stream.of(
                Arguments.of("null", null, "TPMS_ATTEST: missing"),
                Arguments.of("empty", new byte[0], "TPMS_ATTEST: truncated at magic"),
                Arguments.of("oversized", new byte[2049], "TPMS_ATTEST: 2049 bytes exceed the maximum of 2048"),
                Arguments.of("no type", head(QUOTE, 5), "TPMS_ATTEST: truncated at type"),
                Arguments.of("qualifiedSigner 67", concat(head(QUOTE, 6), u16(67), new byte[67]),
                        "TPMS_ATTEST: qualifiedSigner size 67 exceeds the maximum of 66"),
                Arguments.of("extraData 0xFFFF", concat(head(QUOTE, 42), u16(0xFFFF)),
                        "TPMS_ATTEST: extraData size 65535 exceeds the maximum of 66"),
                Arguments.of("truncated in clock", head(QUOTE, 80), "TPMS_ATTEST: truncated at clockInfo.clock"),
                Arguments.of("safe is 2", unsafe, "TPMS_ATTEST: clockInfo.safe is 2, not YES (1) or NO (0)"),
                Arguments.of("truncated in firmwareVersion", head(QUOTE, SELECTION_AT - 1),
                        "TPMS_ATTEST: truncated at firmwareVersion"),
                Arguments.of("no selection", head(QUOTE, SELECTION_AT),
                        "TPMS_ATTEST: truncated at pcrSelections.count"),
                Arguments.of("17 banks", concat(head(QUOTE, SELECTION_AT), new TpmWriter().u32(17).toByteArray()),
                        "TPMS_ATTEST: pcrSelections.count 17 exceeds the maximum of 16"),
                Arguments.of("count 2^32-1", concat(head(QUOTE, SELECTION_AT), new TpmWriter().u32(-1)
                        .toByteArray()), "TPMS_ATTEST: pcrSelections.count 4294967295 exceeds the maximum of 16"),
                Arguments.of("unknown bank", concat(head(QUOTE, SELECTION_AT), new TpmWriter().u32(1).u16(0x0012)
                        .u8(3).bytes(new byte[] {1, 0, 0}).toByteArray()),
                        "TPMS_ATTEST: pcrSelections.hash 0x0012 is not a supported PCR bank"),
                Arguments.of("sizeofSelect 5", concat(head(QUOTE, SELECTION_AT), new TpmWriter().u32(1).u16(0x000B)
                        .u8(5).bytes(new byte[5]).toByteArray()),
                        "TPMS_ATTEST: pcrSelections.sizeofSelect 5 exceeds the maximum of 4"),
                Arguments.of("PCR 24", concat(head(QUOTE, SELECTION_AT), new TpmWriter().u32(1).u16(0x000B)
                        .u8(4).bytes(new byte[] {0, 0, 0, 1}).toByteArray()),
                        "TPMS_ATTEST: pcrSelections selects PCR 24, beyond 23"),
                Arguments.of("empty selection", concat(head(QUOTE, SELECTION_AT), new TpmWriter().u32(1).u16(0x000B)
                        .u8(3).bytes(new byte[3]).toByteArray()),
                        "TPMS_ATTEST: pcrSelections entry for sha256 selects no PCR"),
                Arguments.of("bank twice", concat(head(QUOTE, SELECTION_AT), new TpmWriter().u32(2).u16(0x000B)
                        .u8(3).bytes(new byte[] {1, 0, 0}).u16(0x000B).u8(3).bytes(new byte[] {2, 0, 0})
                        .toByteArray()), "TPMS_ATTEST: pcrSelections names bank sha256 twice"),
                Arguments.of("selection truncated", head(QUOTE, SELECTION_AT + 8),
                        "TPMS_ATTEST: truncated at pcrSelections.pcrSelect"),
                Arguments.of("pcrDigest 65", concat(head(QUOTE, SELECTION_AT + 10), u16(65), new byte[65]),
                        "TPMS_ATTEST: pcrDigest size 65 exceeds the maximum of 64"),
                Arguments.of("pcrDigest truncated", head(QUOTE, QUOTE.length - 1),
                        "TPMS_ATTEST: truncated at pcrDigest"),
                Arguments.of("trailing bytes", concat(QUOTE, new byte[3]), "TPMS_ATTEST: 3 trailing bytes"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformedAttests")
    void parseAttest_malformed_rejectedNamingTheField(String name, byte[] data, String message) {
        TpmFormatException e = assertThrows(TpmFormatException.class, () -> TpmsAttest.parse(data));
        assertEquals(message, e.getMessage());
    }

    @Test
    void parseAttest_quote_fieldsRead() {
        TpmsAttest attest = TpmsAttest.parse(QUOTE);

        assertEquals(TpmsAttest.MAGIC, attest.magic());
        assertEquals(TpmsAttest.TYPE_QUOTE, attest.type());
        assertEquals(List.of(SEL), attest.pcrSelections());
        assertEquals(123456789L, attest.clock());
        assertEquals(7, attest.resetCount());
        assertEquals(true, attest.safe());
        assertEquals(0x2023_0101_0000_0000L, attest.firmwareVersion());
        assertEquals(32, attest.pcrDigest().length);
    }

    @Test
    void parseAttest_otherType_bodyKeptRaw() {
        byte[] certify = concat(SoftwareKeys.attest(TpmsAttest.MAGIC, 0x8017, new byte[0], SEL, null),
                new byte[] {0, 1, 2});

        TpmsAttest attest = TpmsAttest.parse(certify);

        assertEquals(0x8017, attest.type());
        assertEquals(List.of(), attest.pcrSelections());
        assertEquals(3, attest.attested().length);
    }

    // -------------------------------------------------------------------------------------------------------------

    static Stream<Arguments> malformedSignatures() {
        return Stream.of(
                Arguments.of("null", null, "TPMT_SIGNATURE: missing"),
                Arguments.of("empty", new byte[0], "TPMT_SIGNATURE: truncated at sigAlg"),
                Arguments.of("oversized", new byte[519], "TPMT_SIGNATURE: 519 bytes exceed the maximum of 518"),
                Arguments.of("HMAC", concat(u16(0x0005), u16(0x000B), u16(32), new byte[32]),
                        "TPMT_SIGNATURE: sigAlg 0x0005 is not RSASSA, RSAPSS or ECDSA"),
                Arguments.of("ECDAA", concat(u16(0x001A), u16(0x000B)),
                        "TPMT_SIGNATURE: sigAlg 0x001A is not RSASSA, RSAPSS or ECDSA"),
                Arguments.of("NULL", u16(0x0010), "TPMT_SIGNATURE: sigAlg 0x0010 is not RSASSA, RSAPSS or ECDSA"),
                Arguments.of("unknown hash", concat(u16(0x0018), u16(0x0012)),
                        "TPMT_SIGNATURE: hash 0x0012 is not a supported hash algorithm"),
                Arguments.of("no hash", u16(0x0018), "TPMT_SIGNATURE: truncated at hash"),
                Arguments.of("r of 67 bytes", concat(u16(0x0018), u16(0x000B), u16(67), new byte[67]),
                        "TPMT_SIGNATURE: signatureR size 67 exceeds the maximum of 66"),
                Arguments.of("no s", concat(u16(0x0018), u16(0x000B), u16(1), new byte[1]),
                        "TPMT_SIGNATURE: truncated at signatureS size"),
                Arguments.of("s truncated", concat(u16(0x0018), u16(0x000B), u16(1), new byte[1], u16(32),
                        new byte[31]), "TPMT_SIGNATURE: truncated at signatureS"),
                Arguments.of("ECDSA trailing", concat(u16(0x0018), u16(0x000B), u16(1), new byte[1], u16(1),
                        new byte[1], new byte[1]), "TPMT_SIGNATURE: 1 trailing bytes"),
                Arguments.of("RSA sig of 513 bytes", concat(u16(0x0014), u16(0x000B), u16(513)),
                        "TPMT_SIGNATURE: sig size 513 exceeds the maximum of 512"),
                Arguments.of("RSA sig empty", concat(u16(0x0014), u16(0x000B), u16(0)),
                        "TPMT_SIGNATURE: sig is empty"),
                Arguments.of("RSA sig truncated", concat(u16(0x0016), u16(0x000B), u16(256), new byte[255]),
                        "TPMT_SIGNATURE: truncated at sig"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformedSignatures")
    void parseSignature_malformed_rejectedNamingTheField(String name, byte[] data, String message) {
        TpmFormatException e = assertThrows(TpmFormatException.class, () -> TpmSignature.parse(data));
        assertEquals(message, e.getMessage());
    }

    @Test
    void verifySignature_wrongKeyTypeOrGarbage_falseNeverThrows() {
        var ec = SoftwareKeys.ecP256();
        var rsa = SoftwareKeys.rsa(2048);
        byte[] data = "attest".getBytes();
        byte[] ecdsa = SoftwareKeys.ecdsaSignature(ec.getPrivate(), data);
        byte[] rsassa = SoftwareKeys.rsassaSignature(rsa.getPrivate(), data);
        byte[] oversizedRsa = concat(u16(0x0014), u16(0x000B), u16(512), new byte[512]);
        byte[] hugeR = concat(u16(0x0018), u16(0x000B), u16(66), filled(66), u16(1), new byte[] {1});

        assertEquals(true, TpmSignature.parse(ecdsa).verify(ec.getPublic(), data));
        assertEquals(true, TpmSignature.parse(rsassa).verify(rsa.getPublic(), data));
        assertEquals(false, TpmSignature.parse(ecdsa).verify(rsa.getPublic(), data));
        assertEquals(false, TpmSignature.parse(rsassa).verify(ec.getPublic(), data));
        assertEquals(false, TpmSignature.parse(ecdsa).verify(ec.getPublic(), "other".getBytes()));
        assertEquals(false, TpmSignature.parse(oversizedRsa).verify(rsa.getPublic(), data));
        assertEquals(false, TpmSignature.parse(hugeR).verify(ec.getPublic(), data));
    }

    private static byte[] filled(int length) {
        byte[] out = new byte[length];
        Arrays.fill(out, (byte) 0xff);
        return out;
    }

    // -------------------------------------------------------------------------------------------------------------

    @Test
    void pcrSelection_marshal_isTpmlWithCountOneAndThreeSelectBytes() {
        assertEquals("000000010" + "00b03" + "810080", java.util.HexFormat.of().formatHex(SEL.marshal()));
        assertEquals(List.of(SEL), PcrSelection.parseList(SEL.marshal()));
    }

    static Stream<Arguments> invalidSelections() {
        Function<int[], Runnable> of = pcrs -> () -> PcrSelection.of(TpmHashAlg.SHA256, pcrs);
        return Stream.of(
                Arguments.of("no PCR", of.apply(new int[0]), PcrSelection.NO_PCRS),
                Arguments.of("PCR 24", of.apply(new int[] {0, 24}), PcrSelection.PCR_OUT_OF_RANGE),
                Arguments.of("PCR -1", of.apply(new int[] {-1}), PcrSelection.PCR_OUT_OF_RANGE));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalidSelections")
    void pcrSelection_invalid_rejected(String name, Runnable make, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, make::run);
        assertEquals(message, e.getMessage());
    }

    @Test
    void pcrSelectionList_trailingBytes_rejected() {
        TpmFormatException e = assertThrows(TpmFormatException.class,
                () -> PcrSelection.parseList(concat(SEL.marshal(), new byte[1])));
        assertEquals("TPML_PCR_SELECTION: 1 trailing bytes", e.getMessage());
    }
}
