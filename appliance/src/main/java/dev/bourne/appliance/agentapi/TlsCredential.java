package dev.bourne.appliance.agentapi;

import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Objects;

/**
 * The key and certificate chain the agent API presents in TLS (the server SVID). A final class, not a record: it
 * holds a private key, and {@link #toString()} shows only the leaf's subject and expiry.
 */
public final class TlsCredential {
    private final PrivateKey privateKey;
    private final List<X509Certificate> chain;

    public TlsCredential(PrivateKey privateKey, List<X509Certificate> chain) {
        this.privateKey = Objects.requireNonNull(privateKey, "privateKey");
        this.chain = List.copyOf(chain);
        if (this.chain.isEmpty()) {
            throw new IllegalArgumentException("a TLS credential needs at least its leaf certificate");
        }
    }

    public PrivateKey privateKey() {
        return privateKey;
    }

    /** Leaf first. */
    public List<X509Certificate> chain() {
        return chain;
    }

    @Override
    public String toString() {
        return "TlsCredential[" + chain.get(0).getSubjectX500Principal() + ", notAfter="
                + chain.get(0).getNotAfter().toInstant() + "]";
    }
}
