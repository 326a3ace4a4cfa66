package dev.bourne.agent.node;

import dev.bourne.agent.workloadapi.WorkloadKey;
import dev.bourne.core.spiffeid.SpiffeId;
import dev.bourne.core.svid.x509.X509Svid;
import dev.bourne.core.svid.x509.X509SvidException;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * The agent's own X.509-SVID ({@code spiffe://<td>/spire/agent/...}) with its private key: the client certificate of
 * every mTLS call to the server after attestation. Not a record: it holds a key; {@link #toString} shows no secret.
 */
public final class AgentSvid {
    private final X509Svid svid;
    private final WorkloadKey pkcs8;
    private final PrivateKey privateKey;

    /**
     * @param chain the certificate chain, leaf first, as the server returned it
     * @param pkcs8 the private key the agent generated for it, PKCS#8 DER
     */
    public AgentSvid(List<X509Certificate> chain, WorkloadKey pkcs8) throws X509SvidException {
        this.svid = X509Svid.parse(chain);
        this.pkcs8 = Objects.requireNonNull(pkcs8, "pkcs8");
        try {
            this.privateKey = KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(pkcs8.pkcs8()));
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("the agent key is not a PKCS#8 EC key", e);
        }
    }

    public SpiffeId spiffeId() {
        return svid.spiffeId();
    }

    public List<X509Certificate> chain() {
        return svid.chain();
    }

    public X509Certificate leaf() {
        return svid.leaf();
    }

    public Instant notBefore() {
        return leaf().getNotBefore().toInstant();
    }

    public Instant notAfter() {
        return leaf().getNotAfter().toInstant();
    }

    /** When to renew: half-way through the certificate's lifetime (SPIRE's rule). */
    public Instant renewAt() {
        return halfLife(notBefore(), notAfter());
    }

    /**
     * Whether the private key is the certificate's: signs a fixed message with it and verifies with the leaf's public
     * key (a key loaded from disk is self-tested before it is used, as every key on activation).
     */
    public boolean keyMatchesLeaf() {
        try {
            byte[] message = "bourne agent key self-test".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            Signature signer = Signature.getInstance("SHA256withECDSA");
            signer.initSign(privateKey);
            signer.update(message);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance("SHA256withECDSA");
            verifier.initVerify(leaf().getPublicKey());
            verifier.update(message);
            return verifier.verify(signature);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    /** The key for the TLS handshake. */
    PrivateKey privateKey() {
        return privateKey;
    }

    /** The key as PKCS#8, for the disk store only. */
    WorkloadKey pkcs8() {
        return pkcs8;
    }

    /** The instant half-way between {@code notBefore} and {@code notAfter}. */
    public static Instant halfLife(Instant notBefore, Instant notAfter) {
        return notBefore.plus(Duration.between(notBefore, notAfter).dividedBy(2));
    }

    @Override
    public String toString() {
        return "AgentSvid[" + spiffeId() + ", until " + notAfter() + ", key redacted]";
    }
}
