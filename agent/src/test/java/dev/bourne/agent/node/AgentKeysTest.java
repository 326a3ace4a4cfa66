package dev.bourne.agent.node;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.bourne.testing.pki.TestCa;
import java.security.cert.X509Certificate;
import org.junit.jupiter.api.Test;

class AgentKeysTest {
    private final TestCa ca = TestCa.root("example.org");

    @Test
    void beforeAttestation_noClientCertificate() {
        AgentKeys keys = new AgentKeys();
        assertNull(keys.chooseEngineClientAlias(new String[] {"EC"}, null, null));
    }

    @Test
    void swap_aliasChosenBeforeTheSwapStillYieldsAMatchingChainAndKey() throws Exception {
        AgentKeys keys = new AgentKeys();
        AgentSvid first = TestAgentSvids.issue(ca);
        keys.set(first);
        String alias = keys.chooseEngineClientAlias(new String[] {"EC"}, null, null);

        AgentSvid second = TestAgentSvids.issue(ca);
        keys.set(second);

        // A handshake that chose its alias before the swap gets the old pair, never a mix.
        assertArrayEquals(first.chain().toArray(new X509Certificate[0]), keys.getCertificateChain(alias));
        assertSame(first.privateKey(), keys.getPrivateKey(alias));
        String next = keys.chooseEngineClientAlias(new String[] {"EC"}, null, null);
        assertNotEquals(alias, next);
        assertSame(second.privateKey(), keys.getPrivateKey(next));
    }

    @Test
    void clear_presentsNothing() throws Exception {
        AgentKeys keys = new AgentKeys();
        keys.set(TestAgentSvids.issue(ca));
        String alias = keys.chooseEngineClientAlias(new String[] {"EC"}, null, null);
        keys.clear();
        assertNull(keys.chooseEngineClientAlias(new String[] {"EC"}, null, null));
        assertNull(keys.getPrivateKey(alias));
    }
}
