package dev.bourne.agent.node;

import dev.bourne.agent.cache.WorkloadKeyGenerator;
import dev.bourne.testing.pki.TestCa;
import java.security.SecureRandom;

/** Agent SVIDs for the node package's tests: a fresh key pair and a leaf for a join-token agent ID, signed by a CA. */
final class TestAgentSvids {
    /** The agent ID the SVIDs name. */
    static final String AGENT_ID = "spiffe://example.org/spire/agent/join_token/t";

    private TestAgentSvids() {
    }

    /** An agent SVID with a new key, its chain signed by {@code ca}. */
    static AgentSvid issue(TestCa ca) throws Exception {
        WorkloadKeyGenerator.GeneratedKey key = new WorkloadKeyGenerator(new SecureRandom()).generate();
        return new AgentSvid(TestCa.svidChain(ca.leaf(AGENT_ID, key.publicKey()), ca), key.privateKey());
    }
}
