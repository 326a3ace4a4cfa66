package dev.bourne.agent.node;

import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * The client side of the agent's mTLS: presents the current agent SVID. Renewal swaps the SVID atomically, so every
 * new handshake uses the new certificate and key while connections already open finish with the old one.
 */
public final class AgentKeys extends X509ExtendedKeyManager {
    private static final String ALIAS_PREFIX = "agent-svid-";
    private final AtomicReference<Generation> current = new AtomicReference<>();
    private final AtomicReference<Generation> previous = new AtomicReference<>();

    /** One SVID with the number of its swap: the alias names it, so a chain and a key always come from one SVID. */
    private record Generation(long number, AgentSvid svid) {
        String alias() {
            return ALIAS_PREFIX + number;
        }
    }

    /** Presents {@code svid} from the next handshake on. */
    public synchronized void set(AgentSvid svid) {
        Generation old = current.get();
        previous.set(old);
        current.set(new Generation(old == null ? 1 : old.number() + 1, svid));
    }

    /** Presents nothing (before attestation, or after the server forgot the agent). */
    public synchronized void clear() {
        previous.set(null);
        current.set(null);
    }

    public Optional<AgentSvid> current() {
        Generation g = current.get();
        return g == null ? Optional.empty() : Optional.of(g.svid());
    }

    private String alias() {
        Generation g = current.get();
        return g == null ? null : g.alias();
    }

    /** The SVID an alias names: the current one, or the one just replaced while a handshake was choosing. */
    private AgentSvid byAlias(String alias) {
        for (Generation g : new Generation[] {current.get(), previous.get()}) {
            if (g != null && g.alias().equals(alias)) {
                return g.svid();
            }
        }
        return null;
    }

    @Override
    public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
        return alias();
    }

    @Override
    public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) {
        return alias();
    }

    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
        String alias = alias();
        return alias == null ? new String[0] : new String[] {alias};
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
        AgentSvid svid = byAlias(alias);
        return svid == null ? null : svid.chain().toArray(new X509Certificate[0]);
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
        AgentSvid svid = byAlias(alias);
        return svid == null ? null : svid.privateKey();
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
        return new String[0];
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
        return null;
    }
}
