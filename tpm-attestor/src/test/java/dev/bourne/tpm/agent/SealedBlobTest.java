package dev.bourne.tpm.agent;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.bourne.tpm.common.TpmFormatException;
import dev.bourne.tpm.common.TpmHashAlg;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The sealed blob format, parsed strictly without a TPM. */
class SealedBlobTest {

    private static final byte[] VALID = new SealedBlob(TpmHashAlg.SHA256, new int[] {0, 7, 23}, new byte[] {1, 2, 3},
            new byte[] {4, 5}).encode();

    private static byte[] hex(String text) {
        return HexFormat.of().parseHex(text.replace(" ", ""));
    }

    @Test
    void encode_layout_isTheDocumentedFormat() {
        assertArrayEquals(hex("42545342 0001 000b 03 00 07 17 0003 010203 0002 0405"), VALID);
        SealedBlob decoded = SealedBlob.decode(VALID);
        assertEquals(TpmHashAlg.SHA256, decoded.bank());
        assertArrayEquals(new int[] {0, 7, 23}, decoded.pcrs());
        assertArrayEquals(new byte[] {1, 2, 3}, decoded.publicArea());
        assertArrayEquals(new byte[] {4, 5}, decoded.privateArea());
    }

    static Stream<Arguments> malformed() {
        return Stream.of(
                Arguments.of("empty", new byte[0], SealedBlob.TRUNCATED),
                Arguments.of("header only", hex("42545342 0001 000b"), SealedBlob.TRUNCATED),
                Arguments.of("bad magic", hex("42545343 0001 000b 01 00 0001 01 0001 01"), SealedBlob.BAD_MAGIC),
                Arguments.of("version 2", hex("42545342 0002 000b 01 00 0001 01 0001 01"), SealedBlob.BAD_VERSION),
                Arguments.of("bank 0x0012", hex("42545342 0001 0012 01 00 0001 01 0001 01"), SealedBlob.BAD_BANK),
                Arguments.of("no PCRs", hex("42545342 0001 000b 00 0001 01 0001 01"), SealedBlob.BAD_PCR_COUNT),
                Arguments.of("25 PCRs", hex("42545342 0001 000b 19"), SealedBlob.BAD_PCR_COUNT),
                Arguments.of("PCR list cut", hex("42545342 0001 000b 03 00 01"), SealedBlob.TRUNCATED),
                Arguments.of("PCR 24", hex("42545342 0001 000b 01 18 0001 01 0001 01"), SealedBlob.BAD_PCRS),
                Arguments.of("PCRs descending", hex("42545342 0001 000b 02 07 00 0001 01 0001 01"),
                        SealedBlob.BAD_PCRS),
                Arguments.of("PCR twice", hex("42545342 0001 000b 02 07 07 0001 01 0001 01"), SealedBlob.BAD_PCRS),
                Arguments.of("empty public", hex("42545342 0001 000b 01 00 0000 0001 01"), SealedBlob.BAD_AREA_SIZE),
                Arguments.of("public of 65535", hex("42545342 0001 000b 01 00 ffff 01"), SealedBlob.BAD_AREA_SIZE),
                Arguments.of("public cut", hex("42545342 0001 000b 01 00 0005 0102"), SealedBlob.TRUNCATED),
                Arguments.of("no private", hex("42545342 0001 000b 01 00 0001 01"), SealedBlob.TRUNCATED),
                Arguments.of("private of 2000", hex("42545342 0001 000b 01 00 0001 01 07d0"),
                        SealedBlob.BAD_AREA_SIZE),
                Arguments.of("trailing byte", hex("42545342 0001 000b 01 00 0001 01 0001 01 00"), SealedBlob.TRAILING),
                Arguments.of("oversized", new byte[SealedBlob.MAX_BLOB + 1], SealedBlob.TOO_LONG));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformed")
    void decode_malformed_rejectedWithReason(String name, byte[] blob, String reason) {
        TpmFormatException e = assertThrows(TpmFormatException.class, () -> SealedBlob.decode(blob));
        assertEquals(reason, e.getMessage());
    }

    @Test
    void decode_everyTruncation_rejectedAsTruncated() {
        for (int length = 0; length < VALID.length; length++) {
            byte[] cut = Arrays.copyOf(VALID, length);
            TpmFormatException e = assertThrows(TpmFormatException.class, () -> SealedBlob.decode(cut));
            assertEquals(SealedBlob.TRUNCATED, e.getMessage(), "length " + length);
        }
    }

    @Test
    void parsedPublic_notATpmPublicArea_rejected() {
        TpmFormatException e = assertThrows(TpmFormatException.class,
                () -> SealedBlob.decode(VALID).parsedPublic());
        assertEquals(SealedBlob.BAD_PUBLIC, e.getMessage());
    }
}
