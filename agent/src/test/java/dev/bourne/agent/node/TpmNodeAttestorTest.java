package dev.bourne.agent.node;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.bourne.api.tpm.v1.PcrSelection;
import dev.bourne.api.tpm.v1.TpmAttestationPayload;
import dev.bourne.api.tpm.v1.TpmChallenge;
import dev.bourne.api.tpm.v1.TpmRenewalChallenge;
import dev.bourne.api.tpm.v1.TpmRenewalEvidence;
import dev.bourne.testing.tpm.Swtpm;
import dev.bourne.testing.tpm.WithSwtpm;
import dev.bourne.tpm.agent.TpmAgentAttestor;
import dev.bourne.tpm.agent.TpmAgentSettings;
import java.nio.file.Path;
import java.security.SecureRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The agent's {@code tpm} NodeAttestor on swtpm: payload, challenge checks, renewal evidence, TPM failures. */
@WithSwtpm
class TpmNodeAttestorTest {

    @TempDir
    Path dir;
    private Swtpm swtpm;
    private NodeTpm tpm;
    private TpmNodeAttestor attestor;

    @BeforeEach
    void open(Swtpm swtpm) {
        this.swtpm = swtpm;
        swtpm.disconnect();
        tpm = new NodeTpm(TpmAgentSettings.defaults("tcp://127.0.0.1:" + swtpm.dataPort())
                .withEventLogPath(dir.resolve("no-event-log")));
        attestor = new TpmNodeAttestor(tpm);
    }

    @AfterEach
    void close() {
        tpm.close();
    }

    @Test
    void nameAndReuse() {
        assertEquals("tpm", attestor.name());
        assertTrue(attestor.reusable(), "a TPM attests again after eviction, unlike a join token");
    }

    @Test
    void payload_carriesTheNvEkCertificateAndTheAk() throws Exception {
        TpmAttestationPayload payload = TpmAttestationPayload.parseFrom(attestor.payload());
        tpm.release();
        assertArrayEquals(swtpm.ekCertificate().getEncoded(), payload.getEkCertificate().toByteArray());
        swtpm.disconnect();
        assertFalse(payload.getEkPublic().isEmpty());
        assertFalse(payload.getAkPublic().isEmpty());
        // The AK persists: a second payload (after the connection was released) names the same AK.
        assertEquals(payload, TpmAttestationPayload.parseFrom(attestor.payload()));
    }

    @Test
    void renewalEvidence_quotesTheRequestedPcrs() throws Exception {
        byte[] nonce = new byte[32];
        new SecureRandom().nextBytes(nonce);
        TpmRenewalEvidence evidence = TpmRenewalEvidence.parseFrom(attestor.renewalEvidence(TpmRenewalChallenge
                .newBuilder().setNonce(ByteString.copyFrom(nonce))
                .setPcrSelection(PcrSelection.newBuilder().setHashAlg(0x000B).addPcrs(0).addPcrs(16)).build()
                .toByteArray()).orElseThrow());
        assertEquals(java.util.Set.of(0, 16), evidence.getQuote().getPcrValuesMap().keySet());
        assertFalse(evidence.getQuote().getAttest().isEmpty());
        assertFalse(evidence.getQuote().getSignature().isEmpty());
    }

    @Test
    void answer_malformedChallenge_refusedBeforeTheTpm() {
        byte[] shortNonce = TpmChallenge.newBuilder().setCredentialBlob(ByteString.copyFrom(new byte[10]))
                .setEncryptedSecret(ByteString.copyFrom(new byte[256])).setNonce(ByteString.copyFrom(new byte[4]))
                .setPcrSelection(PcrSelection.newBuilder().setHashAlg(0x000B).addPcrs(0)).build().toByteArray();
        NodeAttestationException e = assertThrows(NodeAttestationException.class, () -> attestor.answer(shortNonce));
        assertEquals(TpmNodeAttestor.BAD_CHALLENGE + TpmAgentAttestor.CHALLENGE + TpmAgentAttestor.NONCE_SIZE,
                e.getMessage());
    }

    @Test
    void tpmUnreachable_failsWithTheReason() throws Exception {
        int port;
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = socket.getLocalPort();
        }
        try (NodeTpm gone = new NodeTpm(TpmAgentSettings.defaults("tcp://127.0.0.1:" + port))) {
            NodeAttestationException e = assertThrows(NodeAttestationException.class,
                    () -> new TpmNodeAttestor(gone).payload());
            assertTrue(e.getMessage().startsWith(TpmNodeAttestor.TPM_FAILED + "open TPM device tcp://127.0.0.1:"
                    + port + " failed: cannot connect"), e.getMessage());
        }
    }
}
