package dev.bourne.tpm.server;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.google.protobuf.ByteString;
import dev.bourne.api.tpm.v1.TpmAttestationPayload;
import dev.bourne.api.tpm.v1.TpmChallengeResponse;
import dev.bourne.api.tpm.v1.TpmQuote;
import dev.bourne.testing.pki.TestKeys;
import java.security.SecureRandom;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Hostile bytes into both steps of the server engine: whatever the agent sends, only {@link TpmAttestationException}
 * may come out (never a parser's IndexOutOfBounds, BufferUnderflow or NullPointerException). Jazzer fuzz targets, plus
 * deterministic sweeps (every truncation and every single-byte change of a well-formed message) that run in every
 * build.
 *
 * <p>A zero-filling "random" makes the credential secret predictable, so mutated responses get past the secret
 * check into quote verification.
 */
class TpmServerAttestorFuzzTest {

    private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-06-01T00:00:00Z"), ZoneOffset.UTC);
    private static final SecureRandom ZEROS = new SecureRandom() {
        private static final long serialVersionUID = 1L;

        @Override
        public void nextBytes(byte[] bytes) {
            Arrays.fill(bytes, (byte) 0);
        }
    };
    private static final byte[] PAYLOAD = TpmAttestationPayload.newBuilder()
            .setEkPublic(ByteString.copyFrom(TestTpmPublics.rsaEk((RSAPublicKey) TestKeys.rsa2048(50).getPublic())))
            .setAkPublic(ByteString.copyFrom(TestTpmPublics.eccAk((ECPublicKey) TestKeys.ecP256(51).getPublic())))
            .build().toByteArray();
    private static final byte[] RESPONSE;
    private static final TpmServerAttestor SERVER;

    static {
        try {
            SERVER = new TpmServerAttestor(TpmServerAttestorTest.settings(), EkCaStore.of(List.of(), CLOCK),
                    hash -> Optional.of(new TpmEnrollment(hash, new TreeMap<>(), Optional.empty(), Optional.empty(),
                            CLOCK.instant(), Optional.empty())), CLOCK, ZEROS);
            TpmQuote.Builder quote = TpmQuote.newBuilder().setAttest(ByteString.copyFrom(new byte[100]))
                    .setSignature(ByteString.copyFrom(new byte[72]));
            for (int i = 0; i < 8; i++) {
                quote.putPcrValues(i, ByteString.copyFrom(new byte[32]));
            }
            RESPONSE = TpmChallengeResponse.newBuilder().setSecret(ByteString.copyFrom(new byte[32])).setQuote(quote)
                    .build().toByteArray();
        } catch (Exception e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @FuzzTest(maxDuration = "5m")
    void begin(byte[] payload) {
        try {
            assertNotNull(SERVER.begin(payload).challenge());
        } catch (TpmAttestationException e) {
            assertNotNull(e.getMessage());
        }
    }

    @FuzzTest(maxDuration = "5m")
    void finish(byte[] response) throws Exception {
        TpmServerAttestor.Pending pending = SERVER.begin(PAYLOAD);
        try {
            SERVER.finish(pending, response);
        } catch (TpmAttestationException e) {
            assertNotNull(e.getMessage());
        }
    }

    @Test
    void begin_wellFormedSoftwarePayload_challenged() throws Exception {
        assertTrue(SERVER.begin(PAYLOAD).challenge().length > 0);
    }

    @Test
    void begin_everyTruncationAndByteChange_onlyAttestationExceptions() {
        for (byte[] mutant : mutants(PAYLOAD)) {
            begin(mutant);
        }
    }

    @Test
    void finish_everyTruncationAndByteChange_onlyAttestationExceptions() throws Exception {
        for (byte[] mutant : mutants(RESPONSE)) {
            finish(mutant);
        }
    }

    private static List<byte[]> mutants(byte[] message) {
        List<byte[]> out = new java.util.ArrayList<>();
        for (int i = 0; i < message.length; i++) {
            out.add(Arrays.copyOf(message, i));
            for (int value : new int[] {0x00, 0xff, message[i] ^ 0x01, message[i] + 1}) {
                byte[] changed = message.clone();
                changed[i] = (byte) value;
                out.add(changed);
            }
        }
        return out;
    }
}
