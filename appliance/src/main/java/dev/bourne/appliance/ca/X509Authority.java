package dev.bourne.appliance.ca;

import dev.bourne.core.keymanager.ManagedKey;
import dev.bourne.core.keymanager.SignatureAlgorithm;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;

/**
 * An X.509 CA that can sign SVIDs: its key in the key manager, its certificate, and the chain from that certificate up
 * to (not including) the root that relying parties trust. For a self-signed root the chain is empty and the certificate
 * itself goes in the bundle; under an upstream authority the chain holds the upstream intermediates and the bundle
 * holds the upstream roots.
 *
 * <p>The authority ID is the hex subject key identifier of the CA certificate, as SPIRE's {@code localauthority}
 * commands print it. Not a record: it holds a key handle ({@code toString} names, never shows, it).
 */
public final class X509Authority {
    private final String slotId;
    private final ManagedKey key;
    private final X509Certificate certificate;
    private final List<X509Certificate> upstreamChain;
    private final String authorityId;

    /**
     * @param slotId the key manager key ID of the slot, such as {@code x509-CA-A}
     * @param upstreamChain certificates above {@code certificate} that SVID chains must carry, nearest first, without
     *     the trusted root; empty for a self-signed root
     */
    public X509Authority(String slotId, ManagedKey key, X509Certificate certificate,
            List<X509Certificate> upstreamChain, String authorityId) {
        this.slotId = Objects.requireNonNull(slotId, "slotId");
        this.key = Objects.requireNonNull(key, "key");
        this.certificate = Objects.requireNonNull(certificate, "certificate");
        this.upstreamChain = List.copyOf(upstreamChain);
        this.authorityId = Objects.requireNonNull(authorityId, "authorityId");
        if (!key.publicKey().equals(certificate.getPublicKey())) {
            throw new IllegalArgumentException("CA certificate " + authorityId + " does not certify key " + key.id());
        }
    }

    public String slotId() {
        return slotId;
    }

    public ManagedKey key() {
        return key;
    }

    public X509Certificate certificate() {
        return certificate;
    }

    /** Upstream intermediates above {@link #certificate()}, nearest first; empty for a self-signed root. */
    public List<X509Certificate> upstreamChain() {
        return upstreamChain;
    }

    /** Whether the CA certificate is its own issuer (no upstream authority). */
    public boolean selfSigned() {
        return certificate.getSubjectX500Principal().equals(certificate.getIssuerX500Principal());
    }

    /** The certificates an SVID chain carries after its leaf: this CA, unless it is a trusted root, then upstream. */
    public List<X509Certificate> intermediates() {
        if (selfSigned()) {
            return List.of();
        }
        List<X509Certificate> chain = new ArrayList<>(1 + upstreamChain.size());
        chain.add(certificate);
        chain.addAll(upstreamChain);
        return List.copyOf(chain);
    }

    /** Hex subject key identifier of the CA certificate. */
    public String authorityId() {
        return authorityId;
    }

    public Instant notAfter() {
        return certificate.getNotAfter().toInstant();
    }

    public Instant notBefore() {
        return certificate.getNotBefore().toInstant();
    }

    /** The algorithm this CA signs with: the default of its key type (ECDSA with the curve's hash, or RSA PKCS#1). */
    public SignatureAlgorithm signatureAlgorithm() {
        return key.type().defaultSignatureAlgorithm();
    }

    /** Lowercase hex of a subject key identifier's key bytes. */
    public static String hex(byte[] keyIdentifier) {
        return HexFormat.of().formatHex(keyIdentifier);
    }

    @Override
    public String toString() {
        return "X509Authority{" + authorityId + ", slot " + slotId + ", until " + notAfter() + "}";
    }
}
