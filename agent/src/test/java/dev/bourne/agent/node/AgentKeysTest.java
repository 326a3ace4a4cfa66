package dev.bourne.agent.node;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.bourne.agent.cache.WorkloadKeyGenerator;
import dev.bourne.testing.pki.TestCa;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import org.junit.jupiter.api.Test;

class AgentKeysTest {
    private final TestCa ca = TestCa.root("example.org");

    private AgentSvid svid() throws Exception {
        WorkloadKeyGenerator.GeneratedKey key = new WorkloadKeyGenerator(new SecureRandom()).generate();
        return new AgentSvid(TestCa.svidChain(ca.leaf("spiffe://example.org/spire/agent/join_token/t",
                key.publicKey()), ca), key.privateKey());
    }

    @Test
    void beforeAttestation_noClientCertificate() {
        AgentKeys keys = new AgentKeys();
        assertNull(keys.chooseEngineClientAlias(new String[] {"EC"}, null, null));
    }

    @Test
    void swap_aliasChosenBeforeTheSwapStillYieldsAMatchingChainAndKey() throws Exception {
        AgentKeys keys = new AgentKeys();
        AgentSvid first = svid();
        keys.set(first);
        String alias = keys.chooseEngineClientAlias(new String[] {"EC"}, null, null);

        AgentSvid second = svid();
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
        keys.set(svid());
        String alias = keys.chooseEngineClientAlias(new String[] {"EC"}, null, null);
        keys.clear();
        assertNull(keys.chooseEngineClientAlias(new String[] {"EC"}, null, null));
        assertNull(keys.getPrivateKey(alias));
    }
}
