package dev.bourne.agent.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.bourne.tpm.agent.SealedBlob;
import dev.bourne.tpm.common.TpmFormatException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The sealed agent key file's parser: every malformed file is refused with the message naming what is wrong. */
class SealedAgentKeyTest {

    /** A well-formed file: header, a 100-byte blob, a nonce, a 154-byte ciphertext. */
    private static byte[] file(int magic, int version, int blobSize, int blobBytes, int ciphertextSize,
            int ciphertextBytes, int trailing) {
        ByteBuffer out = ByteBuffer.allocate(4 + 2 + 2 + blobBytes + SealedAgentKey.NONCE_BYTES + 2 + ciphertextBytes
                + trailing);
        out.putInt(magic).putShort((short) version).putShort((short) blobSize).put(new byte[blobBytes])
                .put(new byte[SealedAgentKey.NONCE_BYTES]).putShort((short) ciphertextSize)
                .put(new byte[ciphertextBytes]).put(new byte[trailing]);
        return out.array();
    }

    private static byte[] good() {
        return file(SealedAgentKey.MAGIC, 1, 100, 100, 154, 154, 0);
    }

    static Stream<Arguments> malformed() {
        byte[] good = good();
        return Stream.of(
                Arguments.of("empty", new byte[0], SealedAgentKey.TRUNCATED),
                Arguments.of("header cut", Arrays.copyOf(good, 7), SealedAgentKey.TRUNCATED),
                Arguments.of("bad magic", file(0x42545342, 1, 100, 100, 154, 154, 0), SealedAgentKey.BAD_MAGIC),
                Arguments.of("version 2", file(SealedAgentKey.MAGIC, 2, 100, 100, 154, 154, 0),
                        SealedAgentKey.BAD_VERSION),
                Arguments.of("blob size 0", file(SealedAgentKey.MAGIC, 1, 0, 0, 154, 154, 0),
                        SealedAgentKey.BAD_BLOB_SIZE),
                Arguments.of("blob size too large", file(SealedAgentKey.MAGIC, 1, SealedBlob.MAX_BLOB + 1, 100, 154,
                        154, 0), SealedAgentKey.BAD_BLOB_SIZE),
                Arguments.of("blob size 65535", file(SealedAgentKey.MAGIC, 1, 0xFFFF, 100, 154, 154, 0),
                        SealedAgentKey.BAD_BLOB_SIZE),
                Arguments.of("blob cut", Arrays.copyOf(good, 50), SealedAgentKey.TRUNCATED),
                Arguments.of("nonce cut", Arrays.copyOf(good, 8 + 100 + 5), SealedAgentKey.TRUNCATED),
                Arguments.of("ciphertext size missing", Arrays.copyOf(good, 8 + 100 + 12 + 1),
                        SealedAgentKey.TRUNCATED),
                Arguments.of("ciphertext shorter than a tag", file(SealedAgentKey.MAGIC, 1, 100, 100, 16, 16, 0),
                        SealedAgentKey.BAD_CIPHERTEXT_SIZE),
                Arguments.of("ciphertext size 65535", file(SealedAgentKey.MAGIC, 1, 100, 100, 0xFFFF, 154, 0),
                        SealedAgentKey.BAD_CIPHERTEXT_SIZE),
                Arguments.of("ciphertext cut", Arrays.copyOf(good, good.length - 1), SealedAgentKey.TRUNCATED),
                Arguments.of("trailing byte", file(SealedAgentKey.MAGIC, 1, 100, 100, 154, 154, 1),
                        SealedAgentKey.TRAILING),
                Arguments.of("oversized file", new byte[SealedAgentKey.MAX_FILE + 1], SealedAgentKey.TOO_LONG));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformed")
    void parse_malformed_rejectedWithItsMessage(String name, byte[] file, String message) {
        assertEquals(message, assertThrows(TpmFormatException.class, () -> SealedAgentKey.parse(file)).getMessage());
    }

    @Test
    void parse_null_truncated() {
        assertEquals(SealedAgentKey.TRUNCATED, assertThrows(TpmFormatException.class,
                () -> SealedAgentKey.parse(null)).getMessage());
    }

    @Test
    void parse_wellFormed_keepsTheSealedBlob() {
        byte[] file = good();
        file[8] = 0x42;
        SealedAgentKey parsed = SealedAgentKey.parse(file);
        assertEquals(100, parsed.sealedKek().length);
        assertEquals(0x42, parsed.sealedKek()[0]);
    }

    @Test
    void parse_everyTruncation_rejectedWithoutAnUncheckedSurprise() {
        byte[] good = good();
        for (int length = 0; length < good.length; length++) {
            byte[] cut = Arrays.copyOf(good, length);
            TpmFormatException e = assertThrows(TpmFormatException.class, () -> SealedAgentKey.parse(cut));
            assertEquals(SealedAgentKey.TRUNCATED, e.getMessage(), "length " + length);
        }
    }
}
