package dev.bourne.agent.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.bourne.core.config.ConfigSecret;
import dev.bourne.core.spiffeid.SpiffeId;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class JoinTokenAttestorTest {

    @Test
    void loggable_joinTokenAgentId_showsFingerprintNotToken() {
        String token = "5f2c7c1e-0d3f-4b8e-9a57-2d1e0c9b7a11";
        String shown = JoinTokenAttestor.loggable(SpiffeId.parse("spiffe://example.org/spire/agent/join_token/" + token));
        assertFalse(shown.contains(token), shown);
        // The oracle is coreutils' sha256sum, not our own digest code.
        assertEquals("spiffe://example.org/spire/agent/join_token/sha256:"
                + sha256Prefix(token), shown);
    }

    @Test
    void loggable_otherAgentIds_unchanged() {
        for (String id : new String[] {"spiffe://example.org/spire/agent/tpm/" + "ab".repeat(32),
                "spiffe://example.org/spire/agent/join_token/a/b", "spiffe://example.org/workload"}) {
            assertEquals(id, JoinTokenAttestor.loggable(SpiffeId.parse(id)));
        }
    }

    @Test
    void payload_isTheToken_andChallengesAreRefused() {
        JoinTokenAttestor attestor = new JoinTokenAttestor(new ConfigSecret("tok-1"));
        assertEquals("tok-1", new String(attestor.payload(), StandardCharsets.UTF_8));
        NodeAttestationException e = assertThrows(NodeAttestationException.class, () -> attestor.answer(new byte[1]));
        assertEquals(JoinTokenAttestor.UNEXPECTED_CHALLENGE, e.getMessage());
        assertFalse(attestor.reusable());
    }

    private static String sha256Prefix(String text) {
        try {
            Process p = new ProcessBuilder("sha256sum").start();
            p.getOutputStream().write(text.getBytes(StandardCharsets.UTF_8));
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            p.waitFor();
            return out.substring(0, 16);
        } catch (Exception e) {
            throw new AssertionError("sha256sum failed", e);
        }
    }
}
