package dev.bourne.tpm.agent;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.bourne.api.tpm.v1.PcrSelection;
import dev.bourne.api.tpm.v1.TpmAttestationPayload;
import dev.bourne.api.tpm.v1.TpmChallenge;
import dev.bourne.api.tpm.v1.TpmChallengeResponse;
import dev.bourne.api.tpm.v1.TpmQuote;
import dev.bourne.api.tpm.v1.TpmRenewalChallenge;
import dev.bourne.api.tpm.v1.TpmRenewalEvidence;
import dev.bourne.testing.tpm.Swtpm;
import dev.bourne.testing.tpm.WithSwtpm;
import dev.bourne.tpm.common.TpmFormatException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The agent's protocol messages against swtpm: payload, challenge answer, renewal evidence, and bad challenges. */
@WithSwtpm
class TpmAgentAttestorTest {

    private static final byte[] NONCE = HexFormat.of().parseHex(
            "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
    private static final byte[] SECRET = HexFormat.of().parseHex(
            "f0e0d0c0b0a090807060504030201000f0e0d0c0b0a090807060504030201000");
    private static final PcrSelection SHA256_0_7 = PcrSelection.newBuilder().setHashAlg(0x000B)
            .addAllPcrs(List.of(0, 1, 2, 3, 4, 5, 6, 7)).build();

    @TempDir
    Path dir;

    private TpmAgentSettings settings(Swtpm swtpm) throws Exception {
        Path log = dir.resolve("binary_bios_measurements");
        Files.write(log, new byte[] {1, 2, 3, 4});
        return Tpm2Tools.settings(swtpm).withEventLogPath(log);
    }

    @Test
    void payload_carriesEkCertificateEkPublicAndAkPublic(Swtpm swtpm) throws Exception {
        byte[] certificate = swtpm.ekCertificate().getEncoded();
        try (AgentTpm tpm = Tpm2Tools.open(swtpm, settings(swtpm))) {
            TpmAttestationPayload payload = TpmAttestationPayload.parseFrom(new TpmAgentAttestor(tpm).payload());

            assertArrayEquals(certificate, payload.getEkCertificate().toByteArray());
            assertArrayEquals(tpm.endorsementKey().publicArea(), payload.getEkPublic().toByteArray());
            assertArrayEquals(tpm.akPublic(), payload.getAkPublic().toByteArray());
        }
    }

    @Test
    void answer_challenge_secretRecoveredAndQuoteVerifiesWithTheNonce(Swtpm swtpm) throws Exception {
        TpmChallenge challenge = challenge(swtpm, SHA256_0_7);
        TpmChallengeResponse response;
        try (AgentTpm tpm = Tpm2Tools.open(swtpm, settings(swtpm))) {
            response = TpmChallengeResponse.parseFrom(new TpmAgentAttestor(tpm).answer(challenge.toByteArray()));
        }
        assertArrayEquals(SECRET, response.getSecret().toByteArray());
        TpmQuote quote = response.getQuote();
        assertEquals(List.of(0, 1, 2, 3, 4, 5, 6, 7), List.copyOf(new TreeMap<>(quote.getPcrValuesMap()).keySet()));
        assertArrayEquals(new byte[] {1, 2, 3, 4}, quote.getEventLog().toByteArray());
        checkquote(swtpm, quote, TpmAgentSettings.DEFAULT_AK_HANDLE);
        assertEquals(List.of(), Tpm2Tools.loadedHandles(swtpm));
    }

    @Test
    void renewalEvidence_quoteByTheBoundAk_verifies(Swtpm swtpm) throws Exception {
        TpmRenewalChallenge challenge = TpmRenewalChallenge.newBuilder().setNonce(ByteString.copyFrom(NONCE))
                .setPcrSelection(PcrSelection.newBuilder().setHashAlg(0x000B).addAllPcrs(List.of(7, 16))).build();
        TpmRenewalEvidence evidence;
        try (AgentTpm tpm = Tpm2Tools.open(swtpm, settings(swtpm).withEventLogPath(dir.resolve("absent")))) {
            evidence = TpmRenewalEvidence.parseFrom(new TpmAgentAttestor(tpm).renewalEvidence(
                    challenge.toByteArray()));
        }
        assertTrue(evidence.getQuote().getEventLog().isEmpty(), "an absent event log is sent as empty");
        checkquote(swtpm, evidence.getQuote(), TpmAgentSettings.DEFAULT_AK_HANDLE);
    }

    @Test
    void answer_twentyTimesOnOneTpm_noObjectOrSessionLeaks(Swtpm swtpm) throws Exception {
        byte[] challenge = challenge(swtpm, SHA256_0_7).toByteArray();
        long[] attestation = new long[20];
        long[] quotes = new long[20];
        for (int i = 0; i < 20; i++) {
            try (AgentTpm tpm = Tpm2Tools.open(swtpm, settings(swtpm))) {
                TpmAgentAttestor attestor = new TpmAgentAttestor(tpm);
                long start = System.nanoTime();
                attestor.payload();
                TpmChallengeResponse response = TpmChallengeResponse.parseFrom(attestor.answer(challenge));
                attestation[i] = System.nanoTime() - start;
                assertArrayEquals(SECRET, response.getSecret().toByteArray());
                start = System.nanoTime();
                tpm.quote(NONCE, 0x000B, new int[] {0, 1, 2, 3, 4, 5, 6, 7});
                quotes[i] = System.nanoTime() - start;
            }
        }
        assertEquals(List.of(), Tpm2Tools.loadedHandles(swtpm));
        System.out.printf("MEASURE agent payload()+answer() against swtpm, fresh AgentTpm each: median %.2f ms%n",
                median(attestation));
        System.out.printf("MEASURE quote over sha256:0-7 with PCR reads, ECC AK: median %.2f ms%n", median(quotes));
    }

    static double median(long[] nanos) {
        long[] sorted = nanos.clone();
        Arrays.sort(sorted);
        return (sorted[(sorted.length - 1) / 2] + sorted[sorted.length / 2]) / 2.0 / 1e6;
    }

    static Stream<Arguments> badChallenges() {
        TpmChallenge valid = TpmChallenge.newBuilder().setCredentialBlob(ByteString.copyFrom(new byte[68]))
                .setEncryptedSecret(ByteString.copyFrom(new byte[256])).setNonce(ByteString.copyFrom(NONCE))
                .setPcrSelection(SHA256_0_7).build();
        return Stream.of(
                Arguments.of("empty", new byte[0], TpmAgentAttestor.EMPTY),
                Arguments.of("oversized", new byte[TpmAgentAttestor.MAX_CHALLENGE + 1], TpmAgentAttestor.TOO_LARGE),
                Arguments.of("not protobuf", new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff},
                        TpmAgentAttestor.MALFORMED),
                Arguments.of("no credential blob", valid.toBuilder().clearCredentialBlob().build().toByteArray(),
                        TpmAgentAttestor.CREDENTIAL_BLOB_SIZE),
                Arguments.of("huge credential blob", valid.toBuilder().setCredentialBlob(ByteString.copyFrom(
                        new byte[133])).build().toByteArray(), TpmAgentAttestor.CREDENTIAL_BLOB_SIZE),
                Arguments.of("no encrypted secret", valid.toBuilder().clearEncryptedSecret().build().toByteArray(),
                        TpmAgentAttestor.ENCRYPTED_SECRET_SIZE),
                Arguments.of("huge encrypted secret", valid.toBuilder().setEncryptedSecret(ByteString.copyFrom(
                        new byte[513])).build().toByteArray(), TpmAgentAttestor.ENCRYPTED_SECRET_SIZE),
                Arguments.of("short nonce", valid.toBuilder().setNonce(ByteString.copyFrom(new byte[15])).build()
                        .toByteArray(), TpmAgentAttestor.NONCE_SIZE),
                Arguments.of("long nonce", valid.toBuilder().setNonce(ByteString.copyFrom(new byte[65])).build()
                        .toByteArray(), TpmAgentAttestor.NONCE_SIZE),
                Arguments.of("no selection", valid.toBuilder().clearPcrSelection().build().toByteArray(),
                        TpmAgentAttestor.SELECTION_MISSING),
                Arguments.of("unknown bank", valid.toBuilder().setPcrSelection(SHA256_0_7.toBuilder()
                        .setHashAlg(0x0012)).build().toByteArray(), TpmAgentAttestor.UNKNOWN_BANK),
                Arguments.of("no PCRs", valid.toBuilder().setPcrSelection(SHA256_0_7.toBuilder().clearPcrs())
                        .build().toByteArray(), TpmAgentAttestor.NO_PCRS),
                Arguments.of("PCR 24", valid.toBuilder().setPcrSelection(SHA256_0_7.toBuilder().addPcrs(24))
                        .build().toByteArray(), TpmAgentAttestor.PCR_OUT_OF_RANGE),
                Arguments.of("PCR 2^32-1", valid.toBuilder().setPcrSelection(SHA256_0_7.toBuilder().addPcrs(-1))
                        .build().toByteArray(), TpmAgentAttestor.PCR_OUT_OF_RANGE),
                Arguments.of("duplicate PCR", valid.toBuilder().setPcrSelection(SHA256_0_7.toBuilder().addPcrs(7))
                        .build().toByteArray(), TpmAgentAttestor.PCRS_NOT_ASCENDING),
                Arguments.of("descending PCRs", valid.toBuilder().setPcrSelection(PcrSelection.newBuilder()
                        .setHashAlg(0x000B).addPcrs(7).addPcrs(0)).build().toByteArray(),
                        TpmAgentAttestor.PCRS_NOT_ASCENDING));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badChallenges")
    void answer_badChallenge_rejectedBeforeTheTpm(String name, byte[] challenge, String reason, Swtpm swtpm)
            throws Exception {
        try (AgentTpm tpm = Tpm2Tools.open(swtpm, settings(swtpm))) {
            TpmFormatException e = assertThrows(TpmFormatException.class,
                    () -> new TpmAgentAttestor(tpm).answer(challenge));
            assertEquals(TpmAgentAttestor.CHALLENGE + reason, e.getMessage());
        }
    }

    @Test
    void renewalEvidence_shortNonce_rejected(Swtpm swtpm) throws Exception {
        byte[] challenge = TpmRenewalChallenge.newBuilder().setNonce(ByteString.copyFrom(new byte[8]))
                .setPcrSelection(SHA256_0_7).build().toByteArray();
        try (AgentTpm tpm = Tpm2Tools.open(swtpm, settings(swtpm))) {
            TpmFormatException e = assertThrows(TpmFormatException.class,
                    () -> new TpmAgentAttestor(tpm).renewalEvidence(challenge));
            assertEquals(TpmAgentAttestor.RENEWAL_CHALLENGE + TpmAgentAttestor.NONCE_SIZE, e.getMessage());
        }
    }

    /** A challenge for the default AK, its credential made offline by tpm2_makecredential. */
    private TpmChallenge challenge(Swtpm swtpm, PcrSelection selection) throws Exception {
        byte[] akPublic;
        try (AgentTpm tpm = Tpm2Tools.open(swtpm, Tpm2Tools.settings(swtpm))) {
            akPublic = tpm.akPublic();
        }
        Tpm2Tools.Credential credential = new Tpm2Tools(swtpm, dir).makeCredential(Tpm2Tools.name(akPublic),
                SECRET);
        return TpmChallenge.newBuilder().setCredentialBlob(ByteString.copyFrom(credential.blob()))
                .setEncryptedSecret(ByteString.copyFrom(credential.encryptedSecret()))
                .setNonce(ByteString.copyFrom(NONCE)).setPcrSelection(selection).build();
    }

    private void checkquote(Swtpm swtpm, TpmQuote quote, int akHandle) throws Exception {
        Tpm2Tools tools = new Tpm2Tools(swtpm, dir);
        tools.run("tpm2_readpublic", "-c", AgentTpm.handleHex(akHandle), "-f", "pem", "-o",
                tools.file("ak.pem").toString());
        TreeMap<Integer, byte[]> values = new TreeMap<>();
        for (Map.Entry<Integer, ByteString> entry : quote.getPcrValuesMap().entrySet()) {
            values.put(entry.getKey(), entry.getValue().toByteArray());
        }
        Files.write(tools.file("msg"), quote.getAttest().toByteArray());
        Files.write(tools.file("sig"), quote.getSignature().toByteArray());
        Files.write(tools.file("pcrs"), Tpm2Tools.checkquotePcrFile(0x000B, values));
        tools.run("tpm2_checkquote", "-u", tools.file("ak.pem").toString(), "-m", tools.file("msg").toString(),
                "-s", tools.file("sig").toString(), "-f", tools.file("pcrs").toString(), "-g", "sha256", "-q",
                HexFormat.of().formatHex(NONCE));
    }
}
