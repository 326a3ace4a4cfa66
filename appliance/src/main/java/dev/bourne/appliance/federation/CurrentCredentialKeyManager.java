package dev.bourne.appliance.federation;

import dev.bourne.appliance.agentapi.TlsCredential;
import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * A TLS server key manager that presents whatever credential {@code current} returns at the moment of each handshake:
 * the server SVID, which rotates, or certificate files, which an operator may replace.
 *
 * <p>JSSE asks for the alias first, then for the chain and the key by that alias. Each credential gets its own alias,
 * and the previous one stays resolvable, so a rotation between those calls can never pair one credential's chain with
 * another's key.
 */
final class CurrentCredentialKeyManager extends X509ExtendedKeyManager {

    private record Named(String alias, TlsCredential credential) {
    }

    private final Supplier<TlsCredential> current;
    private final AtomicLong generation = new AtomicLong();
    private final AtomicReference<Named[]> known = new AtomicReference<>(new Named[0]);

    CurrentCredentialKeyManager(Supplier<TlsCredential> current) {
        this.current = Objects.requireNonNull(current, "current");
    }

    @Override
    public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
        return choose(keyType);
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
        return choose(keyType);
    }

    private String choose(String keyType) {
        TlsCredential credential = current.get();
        if (credential == null || !fits(credential.privateKey(), keyType)) {
            return null;
        }
        return remember(credential);
    }

    /** Whether a key can serve the key type JSSE asks for ("EC", "RSA", "RSASSA-PSS", or TLS 1.2's "EC_EC"...). */
    private static boolean fits(PrivateKey key, String keyType) {
        String wanted = keyType.contains("_") ? keyType.substring(0, keyType.indexOf('_')) : keyType;
        return key.getAlgorithm().equals(wanted);
    }

    private String remember(TlsCredential credential) {
        while (true) {
            Named[] now = known.get();
            for (Named named : now) {
                if (named.credential() == credential) {
                    return named.alias();
                }
            }
            Named fresh = new Named("credential-" + generation.incrementAndGet(), credential);
            // The newest and the one before it: enough for a handshake that straddles one rotation.
            Named[] next = now.length == 0 ? new Named[] {fresh} : new Named[] {fresh, now[0]};
            if (known.compareAndSet(now, next)) {
                return fresh.alias();
            }
        }
    }

    private TlsCredential find(String alias) {
        for (Named named : known.get()) {
            if (named.alias().equals(alias)) {
                return named.credential();
            }
        }
        return null;
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
        TlsCredential credential = find(alias);
        return credential == null ? null : credential.chain().toArray(new X509Certificate[0]);
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
        TlsCredential credential = find(alias);
        return credential == null ? null : credential.privateKey();
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
        String alias = choose(keyType);
        return alias == null ? null : new String[] {alias};
    }

    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
        return null;
    }

    @Override
    public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
        return null;
    }
}
